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
// Limits. Every byte a connection holds counts against one: the bytes received and not yet
// parsed (a head, a chunk-size line with its extensions, a trailer section) against
// header_limit, checked each time the parser asks for more, the body against body_limit (the
// parser's own). Answers go out through net::send, whose queue the peer drains as it reads:
// after each answer, while net::queued_bytes is over output_high_water the connection reads
// nothing (a pipelining client that never reads is held back by TCP, as above); it looks again
// on a short sleep (1 ms, doubling to 50 ms) and is cut when the queue has not shrunk for
// write_timeout. While it waits for a request it holds no buffer: the one bytes land in is the
// IO thread's (net/io.cpp), and buffer_ is released when it empties.
//
// Framing (RFC 9112 §6). Once a request's head is parsed, before its body: a Transfer-Encoding
// whose final coding is not chunked, Transfer-Encoding with Content-Length, an HTTP/1.1 request
// with no Host or two, are answered 400 and the connection closes (the body's end is unknown: it
// must not be read as the next request); an HTTP/1.0 request with Transfer-Encoding is answered,
// then the connection closes. Then the Host, Origin and Content-Type checks of Options (421,
// 403, 415; the connection goes on).
//
// Timeouts are the receive's own (no timer, no OS thread held): while no byte of a request
// has arrived the wait is idle_timeout, after which the connection closes silently; once the
// first byte of a request has arrived, the whole request must be in by read_timeout from then,
// else 408 and close.
//
// Errors. A request the parser rejects gets 400 (431 for a header over header_limit, 413 for a
// body over body_limit) and the connection closes, since the stream cannot be trusted after it.
// Refusals are counted (Stats::refused, Stats::connection_cut) and logged at most once a second
// (RefusalLog).
// A handler that throws http::Error answers that status and the connection goes on; any other
// exception answers 500 {"error":"internal error"}, is logged (the method and path, never the
// body), and ends the connection. Every 5xx is logged once.
//
// Without a socket (answer_bytes): the same Connection, given all the bytes at once and a
// string for what it sends; it serves the buffer and stops where the socket would have waited.
//
// Shutdown. A connection traps exits: the runtime's `shutdown` signal (the service stopping on
// SIGTERM) arrives as a message, so a request being handled then is answered (a handler that
// fails meanwhile, its calls refused by stopped servers, answers 503), with Connection: close,
// and the connection ends; one waiting for a request ends at once (a partly read request gets
// 503). The runtime's grace period bounds how long this may take. A WebSocket connection
// stops trapping: its handler may run for hours, and is ended with the other processes.
//
// WebSocket. A request whose route is a WebSocket route (Router::websocket) is checked for
// the upgrade headers (426 or 400 when they are wrong, and the connection goes on); a good one
// is answered 101 and the process becomes the WebSocket's: the bytes left in the buffer are the
// first frames, the handler runs here (WebSocket::receive waits on this mailbox like the loop
// above, the socket still in active::once), and when it returns or throws the close handshake
// ends the connection. Frames: ws_frame.cpp; messages: websocket.cpp.
#include "connection.hpp"

#include <algorithm>
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

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The host of a Host header without its port: "example.com:80" -> "example.com", "[::1]:4000"
// -> "[::1]".
std::string_view host_name(std::string_view host) {
  if (host.starts_with('[')) return host.substr(0, host.find(']') + 1);
  return host.substr(0, host.find(':'));
}

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(
      a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::ranges::any_of(names, [&](const std::string& n) { return iequals(n, name); });
}

