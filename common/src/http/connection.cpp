// A connection process: HTTP/1.1 over one socket, the requests parsed by Boost.Beast.
//
// Design. The acceptor (server.cpp) spawns one process per accepted socket, unlinked, makes
// it the socket's controlling process and sends it a Handoff; the listener monitors it to count
// open connections. Everything about the connection then lives in this process: a handler's
// crash, a timeout or a bad request ends this process and no other.
//
// The loop. The socket is in active::once: at most one Tcp message waits in the mailbox, and
// the socket is re-armed only when the process is ready for more, so a client that sends faster
// than its requests are served is held back by TCP's flow control, not by our memory. Received
// bytes are appended to `buffer_` and fed to a beast request_parser with put(); put() consumes
// what it could parse and leaves the rest (an incomplete header is passed again, whole, with
// the bytes that follow it). A completed request is dispatched to the Router and answered
// before the next one is parsed, so pipelined requests are answered in order. A parser parses
// one message: each request gets a new one, limited by header_limit and body_limit.
//
// Timeouts are the receive's own (no timer, no OS thread held): while no byte of a request
// has arrived the wait is idle_timeout, after which the connection closes silently; once the
// first byte of a request has arrived, the whole request must be in by read_timeout from then,
// else 408 and close.
//
// Errors. A request the parser rejects gets 400 (431 for a header over header_limit, 413 for a
// body over body_limit) and the connection closes, since the stream cannot be trusted after it.
// A handler that throws http::Error answers that status and the connection goes on; any other
// exception answers 500 {"error":"internal error"}, is logged (the method and path, never the
// body), and ends the connection. Every 5xx is logged once.
//
// Without a socket (answer_bytes): the same Connection, given all the bytes at once and a
// string for what it sends; it serves the buffer and stops where the socket would have waited.
//
// WebSocket. A request whose route is a WebSocket route (Router::websocket) is checked for
// the upgrade headers (426 or 400 when they are wrong, and the connection goes on); a good one
// is answered 101 and the process becomes the WebSocket's: the bytes left in the buffer are the
// first frames, the handler runs here (WebSocket::receive waits on this mailbox like the loop
// above, the socket still in active::once), and when it returns or throws the close handshake
// ends the connection. Frames: ws_frame.cpp; messages: websocket.cpp.
#include "connection.hpp"

#include <cctype>
#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>

#include "otp/http/stats.hpp"
#include "otp/logger.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "ws_frame.hpp"

namespace otp::http::detail {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

using Clock = std::chrono::steady_clock;
using Parser = bhttp::request_parser<bhttp::string_body>;

bool has_no_body(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

Request to_request(bhttp::request<bhttp::string_body>&& msg) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  const auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  for (const auto& field : msg)
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  req.body = std::move(msg.body());
  return req;
}

class Connection {
 public:
  Connection(std::shared_ptr<Shared> shared, net::Socket socket)
      : shared_(std::move(shared)),
        router_(shared_->router),
        options_(shared_->options),
        socket_(std::move(socket)) {}
  // A connection without a socket: what it would send goes to `out` (answer_bytes).
  Connection(const Router& router, const Options& options, std::string* out)
      : router_(router), options_(options), out_(out) {}

  // GCC 12 miscompiles `for (;;) { if (!co_await f()) break; ... }` (the coroutine traps as
  // it starts): the results go through a variable.
  Co<void> run() {
    bool open = true;
    while (open) {
      open = co_await serve_buffered();
      if (open) open = co_await wait_for_bytes();
    }
    net::close(socket_);
  }

  // Serves `bytes` as if they had arrived at once and the peer had then closed its side.
  Co<void> run(std::string bytes) {
    buffer_ = std::move(bytes);
    co_await serve_buffered();
  }

