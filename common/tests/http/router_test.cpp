// Router: patterns with parameters, 404, 405 with Allow, plain and coroutine handlers, Error.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "otp/http/server.hpp"
#include "otp/otp.hpp"

namespace {

using otp::http::Request;
using otp::http::Response;
using otp::http::Router;

Request request(std::string method, std::string path) {
  Request req;
  req.method = std::move(method);
  req.target = path;
  req.path = std::move(path);
  return req;
}

Response dispatch(const Router& router, Request req) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  return me.await(router.dispatch(req));
}

Router sample_router() {
  Router router;
  router.get("/sessions/{login}/validate", [](Request& req) {
    return Response::text(200, "v:" + std::string(req.param("login")));
  });
  router.get("/sessions/{login}", [](Request& req) -> otp::Co<Response> {
    co_return Response::text(200, "get:" + std::string(req.param("login")));
  });
  router.del("/sessions/{login}", [](Request&) { return Response::no_content(); });
  router.post("/fail", [](Request&) -> Response { throw otp::http::Error(409, "taken"); });
  return router;
}

}  // namespace

TEST(Router, MatchesParametersInPatterns) {
  const auto router = sample_router();
  EXPECT_EQ(dispatch(router, request("GET", "/sessions/eric")).body, "get:eric");
  EXPECT_EQ(dispatch(router, request("GET", "/sessions/eric/validate")).body, "v:eric");
  EXPECT_EQ(dispatch(router, request("DELETE", "/sessions/eric")).status, 204);
}

TEST(Router, ListsItsEndpointsInTheOrderTheyWereAdded) {
  auto router = sample_router();
  router.websocket("/live", [](otp::http::WebSocket&, Request&) -> otp::Co<void> { co_return; });
  router.get("/", [](Request&) { return Response::no_content(); });
  EXPECT_EQ(router.endpoints(),
            (std::vector<std::string>{"GET /sessions/{login}/validate", "GET /sessions/{login}",
                                      "DELETE /sessions/{login}", "POST /fail", "GET /"}));
}

TEST(Router, UnknownPathIsNotFound) {
  const auto router = sample_router();
  const auto r = dispatch(router, request("GET", "/nothing"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"not found"})");
  // A parameter matches a non-empty segment only.
  EXPECT_EQ(dispatch(router, request("GET", "/sessions/")).status, 404);
}

