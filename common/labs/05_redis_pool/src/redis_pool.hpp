// RedisPool: N connections to one Redis, under one Supervisor, and a command that goes to any of
// them.
//
//   auto pool = co_await lab::RedisPool::start_link({.host = "127.0.0.1", .port = 6379}, 4);
//   std::vector<std::string> args{"INCR", "visits"};
//   auto r = co_await lab::RedisPool::command(args);              // Result<Reply>
//
// The children are otp::redis::Connection processes with the local names redis_pool_0 ...
// redis_pool_{N-1}; the supervisor (one_for_one) restarts one that dies, under the same name.
// start_link stores N in PersistentTerm, so a command finds the pool's size with a lock-free read,
// picks an index with its thread's own generator and calls the connection by name: the name is
// resolved at the moment of the call, so a restarted connection is found, and no pool process
// stands between the callers and the connections. A call that meets no connection (one that
// died and is not back yet) is an error value (noproc), like any failed command.
// One pool per program: the names and the PersistentTerm key are fixed.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "otp/otp.hpp"
#include "otp/redis/connection.hpp"

namespace lab {

class RedisPool : public otp::Supervisor {
 public:
  static constexpr const char* size_key = "redis_pool_size";

  static otp::Start start_link(otp::redis::Options options, int size) {
    // exercise: pool-size — the size in PersistentTerm: a read without a lock
    otp::persistent_term::put(size_key, size);
    // end exercise
    // exercise: pool-children — N Connections "redis_pool_<i>", one_for_one, "redis_pool"
    std::vector<otp::ChildSpec> children;
    for (int i = 0; i < size; ++i) {
      children.push_back({.id = connection_name(i), .start = [options, i] {
                            return otp::redis::Connection::start_link(
                                otp::Name::local(connection_name(i)), options);
                          }});
    }
    return Supervisor::start_link(otp::Name::local("redis_pool"), std::move(children),
                                  {.strategy = otp::Strategy::one_for_one});
    // end exercise
  }

  // One command on a connection picked at random. Any process may call it.
  static otp::Co<otp::Result<otp::redis::Reply>> command(
      const std::vector<std::string>& args, otp::Duration timeout = otp::redis::default_timeout) {
    return otp::redis::command(random_connection(), args, timeout);
  }

  static std::string connection_name(int index) { return "redis_pool_" + std::to_string(index); }

 private:
  static std::string random_connection() {
    // exercise: pool-pick — a random index below the size; that connection's name
    thread_local std::minstd_rand generator{std::random_device{}()};
    std::uniform_int_distribution<int> index(0, otp::persistent_term::get<int>(size_key) - 1);
    return connection_name(index(generator));
    // end exercise
  }
};

}  // namespace lab
