// The HTTP service, as a client sees it: `hang_ten serve` on a free loopback port, a real HTTP
// client, every endpoint and every kind of bad input (ctest label `http`).
#include "service.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <iomanip>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using Json = nlohmann::json;

struct Http : ::testing::Test {
  Service service;
  otp::testing::HttpClient http = service.client();

  Json open(const std::string& login, int expected = 201) {
    auto r = http.post("/sessions", Json{{"login", login}}.dump());
    EXPECT_EQ(r.status, expected) << r.body;
    return r.json();
  }
  otp::testing::HttpReply validate(const std::string& login, const std::string& token) {
    return http.post("/sessions/" + login + "/validate", Json{{"token", token}}.dump());
  }
};

TEST_F(Http, ASessionIsOpenedValidatedShownRotatedAndDeleted) {
  Json s = open("eric");
  EXPECT_EQ(s["login"], "eric");
  const std::string token = s["token"];
  EXPECT_TRUE(std::regex_match(token, std::regex("[A-Za-z0-9_-]{43}"))) << token;
  // UTC, 60 minutes from now (the default absolute timeout), whatever the machine's time zone.
  std::tm tm{};
  std::istringstream when(s["expires_at"].get<std::string>());
  when >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  ASSERT_FALSE(when.fail()) << s["expires_at"];
  const auto expires = std::chrono::system_clock::from_time_t(timegm(&tm));
  const auto expected = std::chrono::system_clock::now() + std::chrono::minutes(60);
  EXPECT_LT(std::chrono::abs(expires - expected), std::chrono::minutes(2)) << s["expires_at"];

  for (int n = 1; n <= 3; ++n) {
    auto v = validate("eric", token);
    ASSERT_EQ(v.status, 200) << v.body;
    EXPECT_EQ(v.json(), (Json{{"valid", true}, {"request_count", n}}));
  }
  auto wrong = validate("eric", std::string(43, 'A'));
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.json(), (Json{{"valid", false}}));

  auto shown = http.get("/sessions/eric");
  ASSERT_EQ(shown.status, 200);
  EXPECT_EQ(shown.json()["request_count"], 3);
  EXPECT_FALSE(shown.json().contains("token"));
  EXPECT_EQ(shown.body.find(token), std::string::npos);

  Json again = open("eric", 200);  // the same session
  EXPECT_EQ(again["token"], token);

  auto rotated = http.post("/sessions/eric/rotate");
  ASSERT_EQ(rotated.status, 200);
  const std::string fresh = rotated.json()["token"];
  EXPECT_NE(fresh, token);
  EXPECT_EQ(validate("eric", token).status, 403);
  EXPECT_EQ(validate("eric", fresh).json()["request_count"], 4);

  EXPECT_EQ(http.del("/sessions/eric").status, 204);
  EXPECT_EQ(http.get("/sessions/eric").status, 404);
  EXPECT_EQ(http.del("/sessions/eric").status, 404);
  EXPECT_EQ(validate("eric", fresh).status, 403);
  EXPECT_EQ(http.post("/sessions/eric/rotate").status, 404);
}

TEST_F(Http, TokensDifferFromSessionToSession) {
  std::set<std::string> tokens;
  for (int i = 0; i < 20; ++i) tokens.insert(open("user" + std::to_string(i))["token"]);
  EXPECT_EQ(tokens.size(), 20u);
}

TEST_F(Http, HealthzAnswers) {
  auto r = http.get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["status"], "ok");
}

// /readyz: the memory stash is always ready. The root says what is served here.
TEST_F(Http, ReadyzAndTheRootSayWhatTheServiceIs) {
  auto ready = http.get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json(), (Json{{"status", "ready"}, {"stash", "memory"}}));
  auto root = http.get("/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.json()["observer"], "/observer");
  EXPECT_NE(root.body.find("POST /sessions/{login}/validate"), std::string::npos) << root.body;
}

// A login as encodeURIComponent sends it: "eric%40example.com" is the session "eric@example.com".
TEST_F(Http, APercentEncodedLoginIsTheLoginItEncodes) {
  const std::string token = open("eric@example.com")["token"];
  auto found = http.get("/sessions/eric%40example.com");
  EXPECT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(found.json()["login"], "eric@example.com");
  auto v = http.post("/sessions/eric%40example.com/validate", Json{{"token", token}}.dump());
  EXPECT_EQ(v.status, 200) << v.body;
}

