// The pool serves through any of its connections, spreads commands over all of them, and keeps
// serving when one of them is killed.
#include "redis_pool.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "otp/testing/redis_server.hpp"

using lab::RedisPool;
using otp::redis::Reply;
using otp::redis::SimpleString;
using otp::testing::RedisServer;
using namespace std::chrono_literals;

namespace {

struct Started {};
struct Done {
  int ok;
  std::map<std::string, int> failures;  // reason -> count
};

otp::Co<void> incr_caller(otp::Pid report) {
  std::vector<std::string> incr{"INCR", "calls"};
  otp::send(report, Started{});
  Done done{0, {}};
  for (int i = 0; i < 300; ++i) {
    auto r = co_await RedisPool::command(incr);
    if (r.ok()) {
      ++done.ok;
    } else {
      ++done.failures[r.reason().to_string()];
    }
  }
  otp::send(report, std::move(done));
}

otp::Pid start_pool(otp::Scoped& me, const RedisServer& server, int size) {
  return me.await(RedisPool::start_link({.host = server.host(), .port = server.port()}, size))
      .pid();
}

// The pid registered under `name` once it is there and differs from `old`, within 10 s.
std::optional<otp::Pid> wait_for_new_pid(otp::Scoped& me, const std::string& name,
                                         const otp::Pid& old) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    if (auto pid = otp::whereis(name); pid && !(*pid == old)) return pid;
    me.receive<int>(20ms);  // a pause; no int ever comes
  }
  return std::nullopt;
}

}  // namespace

TEST(RedisPool, AnswersPingThroughAConnection) {
  RedisServer server;
  otp::Runtime rt;
  otp::Scoped me(rt);
  start_pool(me, server, 3);
  auto r = me.await(RedisPool::command({"PING"}));
  ASSERT_TRUE(r.ok()) << r.to_string();
  EXPECT_EQ(r.value(), Reply(SimpleString{"PONG"}));
}

TEST(RedisPool, SpreadsCommandsOverEveryConnection) {
  RedisServer server;
  otp::Runtime rt;
  otp::Scoped me(rt);
  start_pool(me, server, 2);
  std::set<std::int64_t> ids;
  for (int i = 0; i < 200; ++i) {
    auto r = me.await(RedisPool::command({"CLIENT", "ID"}));
    ASSERT_TRUE(r.ok()) << r.to_string();
    ids.insert(r.value().as_integer());
  }
  EXPECT_EQ(ids.size(), 2U);
}

TEST(RedisPool, AKilledConnectionIsRestartedAndThePoolKeepsServing) {
  RedisServer server;
  otp::Runtime rt;
  otp::Scoped me(rt);
  start_pool(me, server, 2);
  const auto name = RedisPool::connection_name(0);
  const auto old = otp::whereis(name);
  ASSERT_TRUE(old);

  constexpr int callers = 8;
  for (int c = 0; c < callers; ++c) rt.spawn(incr_caller, me.pid());
  for (int c = 0; c < callers; ++c) ASSERT_TRUE(me.receive<Started>(10s));
  otp::exit(*old, "kill");

  auto restarted = wait_for_new_pid(me, name, *old);
  ASSERT_TRUE(restarted) << name << " was not restarted";

  int answered = 0;
  std::map<std::string, int> failures;
  for (int c = 0; c < callers; ++c) {
    auto done = me.receive<Done>(60s);
    ASSERT_TRUE(done) << "a caller hangs";
    answered += done->ok;
    for (const auto& [reason, count] : done->failures) failures[reason] += count;
  }
  std::printf("during the kill: %d ok", answered);
  for (const auto& [reason, count] : failures) {
    std::printf(", %d %s", count, reason.c_str());
    answered += count;
  }
  std::printf("\n");
  EXPECT_EQ(answered, callers * 300);  // every command was answered, one way or the other

  for (int i = 0; i < 100; ++i) {
    auto r = me.await(RedisPool::command({"PING"}));
    ASSERT_TRUE(r.ok()) << "after the restart: " << r.to_string();
  }
}