class Connection {
 public:
  Connection(std::shared_ptr<Shared> shared, net::Socket socket)
      : shared_(std::move(shared)),
        router_(shared_->router),
        options_(shared_->options),
        refusals_(shared_->refusals),
        socket_(std::move(socket)) {}
  // A connection without a socket: what it would send goes to `out` (answer_bytes).
  Connection(const Router& router, const Options& options, std::string* out)
      : router_(router), options_(options), refusals_(unshared_refusals()), out_(out) {}

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
      if (ec == bhttp::error::need_more) {
        // What the parser left is one unfinished line or section: a head, a chunk-size line
        // and its extensions, or trailers, none of which may grow past header_limit.
        if (buffer_.size() <= options_.header_limit) break;
        refuse(431, parser_->is_header_done() ? "chunk line or trailer section too large"
                                              : "request header fields too large");
        co_return false;
      }
      if (ec) {
        refuse(ec);
        co_return false;
      }
      if (parser_->is_header_done() && !framed_) {
        framed_ = true;
        if (auto refusal = check_framing()) {
          refuse(refusal->first, refusal->second);
          co_return false;
        }
      }
      if (!parser_->is_done() && parser_->is_header_done()) continue_if_expected();
      if (parser_->is_done()) {
        auto msg = parser_->release();
        parser_.reset();
        const bool keep_alive = msg.keep_alive() && !close_after_;
        http10_ = msg.version() == 10;
        head_ = msg.method() == bhttp::verb::head;
        Request req = to_request(std::move(msg));
        req.peer = socket_.peer_address();
        bool go_on = co_await answer(std::move(req), keep_alive);
        if (go_on) go_on = co_await drain_output();
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
        refuse(408, "request timeout");
        co_return false;
      }
    }
    if (buffer_.empty()) buffer_ = std::string();  // an idle connection holds no buffer
    if (!net::setopts(socket_, net::active::once)) co_return false;
    enum class Got : unsigned char { bytes, end, timeout, stop } got = Got::end;
    co_await otp::receive(
        [&](net::Tcp tcp) {
          if (buffer_.empty()) {
            buffer_ = std::move(tcp.data);
          } else {
            buffer_ += tcp.data;
          }
          got = Got::bytes;
        },
        [&](const net::TcpClosed&) { got = Got::end; },
        [&](const net::TcpError&) { got = Got::end; }, [&](const Exit&) { got = Got::stop; },
        otp::after(timeout, [&] { got = Got::timeout; }));
    if (got == Got::timeout && parser_) refuse(408, "request timeout");
    if (got == Got::stop && parser_) refuse(503, "shutting down");
    co_return got == Got::bytes;
  }

  // After an answer: waits, reading no request, while more than output_high_water of what was
  // sent is still queued; false when the queue has not shrunk for write_timeout (the peer does
  // not read) and the connection is cut.
  Co<bool> drain_output() {
    if (out_ != nullptr) co_return true;
    std::size_t queued = net::queued_bytes(socket_);
    Duration pause = std::chrono::milliseconds(1);
    Duration stalled_since = otp::now();
    while (queued > options_.output_high_water) {
      if (otp::now() - stalled_since >= options_.write_timeout) {
        if (auto* stats = options_.stats.get()) stats->connection_cut();
        refusals_.note(0, fmt::format("a peer that does not read ({} bytes unsent)", queued));
        co_return false;
      }
      co_await otp::sleep(pause);
      pause = std::min<Duration>(pause * 2, std::chrono::milliseconds(50));
      const std::size_t now_queued = net::queued_bytes(socket_);
      if (now_queued < queued) stalled_since = otp::now();
      queued = now_queued;
    }
    co_return true;
  }

  // Whether the runtime asked this process to stop (an Exit in the mailbox), without waiting.
  Co<bool> stop_asked() {
    if (out_ != nullptr) co_return false;
    bool asked = false;
    co_await otp::receive([&](const Exit&) { asked = true; }, otp::after(Duration::zero(), [] {}));
    co_return asked;
  }

  // A head whose body's end cannot be trusted (RFC 9112 §6.1, §6.3) or with no Host (§3.2):
  // the status and reason to refuse it with, or nullopt. Sets close_after_ for an HTTP/1.0
  // request with Transfer-Encoding.
  std::optional<std::pair<int, std::string>> check_framing() {
    const auto& head = parser_->get();
    std::string codings;
    for (const auto& field : head)
      if (field.name() == bhttp::field::transfer_encoding)
        codings += (codings.empty() ? "" : ",") + std::string(field.value());
    if (!codings.empty()) {
      const std::string_view all(codings);
      const auto comma = all.rfind(',');
      if (!iequals(trim(all.substr(comma == std::string_view::npos ? 0 : comma + 1)), "chunked"))
        return std::pair{400, "Transfer-Encoding must end with chunked"};
      if (head.find(bhttp::field::content_length) != head.end())
        return std::pair{400, "Transfer-Encoding with Content-Length"};
      // gzip, chunked: the body would reach the handler still gzipped. RFC 9112 suggests 501;
      // a 400 closes the connection all the same and keeps 5xx for the server's own faults.
      if (comma != std::string_view::npos)
        return std::pair{400, "transfer coding not supported: " + std::string(trim(all))};
      if (head.version() < 11) close_after_ = true;
    }
    if (head.version() >= 11 && head.count(bhttp::field::host) != 1)
      return std::pair{400, "an HTTP/1.1 request needs one Host header"};
    return std::nullopt;
  }

  // The refusals of Options that leave the connection open: 421, 403, 415; nullopt when none.
  std::optional<Response> check_policy(const Request& req) const {
    if (!options_.allowed_hosts.empty()) {
      const auto host = host_name(trim(req.header("Host").value_or("")));
      if (!listed(options_.allowed_hosts, host))
        return Response::error(421, "misdirected request: unknown host");
    }
    if (options_.allowed_origins) {
      // Its own origin: a page the server served itself (the observer's) talking back to it.
      if (auto origin = req.header("Origin");
          origin && !listed(*options_.allowed_origins, trim(*origin)) &&
          !iequals(trim(*origin), "http://" + std::string(trim(req.header("Host").value_or("")))))
        return Response::error(403, "forbidden: origin not allowed");
    }
    if (options_.json_bodies_only && !req.body.empty()) {
      auto type = req.header("Content-Type").value_or("");
      if (!iequals(trim(type.substr(0, type.find(';'))), "application/json"))
        return Response::error(415, "unsupported content type: expected application/json");
    }
    return std::nullopt;
  }

  void start_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser_->body_limit(options_.body_limit);
    deadline_ = otp::now() + options_.read_timeout;
    continued_ = framed_ = close_after_ = false;
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
      refuse(431, "request header fields too large");
    } else if (ec == bhttp::error::body_limit) {
      refuse(413, "payload too large");
    } else {
      refuse(400, ec.message());
    }
  }

  // Answers a refusal that closes the connection, counts and logs it. A HEAD whose head was
  // read gets the head of the answer only, whatever came after it (a framing check, the body's
  // limit, a read timeout); a refusal before the head was read answers in full.
  void refuse(int status, std::string_view why) {
    if (parser_ && parser_->is_header_done()) head_ = parser_->get().method() == bhttp::verb::head;
    const std::string message =
        status == 400 ? "bad request: " + std::string(why) : std::string(why);
    send(Response::error(status, message), false);
    note_refusal(status, why);
  }

  void note_refusal(int status, std::string_view why) {
    if (auto* stats = options_.stats.get()) stats->refused(status);
    refusals_.note(status, why);
  }

  static RefusalLog& unshared_refusals() {
    static RefusalLog log;
    return log;
  }

  // Runs the handler and sends its response; false when the connection must close.
  Co<bool> answer(Request req, bool keep_alive) {
    if (auto refused = check_policy(req)) {
      note_refusal(refused->status, fmt::format("{} {}", req.method, req.path));
      co_return send(*refused, keep_alive) && keep_alive;
    }
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
    const bool stopping = co_await stop_asked();
    if (crash && stopping) {  // most likely a call to a server stopped before this one
      refuse(503, "shutting down");
      co_return false;
    }
    if (crash) {
      otp::log::error("http: {} {} crashed: {}", req.method, req.path, *crash);
      send(Response::error(500, "internal error"), false);
      co_return false;
    }
    if (response.status >= 500)
      otp::log::error("http: {} {} answered {}", req.method, req.path, response.status);
    if (stopping) keep_alive = false;
    co_return send(response, keep_alive) && keep_alive;
  }

  static bool has_token(std::optional<std::string_view> value, std::string_view token) {
    return value && lowercase(*value).find(token) != std::string::npos;
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
    // A WebSocket lives until its handler returns, which need not be soon: the runtime's
    // shutdown ends it as it ends any process, instead of waiting out the grace period.
    otp::trap_exit(false);
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
  RefusalLog& refusals_;
  net::Socket socket_;
  std::string* out_ = nullptr;    // without a socket, what would be sent
  std::string buffer_;            // received, not yet parsed
  std::optional<Parser> parser_;  // set while a request is being read
  Duration deadline_{};           // when the request being read must be complete
  Clock::time_point started_{};   // its first byte, for the latency histogram
  bool continued_ = false;        // 100 Continue considered for the request being read
  bool framed_ = false;           // ... its head checked (check_framing)
  bool close_after_ = false;      // ... must be the connection's last (HTTP/1.0 with chunked)
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

void RefusalLog::note(int status, std::string_view why) {
  const auto n = throttle_.event();
  if (!n) return;  // a line for this second is written already
  const std::string what = status == 0 ? "cut" : std::to_string(status);
  otp::log::warning("http: {} refused since the last report; the latest: {} {}", *n, what, why);
}

Co<void> serve_connection(std::shared_ptr<Shared> shared) {
  otp::set_label("http connection");  // one of many, each its own client's
  otp::trap_exit(true);               // the runtime's shutdown is a message: see Shutdown above
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
