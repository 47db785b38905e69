// Router: patterns with parameters, 404, 405 with Allow, plain and coroutine handlers, Error.
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
