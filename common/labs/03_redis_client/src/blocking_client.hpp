// Step 1: a blocking client. One GenServer, one passive socket, one command at a time: the call
// writes the command and reads until the parser holds a whole reply, then answers.
//
// Faults of the original, fixed here: a reply was assumed to come in one packet (here the loop
// reads until the parser has a complete reply); a server that was down at start crashed the
// client (here the socket is opened on first use, and a failed connect is an error value).
// A recv that times out leaves the stream out of step with the callers, so the socket is
// dropped and the next call opens a new one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "otp/net/tcp.hpp"
#include "otp/otp.hpp"
#include "otp/redis/resp.hpp"

namespace lab {

using RedisResult = otp::Result<otp::redis::Reply>;

struct BlockingState {
  std::string host;
  std::uint16_t port;
  otp::net::Socket socket;  // empty until the first command, and after a failure
  otp::redis::Parser parser;
};

class BlockingClient : public otp::GenServer<BlockingClient, BlockingState> {
 public:
  struct Command {
    std::vector<std::string> args;
  };

  static otp::Start start_link(std::string host, std::uint16_t port) {
    return GenServer::start_link(std::move(host), port);
  }

  BlockingState init(std::string host, std::uint16_t port) {
    return {std::move(host), port, {}, {}};
  }

  otp::Co<RedisResult> handle_call(Command command) {
    auto& s = state();
    if (!s.socket) {
      auto socket = co_await otp::net::connect(s.host, s.port, std::chrono::seconds(1));
      if (!socket) co_return socket.reason();
      s.socket = socket.value();
      s.parser = otp::redis::Parser{};
    }
    std::string out;
    otp::redis::encode(out, command.args);
    if (auto sent = otp::net::send(s.socket, std::move(out)); !sent) co_return drop(sent.reason());
    // exercise: blocking-read-reply — recv and feed until a whole reply; a failed recv drops
    while (s.parser.ready() == 0) {  // a reply may span several packets
      auto bytes = co_await otp::net::recv(s.socket, 0, std::chrono::seconds(5));
      if (!bytes) co_return drop(bytes.reason());
      s.parser.feed(bytes.value());
    }
    // end exercise
    co_return *s.parser.next();
  }

 private:
  otp::Reason drop(otp::Reason why) {
    otp::net::close(state().socket);
    state().socket = {};
    return why;
  }
};

}  // namespace lab
