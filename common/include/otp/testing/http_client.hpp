// otp::testing::HttpClient — a blocking HTTP/1.1 client for tests (Boost.Beast), header-only.
//
//   otp::testing::HttpClient client("127.0.0.1", port);
//   auto reply = client.post("/sessions", R"({"login":"eric"})");
//   EXPECT_EQ(reply.status, 201);
//   EXPECT_EQ(reply.json()["login"], "eric");
//
// One keep-alive connection, opened on the first request and again after the server closed
// it. Every wait is bounded by `timeout` (10 s by default); a failure to connect, write or read
// throws std::runtime_error. Needs Boost and nlohmann_json where it is included.
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>

namespace otp::testing {

struct HttpReply {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header of that name, case-insensitively.
  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < k.size() && same; ++i)
        same = std::tolower(static_cast<unsigned char>(k[i])) ==
               std::tolower(static_cast<unsigned char>(name[i]));
      if (same) return v;
    }
    return std::nullopt;
  }
  // The body as JSON (throws nlohmann::json::parse_error when it is not).
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

class HttpClient {
 public:
  HttpClient(std::string host, std::uint16_t port,
             std::chrono::steady_clock::duration timeout = std::chrono::seconds(10))
      : host_(std::move(host)), port_(port), timeout_(timeout) {}

  HttpReply request(std::string_view method, std::string_view target, std::string body = {},
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req;
    req.method_string(boost::beast::string_view(method.data(), method.size()));
    req.target(boost::beast::string_view(target.data(), target.size()));
    req.version(11);
    req.set(http::field::host, host_);
    bool has_type = false;
    for (const auto& [k, v] : headers) {
      req.set(boost::beast::string_view(k), v);
      has_type = has_type || boost::beast::iequals(k, "content-type");
    }
    if (!body.empty() && !has_type) req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();

    // A kept connection the server has closed since fails on the first write or read: retry
    // once on a fresh one.
    const bool reused = stream_.has_value();
    try {
      return exchange(req);
    } catch (const std::runtime_error&) {
      if (!reused) throw;
    }
    close();
    return exchange(req);
  }
  HttpReply get(std::string_view target) { return request("GET", target); }
  HttpReply post(std::string_view target, std::string body = {}) {
    return request("POST", target, std::move(body));
  }
  HttpReply del(std::string_view target) { return request("DELETE", target); }

  // Writes `bytes` on a fresh connection and returns everything the server sends until it
  // closes the connection (or `timeout` passes).
  std::string raw(std::string_view bytes) {
    boost::asio::io_context ioc;
    boost::beast::tcp_stream stream(ioc);
    open(ioc, stream);
    boost::system::error_code ec;
    stream.expires_after(timeout_);
    boost::asio::async_write(stream, boost::asio::buffer(bytes.data(), bytes.size()),
                             [&](boost::system::error_code e, std::size_t) { ec = e; });
    run(ioc);
    if (ec) throw std::runtime_error("HttpClient: write failed: " + ec.message());
    std::string out;
    char chunk[4096];
    for (bool more = true; more;) {
      stream.async_read_some(boost::asio::buffer(chunk),
                             [&](boost::system::error_code e, std::size_t n) {
                               out.append(chunk, n);
                               more = !e;
                             });
      run(ioc);
    }
    return out;
  }

  // After a request: whether the server has closed the connection. When the last response
  // said `Connection: close` this waits (up to `timeout`) for the close to arrive.
  bool closed_by_peer() {
    return wait_closed(last_keep_alive_ ? std::chrono::milliseconds(0) : timeout_);
  }

  // Waits up to `timeout` for the server to close the kept connection; true when it did.
  bool wait_closed(std::chrono::steady_clock::duration timeout) {
    if (!stream_) return true;
    const int fd = stream_->socket().native_handle();
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      pollfd p{fd, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
      if (ready > 0) {
        char c;
        const auto n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n <= 0) {
          close();
          return true;
        }
        return false;  // bytes nobody asked for: open, if out of step
      }
      if (ready < 0 || left.count() <= 0) return false;
    }
  }

  void close() {
    stream_.reset();
    buffer_.clear();
  }

 private:
  using Stream = boost::beast::tcp_stream;

  void open(boost::asio::io_context& ioc, Stream& stream) {
    boost::asio::ip::tcp::resolver resolver(ioc);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
    if (!ec) {
      stream.expires_after(timeout_);
      stream.async_connect(endpoints, [&](boost::system::error_code e, auto) { ec = e; });
      run(ioc);
    }
    if (ec)
      throw std::runtime_error("HttpClient: cannot connect to " + host_ + ":" +
                               std::to_string(port_) + ": " + ec.message());
  }

  void run(boost::asio::io_context& ioc) {
    ioc.restart();
    ioc.run();
  }

  template <class Req>
  HttpReply exchange(Req& req) {
    namespace http = boost::beast::http;
    if (!stream_) {
      stream_.emplace(ioc_);
      try {
        open(ioc_, *stream_);
      } catch (...) {
        stream_.reset();
        throw;
      }
    }
    boost::system::error_code ec;
    stream_->expires_after(timeout_);
    http::async_write(*stream_, req, [&](boost::system::error_code e, std::size_t) { ec = e; });
    run(ioc_);
    if (ec) fail("write", ec);
    http::response<http::string_body> res;
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 30);
    stream_->expires_after(timeout_);
    http::async_read(*stream_, buffer_, parser,
                     [&](boost::system::error_code e, std::size_t) { ec = e; });
    run(ioc_);
    if (ec) fail("read", ec);
    res = parser.release();
    HttpReply reply;
    reply.status = static_cast<int>(res.result_int());
    for (const auto& field : res)
      reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    reply.body = std::move(res.body());
    last_keep_alive_ = res.keep_alive();
    return reply;
  }

  [[noreturn]] void fail(const char* what, const boost::system::error_code& ec) {
    close();
    throw std::runtime_error(std::string("HttpClient: ") + what + " failed: " + ec.message());
  }

  std::string host_;
  std::uint16_t port_;
  std::chrono::steady_clock::duration timeout_;
  boost::asio::io_context ioc_;
  std::optional<Stream> stream_;
  boost::beast::flat_buffer buffer_;
  bool last_keep_alive_ = true;
};

}  // namespace otp::testing