 private:
  // Parses and answers what the buffer holds; false when the connection must close.
  Co<bool> serve_buffered() {
    while (!buffer_.empty()) {
      if (!parser_) start_request();
      beast::error_code ec;
      const auto n = parser_->put(boost::asio::buffer(buffer_.data(), buffer_.size()), ec);
      buffer_.erase(0, n);
      if (ec == bhttp::error::need_more) break;
      if (ec) {
        refuse(ec);
        co_return false;
      }
      if (!parser_->is_done() && parser_->is_header_done()) continue_if_expected();
      if (parser_->is_done()) {
        auto msg = parser_->release();
        parser_.reset();
        const bool keep_alive = msg.keep_alive();
        http10_ = msg.version() == 10;
        head_ = msg.method() == bhttp::verb::head;
        Request req = to_request(std::move(msg));
        const bool go_on = co_await answer(std::move(req), keep_alive);
        if (!go_on) co_return false;
        continue;
      }
      if (n == 0) break;
    }
    co_return true;
  }

  // Waits for the next bytes; false when the connection must close (the peer closed it, an
  // idle or read timeout).
  Co<bool> wait_for_bytes() {
    Duration timeout = options_.idle_timeout;
    if (parser_) {
      timeout = deadline_ - otp::now();
      if (timeout <= Duration::zero()) {
        send(Response::error(408, "request timeout"), false);
        co_return false;
      }
    }
    if (!net::setopts(socket_, net::active::once)) co_return false;
    enum class Got : unsigned char { bytes, end, timeout } got = Got::end;
    co_await otp::receive(
        [&](net::Tcp tcp) {
          buffer_ += tcp.data;
          got = Got::bytes;
        },
        [&](const net::TcpClosed&) { got = Got::end; },
        [&](const net::TcpError&) { got = Got::end; },
        otp::after(timeout, [&] { got = Got::timeout; }));
    if (got == Got::timeout && parser_) {
      send(Response::error(408, "request timeout"), false);
      co_return false;
    }
    co_return got == Got::bytes;
  }

  void start_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser_->body_limit(options_.body_limit);
    deadline_ = otp::now() + options_.read_timeout;
    continued_ = false;
    http10_ = head_ = false;  // until this request's line is read: a refusal answers in full
    started_ = Clock::now();
  }