// Bad input gets a 4xx with a JSON error and changes nothing.
TEST_F(Http, BadInputIsRefusedAndChangesNothing) {
  const std::string token = open("eric")["token"];
  auto error_of = [](const otp::testing::HttpReply& r) {
    return r.json().value("error", std::string());
  };

  auto malformed = http.post("/sessions", "{\"login\": ");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_FALSE(error_of(malformed).empty());

  auto missing = http.post("/sessions", "{}");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(error_of(missing).find("login"), std::string::npos) << missing.body;

  auto wrong_type = http.post("/sessions", R"({"login": 42})");
  EXPECT_EQ(wrong_type.status, 400);

  auto bad_login = http.post("/sessions", R"({"login": "no spaces"})");
  EXPECT_EQ(bad_login.status, 400);
  EXPECT_NE(error_of(bad_login).find("invalid login"), std::string::npos) << bad_login.body;

  auto no_token = http.post("/sessions/eric/validate", R"({"tokn": "x"})");
  EXPECT_EQ(no_token.status, 400);

  auto unknown = http.get("/nowhere");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_FALSE(error_of(unknown).empty());

  auto method = http.request("PUT", "/sessions/eric");
  EXPECT_EQ(method.status, 405);
  ASSERT_TRUE(method.header("Allow").has_value());
  EXPECT_NE(method.header("Allow")->find("GET"), std::string::npos);
  EXPECT_NE(method.header("Allow")->find("DELETE"), std::string::npos);

  auto big = http.post("/sessions", std::string(65 * 1024, ' '));
  EXPECT_EQ(big.status, 413);

  otp::testing::HttpClient fresh("127.0.0.1", service.port());
  auto big_headers = fresh.request("GET", "/healthz", "", {{"X-Filler", std::string(9000, 'x')}});
  EXPECT_EQ(big_headers.status, 431);

  // Nothing changed: one session, its token, its count.
  otp::testing::HttpClient after("127.0.0.1", service.port());
  auto v = after.post("/sessions/eric/validate", Json{{"token", token}}.dump());
  EXPECT_EQ(v.json()["request_count"], 1);
  EXPECT_EQ(after.get("/sessions/no%20spaces").status, 400);
  auto not_utf8 = after.get("/sessions/caf\xe9");  // a 400 still, though the login is no UTF-8
  EXPECT_EQ(not_utf8.status, 400);
  EXPECT_NE(error_of(not_utf8).find("invalid login"), std::string::npos) << not_utf8.body;
}

// Prometheus's text format: every sample belongs to a metric whose HELP and TYPE came first, once.
TEST_F(Http, MetricsAreWellFormedPrometheusText) {
  const std::string token = open("eric")["token"];
  validate("eric", token);
  validate("eric", "wrong");
  http.get("/nowhere");

  auto r = http.get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("Content-Type").value_or("").find("text/plain; version=0.0.4"),
            std::string::npos);

  std::map<std::string, std::string> types;
  std::set<std::string> helps;
  std::map<std::string, double> samples;
  std::istringstream in(r.body);
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_]+="[^"]*"(,[a-zA-Z_]+="[^"]*")*\})? ([-+0-9.eE]+|\+Inf))");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      EXPECT_TRUE(helps.insert(m[1]).second) << "two HELP lines for " << m[1];
    } else if (std::regex_match(line, m, type)) {
      EXPECT_TRUE(types.emplace(m[1], m[2]).second) << "two TYPE lines for " << m[1];
      if (m[2] == "counter") {
        EXPECT_TRUE(m[1].str().ends_with("_total")) << m[1];
      }
    } else {
      ASSERT_TRUE(std::regex_match(line, m, sample)) << "not a sample: " << line;
      std::string name = m[1];
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if (!types.contains(name) && name.ends_with(suffix))
          name = name.substr(0, name.size() - std::string(suffix).size());
      }
      EXPECT_TRUE(types.contains(name)) << "a sample before its TYPE: " << line;
      samples[m[1].str() + m[2].str()] = std::stod(m[4]);
    }
  }
  for (const char* metric :
       {"hangten_processes", "hangten_sessions", "hangten_restarts_total",
        "hangten_validations_total", "http_requests_total", "http_request_duration_seconds"}) {
    EXPECT_TRUE(types.contains(metric)) << metric;
  }
  EXPECT_EQ(samples["hangten_sessions"], 1);
  EXPECT_EQ(samples["hangten_validations_total{result=\"valid\"}"], 1);
  EXPECT_EQ(samples["hangten_validations_total{result=\"invalid\"}"], 1);
  EXPECT_GE(samples["http_requests_total{code=\"404\"}"], 1);
  EXPECT_GE(samples["hangten_processes"], 5);
}

