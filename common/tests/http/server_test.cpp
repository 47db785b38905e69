// otp::http::Server over real sockets, driven by the blocking client of
// otp/testing/http_client.hpp: keep-alive, pipelining, limits, timeouts, crashes, metrics.
#include "otp/http/server.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

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

// Found by fuzz/service.cpp: a request refused after a HEAD on the same connection was answered
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
