// otp::redis::Connection — one TCP connection to Redis, shared by any number of processes.
//
//   auto conn = co_await otp::redis::Connection::start_link({.host = "127.0.0.1", .port = 6379});
//   auto r = co_await otp::redis::command(conn.pid(), {"SET", "k", "v"});         // Result<Reply>
//   auto rs = co_await otp::redis::pipeline(conn.pid(), {{"INCR", "n"}, {"GET", "n"}});
//
// Design. The connection is a StateMachine with three states:
//   connecting    one net::connect in flight; requests are postponed and go out once connected.
//   connected     the socket is in active::once. A request is encoded by its caller and written by
//                 the machine as it comes (held back only while the socket's send queue is not
//                 yet empty, then written together), so requests of many callers are pipelined,
//                 and its caller's ReplyTo joins a FIFO queue with the number of replies it
//                 expects. Each Tcp message is fed to the RESP Parser, which may complete several
//                 replies or none (a reply split over packets); completed replies answer the
//                 front of the queue in order. Then the socket is re-armed.
//   disconnected  after a failed connect or a lost connection: every queued caller gets
//                 `disconnected`, requests fail at once with `closed`, and a state_timeout brings
//                 the machine back to connecting after a backoff (500 ms, x1.5, at most 30 s,
//                 back to 500 ms once connected). Starting while Redis is down is no error.
// Timeouts belong to the callers: a call's tag is a monitor alias that ends with the call, so a
// reply that comes after its caller gave up is dropped by the runtime and never reaches the
// caller's mailbox. Its entry stays in the queue, keeping the FIFO matching right.
// Inside a coroutine GCC 12 rejects a braced list within a co_await (docs/reference.md): name
// the arguments first, `std::vector<std::string_view> args{"GET", k}; co_await command(c, args);`.
// A Redis error reply (`-ERR ...`) is an ordinary Reply of kind error; a Result fails only for
// `timeout`, `closed`, `disconnected` or `noproc` (no connection process).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "otp/co.hpp"
#include "otp/net/tcp.hpp"
#include "otp/redis/resp.hpp"
#include "otp/result.hpp"
#include "otp/state_machine.hpp"

namespace otp::redis {

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  Duration connect_timeout = std::chrono::seconds(5);
  Duration backoff_initial = std::chrono::milliseconds(500);
  double backoff_factor = 1.5;
  Duration backoff_max = std::chrono::seconds(30);

  // The options of a URL as a person writes it: redis://host[:port] (6379 when left out), a
  // host in brackets when it is IPv6. Anything else throws std::invalid_argument with a message
  // fit for the person who typed it; a user, a password or a database number are refused by
  // name (not supported yet) rather than ignored.
  static Options from_url(std::string_view url);
};

inline constexpr Duration default_timeout = std::chrono::seconds(5);

// A caller waiting for `count` replies (1 for a command; a pipeline's length).
struct Waiting {
  ReplyTo to;
  std::size_t count;
  bool pipeline;
  std::vector<Reply> replies;
};

struct ConnectionData {
  Options options;
  net::Socket socket;
  Parser parser;
  std::deque<Waiting> waiting;
  Duration backoff;
  std::string unsent;  // commands held back while the socket's send queue is not empty
  // Failed connects since the connection was last up (0: up, or the first connect): the loss is
  // logged once, at the first, and the return once, with the count.
  std::uint64_t failed_connects = 0;
  bool ever_connected = false;
};

class Connection : public StateMachine<Connection, ConnectionData> {
 public:
  // The requests, encoded by the caller (see command and pipeline below).
  struct Command {
    using Reply = Result<redis::Reply>;
    std::string encoded;
  };
  struct Pipeline {
    using Reply = Result<std::vector<redis::Reply>>;
    std::string encoded;
    std::size_t count;
  };

  static Start start_link(Options options);
  static Start start_link(Name name, Options options);
  static Start start(Options options);

  ConnectionData init(Options options);
  Co<void> connecting(Event& ev);
  void connected(Event& ev);
  void disconnected(Event& ev);
  std::string format_state();

 private:
  void write(std::string bytes);
  void deliver();
  void lose_connection();
};

namespace detail {
template <class R, class Dest, class Req>
Co<R> call_connection(Dest conn, Req req, Duration timeout) {
  using D = otp::detail::stored_dest_t<Dest>;
  using Msg = otp::detail::StateCall<Connection, Req, R>;
  Msg msg{std::move(req), {}};  // named: GCC 12 frees a braced temporary in a co_await twice
  auto result = co_await otp::detail::CallOp<R, D, Msg, false>(D(std::move(conn)), std::move(msg),
                                                               timeout, ":gen_statem.call",
                                                               otp::detail::type_name_v<Req>);
  if (!result) co_return R(result.reason());
  co_return std::move(result).value();
}
}  // namespace detail

// One command, e.g. command(conn, {"SET", key, value}, 1s). Any process may call it.
template <otp::Destination Dest>
Co<Result<Reply>> command(Dest conn, std::initializer_list<std::string_view> args,
                          Duration timeout = default_timeout) {
  Connection::Command req;
  encode(req.encoded, args);
  return detail::call_connection<Result<Reply>>(std::move(conn), std::move(req), timeout);
}
template <otp::Destination Dest, CommandArgs R>
Co<Result<Reply>> command(Dest conn, const R& args, Duration timeout = default_timeout) {
  Connection::Command req;
  encode(req.encoded, args);
  return detail::call_connection<Result<Reply>>(std::move(conn), std::move(req), timeout);
}

// Several commands written at once; their replies in order (Redis errors among them as values).
template <otp::Destination Dest>
Co<Result<std::vector<Reply>>> pipeline(
    Dest conn, std::initializer_list<std::initializer_list<std::string_view>> commands,
    Duration timeout = default_timeout) {
  Connection::Pipeline req{{}, commands.size()};
  encode_pipeline(req.encoded, commands);
  return detail::call_connection<Result<std::vector<Reply>>>(std::move(conn), std::move(req),
                                                             timeout);
}
template <otp::Destination Dest, std::ranges::input_range Rs>
requires CommandArgs<std::ranges::range_value_t<Rs>> Co<Result<std::vector<Reply>>> pipeline(
    Dest conn, const Rs& commands, Duration timeout = default_timeout) {
  Connection::Pipeline req{{}, 0};
  for (const auto& c : commands) {
    encode(req.encoded, c);
    ++req.count;
  }
  return detail::call_connection<Result<std::vector<Reply>>>(std::move(conn), std::move(req),
                                                             timeout);
}

}  // namespace otp::redis
