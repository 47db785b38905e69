// otp::http::Server over real sockets, driven by the blocking client of
// otp/testing/http_client.hpp: keep-alive, pipelining, limits, timeouts, crashes, metrics.
#include "otp/http/server.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "otp/http/prometheus.hpp"
#include "otp/http/stats.hpp"
#include "otp/otp.hpp"
#include "otp/testing/http_client.hpp"

namespace {

using namespace std::chrono_literals;
using otp::http::Options;
using otp::http::Request;
using otp::http::Response;
using otp::http::Router;
using otp::testing::HttpClient;

// A GenServer for handlers to call.
class Counter : public otp::GenServer<Counter, int> {
 public:
  struct Incr {};
  int init() { return 0; }
  int handle_call(Incr) { return ++state(); }
};

Router app(otp::Pid counter, std::shared_ptr<otp::http::Stats> stats = nullptr) {
  Router router;
  router.get("/hello/{name}", [](Request& req) {
    return Response::text(200, "hello " + std::string(req.param("name")));
  });
  router.post("/count", [counter](Request&) -> otp::Co<Response> {
    Counter::Incr incr;
    const int n = co_await Counter::call(counter, incr);
    nlohmann::json body{{"count", n}};
    co_return Response::json(200, body);
  });
  router.post("/echo", [](Request& req) {
    auto body = req.json();
    return Response::json(201, body);
  });
  router.get("/teapot",
             [](Request&) -> Response { throw otp::http::Error(418, "short and stout"); });
  router.get("/crash", [](Request&) -> Response { throw std::runtime_error("boom"); });
  router.get("/metrics", [stats](Request&) {
    otp::http::Prometheus out;
    if (stats) stats->write(out);
    return Response::text(200, out.take(), std::string(otp::http::Prometheus::content_type));
  });
  return router;
}

// A runtime, a Counter and a Server on an ephemeral port, for one test.
struct Fixture {
  explicit Fixture(Options options = {}) {
    options.port = 0;
    stats = options.stats;
    auto counter_started = me.await(Counter::start_link());
    counter = counter_started.pid();
    auto started = me.await(otp::http::Server::start_link(app(counter, stats), options));
    EXPECT_TRUE(started.ok()) << started.to_string();
    server = started.pid();
    auto p = me.await(otp::http::Server::port(server));
    EXPECT_TRUE(p.ok());
    port = p.value();
  }
  HttpClient client() const { return HttpClient("127.0.0.1", port); }
  std::string raw(std::string_view bytes) const { return client().raw(bytes); }