TEST(Router, KnownPathWithOtherMethodIs405WithAllow) {
  const auto router = sample_router();
  const auto r = dispatch(router, request("PUT", "/sessions/eric"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow").value_or(""), "DELETE, GET, HEAD");
  EXPECT_EQ(r.body, R"({"error":"method not allowed"})");
}

TEST(Router, HandlerErrorBecomesItsStatus) {
  const auto r = dispatch(sample_router(), request("POST", "/fail"));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body, R"({"error":"taken"})");
}

TEST(Request, JsonRejectsMalformedBodyAndOtherContentTypes) {
  Request req = request("POST", "/");
  req.body = R"({"a": 1})";
  EXPECT_EQ(req.json()["a"], 1);  // no Content-Type: accepted
  req.headers.emplace_back("content-type", "application/json; charset=utf-8");
  EXPECT_EQ(req.json()["a"], 1);
  req.body = "{nope";
  try {
    (void)req.json();
    FAIL() << "no Error thrown";
  } catch (const otp::http::Error& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_TRUE(std::string(e.what()).starts_with("malformed JSON: ")) << e.what();
  }
  req.headers = {{"Content-Type", "text/plain"}};
  try {
    (void)req.json();
    FAIL() << "no Error thrown";
  } catch (const otp::http::Error& e) {
    EXPECT_EQ(e.status, 415);
  }
}

// Valid JSON that no double holds (1e400) is a bad request, as a syntax error is: the parser's
// out_of_range went past the handler and came back as a 500.
TEST(Request, JsonRejectsANumberOutOfRange) {
  Request req = request("POST", "/sessions");
  req.headers.emplace_back("Content-Type", "application/json");
  for (const char* body : {"1E400", R"({"login": -1e999})", "[3333333333E333]"}) {
    req.body = body;
    try {
      (void)req.json();
      ADD_FAILURE() << "no Error thrown for " << body;
    } catch (const otp::http::Error& e) {
      EXPECT_EQ(e.status, 400) << body;
      EXPECT_TRUE(std::string(e.what()).starts_with("malformed JSON: ")) << e.what();
    }
  }
}

namespace {

struct Unavailable : std::runtime_error {
  Unavailable() : std::runtime_error("the store is down") {}
};
struct Full : std::runtime_error {
  Full() : std::runtime_error("full") {}
};

}  // namespace

// on_error: an exception a handler throws is answered as its on_error says: a status and a
// message (or its what()), or what a function makes of it; the first that matches wins, and
// one no on_error names goes on to the connection (which answers 500).
TEST(Router, OnErrorAnswersTheExceptionsItNames) {
  int full = 0;
  Router router;
  router.on_error<Unavailable>(503, "store unavailable");
  router.on_error<Full>([&full](const Full& e) {
    ++full;
    return Response::error(507, e.what());
  });
  router.on_error<std::runtime_error>(502);
  router.get("/down", [](Request&) -> Response { throw Unavailable(); });
  router.get("/full", [](Request&) -> otp::Co<Response> { throw Full(); });
  router.get("/other", [](Request&) -> Response { throw std::runtime_error("other"); });
  router.get("/logic", [](Request&) -> Response { throw std::logic_error("logic"); });
  const auto down = dispatch(router, request("GET", "/down"));
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.body, R"({"error":"store unavailable"})");
  const auto got_full = dispatch(router, request("GET", "/full"));
  EXPECT_EQ(got_full.status, 507);
  EXPECT_EQ(got_full.body, R"({"error":"full"})");
  EXPECT_EQ(full, 1);
  const auto other = dispatch(router, request("GET", "/other"));
  EXPECT_EQ(other.status, 502);
  EXPECT_EQ(other.body, R"({"error":"other"})");
  EXPECT_THROW(dispatch(router, request("GET", "/logic")), std::logic_error);
}

TEST(Router, StringFieldReadsAStringOfTheJsonBodyOr400NamingIt) {
  auto field = [](std::string body) {
    Request req = request("POST", "/x");
    req.body = std::move(body);
    try {
      return req.string_field("login");
    } catch (const otp::http::Error& e) {
      return std::to_string(e.status) + " " + e.what();
    }
  };
  EXPECT_EQ(field(R"({"login":"eric"})"), "eric");
  EXPECT_EQ(field(R"({"login":7})"), R"(400 "login" must be a string)");
  EXPECT_EQ(field(R"({"name":"eric"})"), R"(400 "login" must be a string)");
  EXPECT_EQ(field(R"(["login"])"), R"(400 "login" must be a string)");
  EXPECT_TRUE(field("{").starts_with("400 malformed JSON")) << field("{");
}

// A client that builds its URLs with encodeURIComponent sends "eric%40example.com": the route's
// parameter is what it meant. A '%' without two hex digits after it stays as it is.
TEST(Router, RouteParametersArePercentDecoded) {
  const auto router = sample_router();
  EXPECT_EQ(dispatch(router, request("GET", "/sessions/eric%40example.com")).body,
            "get:eric@example.com");
  EXPECT_EQ(dispatch(router, request("GET", "/sessions/a%2fb%2F")).body, "get:a/b/");
  EXPECT_EQ(dispatch(router, request("GET", "/sessions/100%")).body, "get:100%");
  EXPECT_EQ(dispatch(router, request("GET", "/sessions/%zz%4")).body, "get:%zz%4");
  EXPECT_EQ(dispatch(router, request("GET", "/sessions/eric%40x/validate")).body, "v:eric@x");
}
