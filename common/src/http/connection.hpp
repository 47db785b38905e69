// The pieces of otp::http shared by the listener (server.cpp) and the connection processes
// (connection.cpp). Not installed.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "otp/co.hpp"
#include "otp/http/server.hpp"
#include "otp/net/tcp.hpp"

namespace otp::http::detail {

// What the listener and its connections share; connections hold it, so it outlives the
// listener while they last.
struct Shared {
  Shared(Router r, Options o) : router(std::move(r)), options(std::move(o)) {}
  const Router router;
  const Options options;
  std::atomic<std::size_t> open{0};  // connection processes alive (the listener counts them)
};

// The acceptor sends a new connection process its socket, once the socket is its own.
struct Handoff {
  net::Socket socket;
};

// The body of a connection process: waits for its Handoff, then serves the socket until the
// peer closes, a timeout, a bad request or a crashing handler ends it.
Co<void> serve_connection(std::shared_ptr<Shared> shared);

// The bytes of a whole response: status line, headers, Content-Length, body.
std::string serialize(const Response& response, bool keep_alive, bool http10 = false);

}  // namespace otp::http::detail