  otp::Runtime rt{{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid counter;
  otp::Pid server;
  std::uint16_t port = 0;
  std::shared_ptr<otp::http::Stats> stats;
};

bool starts_with(const std::string& s, std::string_view prefix) { return s.starts_with(prefix); }

}  // namespace

TEST(HttpServer, RoutesWithParameters) {
  Fixture f;
  auto c = f.client();
  auto r = c.get("/hello/eric");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello eric");
  EXPECT_EQ(r.header("content-type").value_or(""), "text/plain; charset=utf-8");
  EXPECT_EQ(r.header("Content-Length").value_or(""), "10");
}

TEST(HttpServer, UnknownPathIs404) {
  Fixture f;
  auto r = f.client().get("/nowhere");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json(), nlohmann::json({{"error", "not found"}}));
}

TEST(HttpServer, WrongMethodIs405WithAllow) {
  Fixture f;
  auto r = f.client().del("/hello/eric");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow").value_or(""), "GET, HEAD");
  EXPECT_EQ(r.json()["error"], "method not allowed");
}

// HEAD is answered as GET without the body: the next response on the connection is read right.
TEST(HttpServer, HeadIsAGetWithoutItsBody) {
  Fixture f;
  const auto out = f.raw(
      "HEAD /hello/one HTTP/1.1\r\nHost: x\r\n\r\n"
      "HEAD /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /hello/two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.find("hello one"), std::string::npos) << out;
  EXPECT_EQ(out.find("not found"), std::string::npos) << out;
  ASSERT_EQ(out.find("HTTP/1.1 200"), 0u) << out;
  const auto second = out.find("HTTP/1.1 404");
  ASSERT_NE(second, std::string::npos) << out;
  const auto third = out.find("HTTP/1.1 200", second);
  ASSERT_NE(third, std::string::npos) << out;
  EXPECT_NE(out.find("hello two", third), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: "), std::string::npos) << out;
}

// Found by fuzz/fuzz_service.cpp: a request refused after a HEAD on the same connection was answered
// as if it were a HEAD too, its Content-Length announcing a body that never came.
TEST(HttpServer, ARefusalAfterAHeadCarriesItsBody) {
  Fixture f;
  const auto out = f.raw(
      "HEAD /hello/one HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /hello HTTP/9.9\r\n\r\n");
  const auto refusal = out.find("HTTP/1.1 400");
  ASSERT_NE(refusal, std::string::npos) << out;
  const auto length = out.find("Content-Length: ", refusal);
  ASSERT_NE(length, std::string::npos) << out;
  const auto body = out.find("\r\n\r\n", refusal) + 4;
  EXPECT_EQ(std::to_string(out.size() - body),
            out.substr(length + 16, out.find('\r', length) - length - 16))
      << out;
  EXPECT_NE(out.find("bad request", body), std::string::npos) << out;
}

TEST(HttpServer, MalformedJsonIs400JsonError) {
  Fixture f;
  auto c = f.client();
  auto r = c.post("/echo", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.json()["error"].get<std::string>().starts_with("malformed JSON")) << r.body;
  auto ok = c.post("/echo", R"({"a":[1,2]})");  // the connection goes on
  EXPECT_EQ(ok.status, 201);
  EXPECT_EQ(ok.json()["a"][1], 2);
}

TEST(HttpServer, CoroutineHandlerCallsAGenServer) {
  Fixture f;
  auto c = f.client();
  EXPECT_EQ(c.post("/count").json()["count"], 1);
  EXPECT_EQ(c.post("/count").json()["count"], 2);
}

TEST(HttpServer, HandlerErrorAnswersItsStatus) {
  Fixture f;
  auto r = f.client().get("/teapot");
  EXPECT_EQ(r.status, 418);
  EXPECT_EQ(r.json(), nlohmann::json({{"error", "short and stout"}}));
}

TEST(HttpServer, CrashingHandlerIs500AndTheListenerSurvives) {
  otp::LogCapture logs;
  Fixture f;
  auto c = f.client();
  auto r = c.get("/crash");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.json(), nlohmann::json({{"error", "internal error"}}));
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(otp::is_alive(f.server));
  EXPECT_EQ(f.client().get("/hello/again").status, 200);  // a new connection still works
  EXPECT_TRUE(f.me.await(otp::http::Server::port(f.server)).ok());
  EXPECT_TRUE(logs.contains("GET /crash crashed: boom"));
}

TEST(HttpServer, KeepAliveServesRequestsOnOneConnection) {
  Options options;
  options.stats = std::make_shared<otp::http::Stats>();
  Fixture f(options);
  auto c = f.client();
  EXPECT_EQ(c.get("/hello/a").status, 200);
  EXPECT_FALSE(c.closed_by_peer());
  EXPECT_EQ(c.get("/hello/b").body, "hello b");
  EXPECT_EQ(f.stats->connections_total(), 1u);
}

TEST(HttpServer, ConnectionCloseIsHonoured) {
  Fixture f;
  auto c = f.client();
  auto r = c.request("GET", "/hello/x", {}, {{"Connection", "close"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Connection").value_or(""), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(HttpServer, Http10WithoutKeepAliveCloses) {
  Fixture f;
  const auto out = f.raw("GET /hello/old HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(starts_with(out, "HTTP/1.1 200 OK\r\n")) << out;
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out;
}

TEST(HttpServer, Http10KeepAliveIsAnsweredAsSuch) {
  Fixture f;
  const auto out = f.raw(
      "GET /hello/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
      "GET /hello/b HTTP/1.0\r\n\r\n");
  const auto first = out.find("hello a");
  ASSERT_NE(first, std::string::npos) << out;
  EXPECT_NE(out.substr(0, first).find("Connection: keep-alive\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Connection: close\r\n", first), std::string::npos) << out;
  EXPECT_NE(out.find("hello b"), std::string::npos) << out;
}

TEST(HttpServer, ExpectContinueGetsAnInterimResponse) {
  Fixture f;
  const auto out = f.raw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 7\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n{\"a\":1}");
  EXPECT_TRUE(starts_with(out, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n")) << out;
  EXPECT_NE(out.find(R"({"a":1})"), std::string::npos) << out;
}

// answer_bytes runs a connection's code without a socket: the same answers, in order, up to
// the first refusal (which closes a real connection), handlers run in the calling process.
TEST(HttpServer, AnswerBytesAnswersAsAConnectionWould) {
  Fixture f;
  Options options;
  options.body_limit = 8;
  const auto out = f.me.await(otp::http::answer_bytes(
      app(f.counter), options,
      "HEAD /hello/one HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{\"a\":123}"
      "GET /hello/never HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto head = out.find("HTTP/1.1 200");
  const auto count = out.find(R"({"count":1})");
  const auto refused = out.find("HTTP/1.1 413");
  EXPECT_EQ(head, 0u) << out;
  EXPECT_EQ(out.find("hello one"), std::string::npos) << out;
  ASSERT_NE(count, std::string::npos) << out;
  ASSERT_NE(refused, std::string::npos) << out;
  EXPECT_LT(count, refused);
  EXPECT_EQ(out.find("hello never"), std::string::npos) << out;
  EXPECT_EQ(f.me.await(otp::http::answer_bytes(app(f.counter), options, "GET /hel")), "");
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  Fixture f;
  const auto out = f.raw(
      "GET /hello/one HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
      "GET /hello/three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const auto one = out.find("hello one");
  const auto two = out.find(R"({"count":1})");
  const auto three = out.find("hello three");
  ASSERT_NE(one, std::string::npos) << out;
  ASSERT_NE(two, std::string::npos) << out;
  ASSERT_NE(three, std::string::npos) << out;
  EXPECT_LT(one, two);
  EXPECT_LT(two, three);
}

TEST(HttpServer, BodyOverLimitIs413) {
  Options options;
  options.body_limit = 16;
  Fixture f(options);
  auto c = f.client();
  auto r = c.post("/echo", R"({"text":")" + std::string(100, 'x') + R"("})");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["error"], "payload too large");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(HttpServer, HeadersOverLimitAre431) {
  Options options;
  options.header_limit = 256;
  Fixture f(options);
  auto c = f.client();
  auto r = c.request("GET", "/hello/x", {}, {{"X-Big", std::string(1000, 'y')}});
  EXPECT_EQ(r.status, 431);
  EXPECT_TRUE(r.json().contains("error"));
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(HttpServer, GarbageRequestLineIs400AndCloses) {
  Fixture f;
  const auto out = f.raw("this is not http\r\n\r\n");
  EXPECT_TRUE(starts_with(out, "HTTP/1.1 400 Bad Request\r\n")) << out;
  EXPECT_NE(out.find(R"({"error":"bad request)"), std::string::npos) << out;
}

TEST(HttpServer, SlowRequestGets408) {
  Options options;
  options.read_timeout = 200ms;
  Fixture f(options);
  const auto out = f.raw("GET /hello/slow HTTP/1.1\r\nHost: x\r\n");  // the headers never end
  EXPECT_TRUE(starts_with(out, "HTTP/1.1 408 Request Timeout\r\n")) << out;
  EXPECT_NE(out.find(R"({"error":"request timeout"})"), std::string::npos) << out;
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosed) {
  Options options;
  options.idle_timeout = 200ms;
  Fixture f(options);
  auto c = f.client();
  EXPECT_EQ(c.get("/hello/idle").status, 200);
  EXPECT_TRUE(c.wait_closed(10s));
}

TEST(HttpServer, OverMaxConnectionsIs503) {
  Options options;
  options.max_connections = 1;
  Fixture f(options);
  auto first = f.client();
  EXPECT_EQ(first.get("/hello/first").status, 200);  // holds the only connection open
  const auto out = f.raw("GET /hello/second HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(starts_with(out, "HTTP/1.1 503 Service Unavailable\r\n")) << out;
  EXPECT_NE(out.find(R"({"error":"too many connections"})"), std::string::npos) << out;
  EXPECT_EQ(first.get("/hello/first").status, 200);
}

TEST(HttpServer, StatsAreCountedAndServedAsPrometheusText) {
  Options options;
  options.stats = std::make_shared<otp::http::Stats>();
  Fixture f(options);
  auto c = f.client();
  EXPECT_EQ(c.get("/hello/a").status, 200);
  EXPECT_EQ(c.get("/nowhere").status, 404);
  auto r = c.get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
  const auto& text = r.body;
  EXPECT_NE(text.find("http_requests_total{code=\"200\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_requests_total{code=\"404\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_request_duration_seconds_count 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_connections_open 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_connections_total 1\n"), std::string::npos) << text;
  for (const char* metric : {"http_requests_total", "http_request_duration_seconds",
                             "http_connections_open", "http_connections_total"}) {
    for (const char* kind : {"# HELP ", "# TYPE "}) {
      const std::string line = std::string(kind) + metric + " ";
      const auto first = text.find(line);
      EXPECT_NE(first, std::string::npos) << line;
      EXPECT_EQ(text.find(line, first + 1), std::string::npos) << line;
    }
  }
  EXPECT_EQ(f.stats->requests(200), 2u);  // the /metrics response counted once it was sent
}

TEST(HttpServer, RunsAsASupervisedChild) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  Router router;
  router.get("/ping", [](Request&) { return Response::text(200, "pong"); });
  Options options;
  options.port = 0;
  std::vector<otp::ChildSpec> children{
      otp::child<otp::http::Server>(otp::Name::local("web"), router, options)};
  auto sup = me.await(otp::Supervisor::start_link(std::move(children)));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  const otp::Pid web = otp::Name::local("web").whereis().value();
  const auto port = me.await(otp::http::Server::port(web));
  ASSERT_TRUE(port.ok());
  EXPECT_EQ(HttpClient("127.0.0.1", port.value()).get("/ping").body, "pong");
}

TEST(HttpServer, ClosedConnectionsAreNoLongerCounted) {
  Options options;
  options.stats = std::make_shared<otp::http::Stats>();
  Fixture f(options);
  {
    auto c = f.client();
    EXPECT_EQ(c.get("/hello/a").status, 200);
    EXPECT_EQ(f.me.await(otp::http::Server::connections(f.server)).value(), 1u);
  }  // the client closes its connection
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (f.me.await(otp::http::Server::connections(f.server)).value() != 0 &&
         std::chrono::steady_clock::now() < until)
    f.me.receive<int>(10ms);  // a pause between polls; no int ever comes
  EXPECT_EQ(f.me.await(otp::http::Server::connections(f.server)).value(), 0u);
  EXPECT_EQ(f.stats->connections_open(), 0);
  EXPECT_EQ(f.stats->connections_total(), 1u);
}

// --- hardening: limits on what a connection buffers, request framing, refusals ---------------

namespace {

// A router whose DELETE says it ran: a request smuggled in another's body must not reach it.
Router smuggling_target(std::shared_ptr<std::atomic<int>> deleted) {
  Router router;
  router.post("/echo", [](Request& req) { return Response::text(200, req.body); });
  router.del("/x", [deleted](Request&) {
    deleted->fetch_add(1);
    return Response::no_content();
  });
  return router;
}

std::size_t count_of(const std::string& s, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

// A chunk-size line, a chunk extension or a trailer section with no end was buffered without
// bound; each counts against header_limit now, and over it the connection is refused.
TEST(HttpServer, AnEndlessChunkLineOrTrailerIsRefused) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto deleted = std::make_shared<std::atomic<int>>(0);
  Options options;
  options.header_limit = 1024;
  const std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::vector<std::string> endless{
      std::string(100'000, '0'),                              // a chunk-size line
      "4;" + std::string(100'000, 'e'),                       // a chunk extension
      "4\r\nabcd\r\n0\r\nX-T: " + std::string(100'000, 't'),  // a trailer section
  };
  for (const auto& tail : endless) {
    const auto out =
        me.await(otp::http::answer_bytes(smuggling_target(deleted), options, head + tail));
    EXPECT_TRUE(out.starts_with("HTTP/1.1 431") || out.starts_with("HTTP/1.1 400"))
        << out.substr(0, 200);
    EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out.substr(0, 200);
  }
  // Within the limit, the same shapes are served.
  const auto ok = me.await(otp::http::answer_bytes(
      smuggling_target(deleted), options, head + "0004;name=value\r\nabcd\r\n0\r\nX-T: t\r\n\r\n"));
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200")) << ok;
  EXPECT_NE(ok.find("\r\n\r\nabcd"), std::string::npos) << ok;
}

// RFC 9112 §6.3: a Transfer-Encoding whose final coding is not chunked leaves the body's length
// unknown. Served as a request without a body, its body was read as the next request.
TEST(HttpServer, ATransferEncodingNotEndingInChunkedIs400AndCloses) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto deleted = std::make_shared<std::atomic<int>>(0);
  for (const char* coding :
       {"gzip", "identity", "chunked, identity", "gzip, chunked, gzip", "gzip, chunked"}) {
    const auto out = me.await(otp::http::answer_bytes(
        smuggling_target(deleted), {},
        fmt::format("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {}\r\n\r\n"
                    "DELETE /x HTTP/1.1\r\nHost: x\r\n\r\n",
                    coding)));
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400")) << coding << ": " << out;
    EXPECT_EQ(count_of(out, "HTTP/1.1 "), 1u) << coding << ": " << out;
    EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out;
  }
  EXPECT_EQ(deleted->load(), 0);
}

// A HEAD refused once its head was read (two Host fields, a bad coding, a bad chunk) is answered
// with the head alone: a client that sent HEAD reads no body, and would take one for the next
// answer. Refused before its head was complete, it is answered in full (nothing says HEAD yet).
TEST(HttpServer, AHeadRefusedAfterItsHeadWasReadIsAnsweredWithoutABody) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto deleted = std::make_shared<std::atomic<int>>(0);
  Options options;
  options.body_limit = 8;
  for (const char* request :
       {"HEAD /echo HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
        "HEAD /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HEAD /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    const auto out = me.await(otp::http::answer_bytes(smuggling_target(deleted), options, request));
    EXPECT_TRUE(out.starts_with("HTTP/1.1 4")) << request << ": " << out;
    EXPECT_NE(out.find("Content-Length: "), std::string::npos) << out;
    EXPECT_TRUE(out.ends_with("\r\n\r\n")) << request << ": " << out;
  }
  const auto bad_line = me.await(
      otp::http::answer_bytes(smuggling_target(deleted), options, "HEAD /echo HTTP/9\r\n\r\n"));
  EXPECT_TRUE(bad_line.starts_with("HTTP/1.1 400")) << bad_line;
  EXPECT_FALSE(bad_line.ends_with("\r\n\r\n")) << bad_line;
}

TEST(HttpServer, TransferEncodingWithContentLengthIs400AndCloses) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto deleted = std::make_shared<std::atomic<int>>(0);
  const auto out = me.await(otp::http::answer_bytes(
      smuggling_target(deleted), {},
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nDELETE /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 400")) << out;
  EXPECT_EQ(count_of(out, "HTTP/1.1 "), 1u) << out;
  EXPECT_EQ(deleted->load(), 0);
}

TEST(HttpServer, Http11WithoutHostIs400) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto deleted = std::make_shared<std::atomic<int>>(0);
  const auto out = me.await(
      otp::http::answer_bytes(smuggling_target(deleted), {}, "DELETE /x HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 400")) << out;
  EXPECT_EQ(deleted->load(), 0);
  const auto old = me.await(otp::http::answer_bytes(  // HTTP/1.0 had no Host
      smuggling_target(deleted), {}, "DELETE /x HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(old.starts_with("HTTP/1.1 204")) << old;
}

// RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing; it is answered,
// then the connection closes, whatever it asked for.
TEST(HttpServer, Http10WithTransferEncodingIsAnsweredThenClosed) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto deleted = std::make_shared<std::atomic<int>>(0);
  const auto out = me.await(otp::http::answer_bytes(
      smuggling_target(deleted), {},
      "POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nhi\r\n0\r\n\r\nDELETE /x HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200")) << out;
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out;
  EXPECT_EQ(count_of(out, "HTTP/1.1 "), 1u) << out;
  EXPECT_EQ(deleted->load(), 0);
}

namespace {

// A plain socket to 127.0.0.1:port, for clients that misbehave on purpose.
int connect_to(std::uint16_t port, int receive_buffer = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer > 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until the peer closes or `timeout` passes: the bytes, and whether it closed.
std::pair<std::size_t, bool> read_to_end(int fd, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::size_t total = 0;
  char chunk[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return {total, false};
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return {total, true};
    total += static_cast<std::size_t>(n);
  }
}

std::size_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("VmRSS:")) return std::stoul(line.substr(6)) * 1024;
  return 0;
}

}  // namespace

// A client that pipelines requests and never reads its answers: the connection stops reading
// while its unsent output is over output_high_water, and is cut after write_timeout. Before,
// every answer was queued (up to the socket's 64 MiB) and the connection kept.
TEST(HttpServer, AClientThatNeverReadsIsHeldBackThenCut) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  constexpr std::size_t answer_size = 16 * 1024;
  constexpr int requests = 2000;
  Router router;
  router.get("/big", [](Request&) { return Response::text(200, std::string(answer_size, 'b')); });
  Options options;
  options.port = 0;
  options.output_high_water = 64 * 1024;
  options.write_timeout = 300ms;
  options.stats = std::make_shared<otp::http::Stats>();
  auto started = me.await(otp::http::Server::start_link(router, options));
  ASSERT_TRUE(started.ok());
  const auto port = me.await(otp::http::Server::port(started.pid())).value();
  const int fd = connect_to(port, 16 * 1024);
  ASSERT_GE(fd, 0);
  std::string pipelined;
  for (int i = 0; i < requests; ++i) pipelined += "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
  std::size_t sent = 0;
  while (sent < pipelined.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 2000) <= 0) break;  // the server has stopped reading: so be it
    const auto n = ::send(fd, pipelined.data() + sent, pipelined.size() - sent, MSG_DONTWAIT);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  me.receive<int>(1500ms);  // never reading, for longer than the write timeout
  const auto [received, closed] = read_to_end(fd, 15s);
  ::close(fd);
  EXPECT_TRUE(closed) << received << " bytes";
  EXPECT_LT(received, requests * answer_size / 2);
  EXPECT_EQ(options.stats->connections_cut(), 1u);
}

// An idle connection holds no read buffer: RSS per idle connection, measured over
// HANGTEN_IDLE_CONNECTIONS connections (1000 unless set), half of which served one request.
TEST(HttpServer, AnIdleConnectionCostsLittleMemory) {
  const char* wanted = std::getenv("HANGTEN_IDLE_CONNECTIONS");
  const int connections = wanted != nullptr ? std::atoi(wanted) : 1000;
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  Router router;
  router.get("/hello", [](Request&) { return Response::text(200, "hello"); });
  Options options;
  options.port = 0;
  options.max_connections = static_cast<std::size_t>(connections) + 10;
  auto started = me.await(otp::http::Server::start_link(router, options));
  ASSERT_TRUE(started.ok());
  const otp::Pid server = started.pid();
  const auto port = me.await(otp::http::Server::port(server)).value();
  EXPECT_EQ(HttpClient("127.0.0.1", port).get("/hello").status, 200);  // warms the allocators
  const auto before = resident_bytes();

  // The clients live in a child process: their sockets and memory are not counted here.
  int ready[2];
  int done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(ready[0]);
    ::close(done[1]);
    const char request[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < connections; ++i) {
      const int fd = connect_to(port);
      if (fd >= 0 && i % 2 == 1) (void)!::write(fd, request, sizeof request - 1);
    }
    (void)!::write(ready[1], "r", 1);
    char c;
    (void)!::read(done[0], &c, 1);  // until the parent has measured
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(done[0]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (me.await(otp::http::Server::connections(server)).value() <
             static_cast<std::size_t>(connections) &&
         std::chrono::steady_clock::now() < until)
    me.receive<int>(20ms);
  me.receive<int>(500ms);  // the last connections' processes settle into their wait
  const auto after = resident_bytes();
  ::close(done[1]);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  const double per_connection =
      (static_cast<double>(after) - static_cast<double>(before)) / connections;
  std::printf("idle connections: %d, RSS %.1f MB -> %.1f MB, %.0f bytes per connection\n",
              connections, static_cast<double>(before) / 1e6, static_cast<double>(after) / 1e6,
              per_connection);
  EXPECT_LT(per_connection, 16 * 1024);
}

// A request in flight when the runtime shuts down (the service on SIGTERM) gets its answer,
// with Connection: close; before, its connection was killed with the others and said nothing.
TEST(HttpServer, ARequestInFlightAtShutdownIsAnswered) {
  std::promise<void> in_handler;
  std::string out;
  std::thread client;
  {
    otp::Runtime rt({.threads = 2});
    Router router;
    router.get("/slow", [&in_handler](Request&) -> otp::Co<Response> {
      in_handler.set_value();
      co_await otp::sleep(300ms);
      co_return Response::text(200, "done");
    });
    Options options;
    options.port = 0;
    std::uint16_t port = 0;
    {
      otp::Scoped me(rt);
      auto started = me.await(otp::http::Server::start(router, options));
      ASSERT_TRUE(started.ok());
      port = me.await(otp::http::Server::port(started.pid())).value();
    }
    client = std::thread([&out, port] {
      out = HttpClient("127.0.0.1", port).raw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    });
    in_handler.get_future().wait();
    rt.shutdown();
  }
  client.join();
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200") || out.starts_with("HTTP/1.1 503")) << out;
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out;
}

// The address a server listens on is an allowed Host without being listed, and its URL says
// where it is.
TEST(HttpServer, ItsOwnAddressIsAnAllowedHostAndItsUrlNamesIt) {
  Options options;
  options.listen("127.0.0.1:0");
  options.allowed_hosts = {"api.example"};
  Fixture f(options);
  EXPECT_EQ(f.me.await(otp::http::Server::url(f.server)).value(),
            "http://127.0.0.1:" + std::to_string(f.port));
  const auto own = f.raw("GET /hello/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(own.starts_with("HTTP/1.1 200")) << own;
  const auto other = f.raw("GET /hello/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(other.starts_with("HTTP/1.1 421")) << other;
  EXPECT_THROW(options.listen("4000"), std::invalid_argument);
}

// Options::allowed_hosts and allowed_origins, as the service sets them from --allowed-host and
// --allowed-origin: a foreign Host is 421, a foreign Origin 403, no Origin passes.
TEST(HttpServer, HostAndOriginOutsideTheAllowedAreRefused) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto deleted = std::make_shared<std::atomic<int>>(0);
  Options options;
  options.allowed_hosts = {"localhost", "127.0.0.1", "[::1]"};
  options.allowed_origins = {"http://localhost:4000"};
  auto answer = [&](std::string_view head) {
    return me.await(otp::http::answer_bytes(smuggling_target(deleted), options,
                                            std::string(head) + "\r\n\r\n"));
  };
  EXPECT_TRUE(answer("DELETE /x HTTP/1.1\r\nHost: localhost:4000").starts_with("HTTP/1.1 204"));
  EXPECT_TRUE(answer("DELETE /x HTTP/1.1\r\nHost: LOCALHOST").starts_with("HTTP/1.1 204"));
  EXPECT_TRUE(answer("DELETE /x HTTP/1.1\r\nHost: [::1]:4000").starts_with("HTTP/1.1 204"));
  const auto foreign = answer("DELETE /x HTTP/1.1\r\nHost: evil.example");
  EXPECT_TRUE(foreign.starts_with("HTTP/1.1 421 Misdirected Request")) << foreign;
  EXPECT_NE(foreign.find(R"({"error":)"), std::string::npos) << foreign;
  EXPECT_TRUE(answer("DELETE /x HTTP/1.1\r\nHost: localhost\r\nOrigin: http://localhost:4000")
                  .starts_with("HTTP/1.1 204"));
  // Its own origin is allowed without a word: the Origin names the Host the request came to.
  EXPECT_TRUE(answer("DELETE /x HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nOrigin: http://127.0.0.1:5000")
                  .starts_with("HTTP/1.1 204"));
  const auto cross = answer("DELETE /x HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example");
  EXPECT_TRUE(cross.starts_with("HTTP/1.1 403")) << cross;
  EXPECT_EQ(deleted->load(), 5);
  // An empty list: the own origin only.
  options.allowed_origins.emplace();
  EXPECT_TRUE(answer("DELETE /x HTTP/1.1\r\nHost: localhost:4000\r\nOrigin: http://localhost:4000")
                  .starts_with("HTTP/1.1 204"));
  EXPECT_TRUE(answer("DELETE /x HTTP/1.1\r\nHost: localhost:4000\r\nOrigin: http://localhost:4001")
                  .starts_with("HTTP/1.1 403"));
  EXPECT_EQ(deleted->load(), 6);
  // The defaults allow any.
  EXPECT_TRUE(me.await(otp::http::answer_bytes(smuggling_target(deleted), {},
                                               "DELETE /x HTTP/1.1\r\nHost: evil.example\r\n"
                                               "Origin: http://evil.example\r\n\r\n"))
                  .starts_with("HTTP/1.1 204"));
}

// Options::json_bodies_only: a body that does not say it is JSON is 415 before any route runs.
TEST(HttpServer, JsonBodiesOnlyRefusesOtherBodiesWith415) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto deleted = std::make_shared<std::atomic<int>>(0);
  Options options;
  options.json_bodies_only = true;
  auto post = [&](std::string_view type) {
    return me.await(otp::http::answer_bytes(
        smuggling_target(deleted), options,
        fmt::format("POST /echo HTTP/1.1\r\nHost: x\r\n{}Content-Length: 2\r\n\r\n{{}}", type)));
  };
  EXPECT_TRUE(
      post("Content-Type: application/json; charset=utf-8\r\n").starts_with("HTTP/1.1 200"));
  EXPECT_TRUE(post("Content-Type: text/plain\r\n").starts_with("HTTP/1.1 415"));
  EXPECT_TRUE(post("").starts_with("HTTP/1.1 415"));
  EXPECT_TRUE(me.await(otp::http::answer_bytes(smuggling_target(deleted), options,
                                               "DELETE /x HTTP/1.1\r\nHost: x\r\n\r\n"))
                  .starts_with("HTTP/1.1 204"));  // no body, nothing to say
}

// Refusals are counted by status in Stats (http_refusals_total) and logged at most once a
// second, with their count, however many there are.
TEST(HttpServer, RefusalsAreCountedAndLoggedAtMostOnceASecond) {
  otp::LogCapture logs;
  Options options;
  options.stats = std::make_shared<otp::http::Stats>();
  Fixture f(options);
  for (int i = 0; i < 20; ++i) {
    const auto out = f.raw("GET /hello/x HTTP/1.1\r\n\r\n");  // no Host
    EXPECT_TRUE(starts_with(out, "HTTP/1.1 400")) << out;
  }
  EXPECT_EQ(f.stats->refusals(400), 20u);
  EXPECT_EQ(f.stats->refusals_total(), 20u);
  std::size_t lines = 0;
  for (const auto& record : logs.records())
    if (record.text.find("refused since the last report") != std::string::npos) ++lines;
  EXPECT_GE(lines, 1u);
  EXPECT_LE(lines, 3u);  // 20 refusals in well under 3 s
  auto metrics = f.client().get("/metrics").body;
  EXPECT_NE(metrics.find("http_refusals_total{code=\"400\"} 20\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("http_connections_cut_total 0\n"), std::string::npos) << metrics;
}
