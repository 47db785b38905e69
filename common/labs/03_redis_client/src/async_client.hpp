// Step 2: a non-blocking client. The socket is in active::once, so the server is free between
// packets: a call writes its command and parks its caller (From) in a FIFO queue; each packet is
// fed to the parser and every complete reply answers the oldest caller. Many callers' commands
// are in flight at once on one connection.
//
// Faults of the original, fixed here: one reply per packet was assumed (the parser may complete
// several replies, or none); a lost connection slept 10 s inside the server (here a Reconnect
// message comes back after a backoff, 500 ms growing x1.5 to 30 s, and the server keeps
// answering meanwhile: `closed`); the callers waiting when the connection went were never
// answered (here each gets `disconnected`); a server down at start crashed the client (here the
// first connect is a Reconnect like any other).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "otp/net/tcp.hpp"
#include "otp/otp.hpp"
#include "otp/redis/resp.hpp"

namespace lab {

using RedisResult = otp::Result<otp::redis::Reply>;

struct AsyncState {
  std::string host;
  std::uint16_t port;
  otp::net::Socket socket;  // empty while disconnected
  otp::redis::Parser parser;
  std::deque<otp::From<RedisResult>> waiting;  // callers in the order their commands went out
  otp::Duration backoff = std::chrono::milliseconds(500);
};

class AsyncClient : public otp::GenServer<AsyncClient, AsyncState> {
 public:
  struct Command {
    std::vector<std::string> args;
  };
  struct Reconnect {};
  using Info = otp::Messages<otp::net::Tcp, otp::net::TcpClosed, otp::net::TcpError, Reconnect>;

  static otp::Start start_link(std::string host, std::uint16_t port) {
    return GenServer::start_link(std::move(host), port);
  }

  AsyncState init(std::string host, std::uint16_t port) {
    otp::send(otp::self(), Reconnect{});
    return AsyncState{std::move(host), port, {}, {}, {}};
  }

  otp::Reply<RedisResult> handle_call(Command command, otp::From<RedisResult> from) {
    // exercise: async-call — send, park the caller (From) in the queue, answer later
    auto& s = state();
    if (!s.socket) return RedisResult(otp::Reason::parse("closed"));
    std::string out;
    otp::redis::encode(out, command.args);
    if (auto sent = otp::net::send(s.socket, std::move(out)); !sent)
      return RedisResult(sent.reason());
    s.waiting.push_back(from);
    return otp::noreply;
    // end exercise
  }

  otp::Co<void> handle_info(Reconnect) {
    auto& s = state();
    auto socket = co_await otp::net::connect(s.host, s.port, std::chrono::seconds(5),
                                             {.active = otp::net::active::once});
    if (!socket) {
      retry_later();
      co_return;
    }
    s.socket = socket.value();
    s.parser = otp::redis::Parser{};
    s.backoff = std::chrono::milliseconds(500);
  }

  void handle_info(otp::net::Tcp tcp) {
    // exercise: async-replies — each whole reply answers the oldest caller; then active::once
    auto& s = state();
    if (!(tcp.socket == s.socket)) return;
    s.parser.feed(tcp.data);
    while (auto reply = s.parser.next()) {           // none, one or several replies per packet
      if (s.waiting.empty()) return lost(s.socket);  // a reply nobody asked for
      otp::reply(s.waiting.front(), RedisResult(std::move(*reply)));
      s.waiting.pop_front();
    }
    otp::net::setopts(s.socket, otp::net::active::once);
    // end exercise
  }
  void handle_info(otp::net::TcpClosed closed) { lost(closed.socket); }
  void handle_info(otp::net::TcpError error) { lost(error.socket); }

 private:
  void lost(const otp::net::Socket& socket) {
    auto& s = state();
    if (!(socket == s.socket)) return;
    otp::net::close(s.socket);
    s.socket = {};
    for (auto& from : s.waiting) otp::reply(from, RedisResult(otp::Reason::parse("disconnected")));
    s.waiting.clear();
    retry_later();
  }
  void retry_later() {
    auto& s = state();
    otp::send_after(s.backoff, otp::self(), Reconnect{});
    s.backoff = std::min<otp::Duration>(std::chrono::duration_cast<otp::Duration>(s.backoff * 1.5),
                                        std::chrono::seconds(30));
  }
};

}  // namespace lab