// Past --max-sessions a new session is refused with 503 and nothing else changes: the sessions
// there still answer, an existing login still gets its own, and a session that ends makes room.
TEST(HttpLimits, SessionsPastTheLimitAre503AndNothingElseChanges) {
  Service service({"--max-sessions", "2"});
  auto http = service.client();
  auto open = [&](const std::string& login) {
    return http.post("/sessions", Json{{"login", login}}.dump());
  };
  const auto eric = open("eric");
  ASSERT_EQ(eric.status, 201);
  ASSERT_EQ(open("jose").status, 201);
  for (int i = 0; i < 3; ++i) {
    auto refused = open("ana");
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.json(), (Json{{"error", "too many sessions"}}));
  }
  EXPECT_EQ(open("eric").status, 200);  // its own session, not a new one
  EXPECT_EQ(http.post("/sessions/eric/validate", Json{{"token", eric.json()["token"]}}.dump())
                .json()["request_count"],
            1);
  EXPECT_EQ(http.get("/sessions/ana").status, 404);
  const std::string metrics = http.get("/metrics").body;
  EXPECT_NE(metrics.find("hangten_sessions 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("hangten_sessions_refused_total 3"), std::string::npos) << metrics;
  EXPECT_EQ(http.del("/sessions/jose").status, 204);
  EXPECT_EQ(open("ana").status, 201);
  EXPECT_EQ(service.stop(), 0);
  // One log line for the three refusals (at most one a second), not one each.
  const std::string& out = service.output();
  std::size_t lines = 0;
  for (auto at = out.find("new sessions refused"); at != std::string::npos;
       at = out.find("new sessions refused", at + 1))
    ++lines;
  EXPECT_EQ(lines, 1u) << out;
}

// On SIGTERM the service drains before the sessions go: a request in flight gets its answer,
// never a silent close, and a valid token is never answered 403 because its session is being
// torn down. Four clients validate on kept connections while the signal comes.
TEST(HttpShutdown, AtSigtermRequestsInFlightAreAnsweredAndNoValidTokenIs403) {
  Service service;
  constexpr int clients = 4;
  std::vector<std::string> tokens;
  for (int i = 0; i < clients; ++i) {
    auto opened = service.client().post("/sessions", Json{{"login", fmt::format("u{}", i)}}.dump());
    ASSERT_EQ(opened.status, 201);
    tokens.push_back(opened.json()["token"]);
  }
  std::atomic<int> answered{0}, forbidden{0}, silent{0};
  std::vector<std::string> failures(clients);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      auto http = service.client();
      const std::string path = fmt::format("/sessions/u{}/validate", i);
      const std::string body = Json{{"token", tokens[i]}}.dump();
      for (;;) {
        try {
          auto r = http.post(path, body);
          (r.status == 403 ? forbidden : answered) += 1;
          if (r.header("Connection").value_or("") == "close") return;
        } catch (const std::exception& e) {  // after the drain: the port is closed
          if (std::string(e.what()).find("cannot connect") == std::string::npos) {
            failures[i] = e.what();
            ++silent;
          }
          return;
        }
      }
    });
  }
  while (answered < 200) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(service.stop(), 0);
  for (auto& t : threads) t.join();
  EXPECT_EQ(forbidden.load(), 0) << "valid tokens answered 403 during the shutdown";
  EXPECT_EQ(silent.load(), 0) << "requests closed without an answer: "
                              << fmt::format("{}", fmt::join(failures, "; "));
}

// SIGTERM stops the service in order: every session's Server stashes its state (its terminate
// runs, since it traps exits), and the exit status is 0. No token is ever logged.
TEST(HttpShutdown, SigtermStashesEverySessionAndExitsZero) {
  Service service;
  auto http = service.client();
  std::vector<std::string> tokens;
  for (const char* login : {"eric", "jose"}) {
    auto r = http.post("/sessions", Json{{"login", login}}.dump());
    ASSERT_EQ(r.status, 201);
    tokens.push_back(r.json()["token"]);
    auto v = http.post(std::string("/sessions/") + login + "/validate",
                       Json{{"token", tokens.back()}}.dump());
    ASSERT_EQ(v.status, 200);
  }
  EXPECT_EQ(service.stop(), 0);
  const std::string& out = service.output();
  for (const char* login : {"eric", "jose"}) {
    EXPECT_NE(out.find(fmt::format("%User{{login: \"{}\", request_count: 1, token: "
                                   "#Token<redacted>}} terminates: shutdown",
                                   login)),
              std::string::npos)
        << out;
  }
  EXPECT_NE(out.find("hang_ten stopped"), std::string::npos) << out;
  for (const auto& token : tokens) EXPECT_EQ(out.find(token), std::string::npos) << out;
}

}  // namespace
