// The pieces of otp::http shared by the listener (server.cpp) and the connection processes
// (connection.cpp). Not installed.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "otp/co.hpp"
#include "otp/http/server.hpp"
#include "otp/http/websocket.hpp"
#include "otp/logger.hpp"
#include "otp/net/tcp.hpp"

namespace otp::http::detail {

// Refusals (a bad or too large request, a timeout, a cut connection, 503s) are logged at most
// once a second, with how many there were since the last line: a flood of bad requests must
// not become a flood of log lines. Any process may note one.
class RefusalLog {
 public:
  void note(int status, std::string_view why);

 private:
  log::Throttle throttle_{std::chrono::seconds(1)};
};

// What the listener and its connections share; connections hold it, so it outlives the
// listener while they last.
struct Shared {
  Shared(Router r, Options o) : router(std::move(r)), options(std::move(o)) {}
  const Router router;
  const Options options;
  std::atomic<std::size_t> open{0};  // connection processes alive (the listener counts them)
  RefusalLog refusals;
};

// The acceptor sends a new connection process its socket, once the socket is its own.
struct Handoff {
  net::Socket socket;
};

// The body of a connection process: waits for its Handoff, then serves the socket until the
// peer closes, a timeout, a bad request or a crashing handler ends it.
Co<void> serve_connection(std::shared_ptr<Shared> shared);

// What the connection needs of a WebSocket beyond its public face.
struct WsAccess {
  // How long a closing WebSocket waits for the peer's close frame.
  static constexpr Duration close_timeout = std::chrono::seconds(1);
  static WebSocket make(net::Socket socket, std::string buffered, std::size_t message_limit);
  // Sends a close frame with `code` unless one was sent, then waits up to close_timeout for
  // the peer's.
  static Co<void> finish(WebSocket& ws, std::uint16_t code);
};

// The bytes of a whole response: status line, headers, Content-Length, body.
std::string serialize(const Response& response, bool keep_alive, bool http10 = false);

}  // namespace otp::http::detail