  // A client that sent `Expect: 100-continue` waits for this before it sends the body.
  void continue_if_expected() {
    if (continued_) return;
    continued_ = true;
    const auto expect = parser_->get()[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue")) (void)write("HTTP/1.1 100 Continue\r\n\r\n");
  }

  // A request the parser rejected.
  void refuse(const beast::error_code& ec) {
    if (ec == bhttp::error::header_limit) {
      send(Response::error(431, "request header fields too large"), false);
    } else if (ec == bhttp::error::body_limit) {
      send(Response::error(413, "payload too large"), false);
    } else {
      send(Response::error(400, "bad request: " + ec.message()), false);
    }
  }

  // Runs the handler and sends its response; false when the connection must close.
  Co<bool> answer(Request req, bool keep_alive) {
    if (const WsHandler* ws = router_.websocket_route(req)) {
      auto refused = refuse_upgrade(req);
      if (!refused) refused = shared_->router.websocket_refusal(req);
      if (refused) co_return send(*refused, keep_alive) && keep_alive;
      co_await serve_websocket(*ws, req);
      co_return false;
    }
    Response response;
    std::optional<std::string> crash;
    try {
      response = co_await router_.dispatch(req);
    } catch (const std::exception& e) {
      crash = e.what();
    } catch (...) {
      crash = "unknown exception";
    }
    if (crash) {
      otp::log::error("http: {} {} crashed: {}", req.method, req.path, *crash);
      send(Response::error(500, "internal error"), false);
      co_return false;
    }
    if (response.status >= 500)
      otp::log::error("http: {} {} answered {}", req.method, req.path, response.status);
    co_return send(response, keep_alive) && keep_alive;
  }

  static bool has_token(std::optional<std::string_view> value, std::string_view token) {
    if (!value) return false;
    std::string lower(*value);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower.find(token) != std::string::npos;
  }

  // The answer to an upgrade request that cannot be served; nullopt for a good one.
  static std::optional<Response> refuse_upgrade(const Request& req) {
    if (!has_token(req.header("Upgrade"), "websocket") ||
        !has_token(req.header("Connection"), "upgrade")) {
      auto response = Response::error(426, "upgrade required: a WebSocket endpoint");
      response.headers.emplace_back("Upgrade", "websocket");
      return response;
    }
    if (req.header("Sec-WebSocket-Version").value_or("") != "13") {
      auto response = Response::error(426, "unsupported WebSocket version");
      response.headers.emplace_back("Sec-WebSocket-Version", "13");
      return response;
    }
    if (req.header("Sec-WebSocket-Key").value_or("").empty())
      return Response::error(400, "bad request: no Sec-WebSocket-Key");
    return std::nullopt;
  }

  Co<void> serve_websocket(const WsHandler& handler, Request& req) {
    const auto key = std::string(req.header("Sec-WebSocket-Key").value_or(""));
    (void)write(
        fmt::format("HTTP/1.1 101 Switching Protocols\r\n"
                    "Upgrade: websocket\r\n"
                    "Connection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: {}\r\n"
                    "Server: hangten\r\n\r\n",
                    ws::accept_key(key)));
    if (auto* stats = options_.stats.get()) {
      const std::chrono::duration<double> took = Clock::now() - started_;
      stats->record(101, took.count());
    }
    if (out_ != nullptr) co_return;  // no socket: the handshake is all there is to see
    WebSocket socket =
        WsAccess::make(socket_, std::exchange(buffer_, {}), options_.websocket_message_limit);
    std::optional<std::string> crash;
    try {
      co_await handler(socket, req);
    } catch (const std::exception& e) {
      crash = e.what();
    } catch (...) {
      crash = "unknown exception";
    }
    if (crash) otp::log::error("http: websocket {} crashed: {}", req.path, *crash);
    const std::uint16_t code = crash ? 1011 : 1000;
    co_await WsAccess::finish(socket, code);
  }

  bool send(const Response& response, bool keep_alive) {
    if (auto* stats = options_.stats.get()) {
      const std::chrono::duration<double> took = Clock::now() - started_;
      stats->record(response.status, took.count());
    }
    std::string bytes = serialize(response, keep_alive, http10_);
    if (head_ && !has_no_body(response.status))  // the head alone, its Content-Length too
      bytes.resize(bytes.size() - response.body.size());
    return write(std::move(bytes));
  }

  bool write(std::string bytes) {
    if (out_ != nullptr) {
      *out_ += bytes;
      return true;
    }
    return static_cast<bool>(net::send(socket_, std::move(bytes)));
  }

  std::shared_ptr<Shared> shared_;  // keeps router_ and options_ (null without a socket)
  const Router& router_;
  const Options& options_;
  net::Socket socket_;
  std::string* out_ = nullptr;    // without a socket, what would be sent
  std::string buffer_;            // received, not yet parsed
  std::optional<Parser> parser_;  // set while a request is being read
  Duration deadline_{};           // when the request being read must be complete
  Clock::time_point started_{};   // its first byte, for the latency histogram
  bool continued_ = false;        // 100 Continue considered for the request being read
  bool http10_ = false;           // the request being answered is HTTP/1.0
  bool head_ = false;             // ... is a HEAD: its answer has no body
};

}  // namespace

std::string serialize(const Response& response, bool keep_alive, bool http10) {
  const auto status = bhttp::int_to_status(static_cast<unsigned>(response.status));
  const auto obsolete = bhttp::obsolete_reason(status);
  std::string_view reason(obsolete.data(), obsolete.size());
  if (status == bhttp::status::unknown) reason = "Unknown";
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", response.status, reason);
  for (const auto& [name, value] : response.headers) {
    if (name == "Content-Length" || name == "Connection") continue;
    out += fmt::format("{}: {}\r\n", name, value);
  }
  if (!has_no_body(response.status))
    out += fmt::format("Content-Length: {}\r\n", response.body.size());
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (http10) {
    out += "Connection: keep-alive\r\n";  // HTTP/1.0 closes unless told otherwise
  }
  out += "Server: hangten\r\n\r\n";
  if (!has_no_body(response.status)) out += response.body;
  return out;
}

Co<void> serve_connection(std::shared_ptr<Shared> shared) {
  auto handoff = co_await otp::receive<Handoff>();
  Connection connection(std::move(shared), std::move(handoff.socket));
  co_await connection.run();
}

}  // namespace otp::http::detail

namespace otp::http {

Co<std::string> answer_bytes(const Router& router, const Options& options, std::string bytes) {
  std::string out;
  detail::Connection connection(router, options, &out);
  co_await connection.run(std::move(bytes));
  co_return out;
}

}  // namespace otp::http
