// The Redis stash: sessions in a real redis-server of the test's own, served by one or two
// `hang_ten serve --stash redis://...` processes (ctest labels `http` and `redis`).
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "otp/testing/redis_server.hpp"
#include "service.hpp"

namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// Polls `done` until it holds, for at most `bound`.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds bound = 10s) {
  const auto until = std::chrono::steady_clock::now() + bound;
  for (auto step = 1ms; !done(); step = std::min(step * 2, std::chrono::milliseconds(100))) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(step);
  }
  return true;
}

struct RedisStash : ::testing::Test {
  otp::testing::RedisServer redis;

  std::vector<std::string> args(std::vector<std::string> more = {}) {
    more.insert(more.begin(), {"--stash", redis.url()});
    return more;
  }
  static std::string open(otp::testing::HttpClient& http, const std::string& login) {
    auto r = http.post("/sessions", Json{{"login", login}}.dump());
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body;
    return r.json().value("token", "");
  }
  static otp::testing::HttpReply validate(otp::testing::HttpClient& http, const std::string& login,
                                          const std::string& token) {
    return http.post("/sessions/" + login + "/validate", Json{{"token", token}}.dump());
  }
  static int count(otp::testing::HttpClient& http, const std::string& login) {
    auto r = http.get("/sessions/" + login);
    return r.status == 200 ? r.json()["request_count"].get<int>() : -1;
  }
};

TEST_F(RedisStash, SessionsSurviveARestartOfTheService) {
  std::string token;
  {
    Service a(args());
    auto http = a.client();
    token = open(http, "eric");
    for (int i = 0; i < 3; ++i) ASSERT_EQ(validate(http, "eric", token).status, 200);
    EXPECT_EQ(a.stop(), 0);
  }
  Service again(args());
  auto http = again.client();
  auto v = validate(http, "eric", token);
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.json()["request_count"], 4);
}

TEST_F(RedisStash, TwoInstancesShareSessions) {
  Service a(args());
  Service b(args());
  auto on_a = a.client();
  auto on_b = b.client();
  const std::string token = open(on_a, "eric");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(validate(on_a, "eric", token).status, 200);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(validate(on_b, "eric", token).status, 200);
  EXPECT_EQ(count(on_a, "eric"), 5);
  EXPECT_EQ(count(on_b, "eric"), 5);
  EXPECT_EQ(open(on_b, "eric"), token);  // the same session, from either side
}

TEST_F(RedisStash, AValidateAfterADeleteElsewhereIsRefused) {
  Service a(args());
  Service b(args());
  auto on_a = a.client();
  auto on_b = b.client();
  const std::string token = open(on_a, "eric");
  ASSERT_EQ(validate(on_b, "eric", token).status, 200);
  ASSERT_EQ(on_a.del("/sessions/eric").status, 204);
  EXPECT_EQ(validate(on_b, "eric", token).status, 403);
  EXPECT_EQ(on_b.get("/sessions/eric").status, 404);
}

TEST_F(RedisStash, AnIdleSessionIsGoneEverywhere) {
  Service a(args({"--inactive-timeout", "1s"}));
  Service b(args({"--inactive-timeout", "1s"}));
  auto on_a = a.client();
  auto on_b = b.client();
  const std::string token = open(on_a, "eric");
  ASSERT_EQ(validate(on_b, "eric", token).status, 200);
  EXPECT_TRUE(eventually([&] { return on_a.get("/sessions/eric").status == 404; }));
  EXPECT_EQ(on_b.get("/sessions/eric").status, 404);
  EXPECT_EQ(validate(on_b, "eric", token).status, 403);
}

TEST_F(RedisStash, AnOldSessionIsGoneEverywhereHoweverBusy) {
  Service a(args({"--absolute-timeout", "1s"}));
  Service b(args({"--absolute-timeout", "1s"}));
  auto on_a = a.client();
  auto on_b = b.client();
  const std::string token = open(on_a, "eric");
  ASSERT_EQ(validate(on_b, "eric", token).status, 200);
  // Kept busy, it still ends: the validates are refused once it is a second old.
  EXPECT_TRUE(eventually([&] { return validate(on_b, "eric", token).status == 403; }));
  EXPECT_EQ(on_a.get("/sessions/eric").status, 404);
  EXPECT_EQ(validate(on_a, "eric", token).status, 403);
}

TEST_F(RedisStash, RedisDownFailsOnlyTheRequestsThatNeedItAndRecovers) {
  Service a(args());
  auto http = a.client();
  const std::string token = open(http, "eric");
  redis.stop();

  auto v = validate(http, "eric", token);
  EXPECT_EQ(v.status, 503);
  EXPECT_EQ(v.json(), (Json{{"error", "stash unavailable"}}));
  EXPECT_EQ(http.get("/sessions/eric").status, 503);
  EXPECT_EQ(http.get("/healthz").status, 200);
  EXPECT_EQ(http.get("/metrics").status, 200);  // Redis counts its sessions: nothing to ask it
  auto ready = http.get("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.json(), (Json{{"status", "unavailable"}, {"stash", "redis"}}));

  redis.start();  // an empty Redis (no persistence): the service reconnects by itself
  EXPECT_TRUE(
      eventually([&] { return http.post("/sessions", R"({"login":"jose"})").status == 201; }, 60s));
  const std::string jose = open(http, "jose");
  EXPECT_EQ(validate(http, "jose", jose).json()["request_count"], 1);
  EXPECT_EQ(http.get("/readyz").status, 200);
  EXPECT_NE(a.output().find("redis: lost the connection to 127.0.0.1:"), std::string::npos)
      << a.output();
  EXPECT_NE(a.output().find("redis: connected to 127.0.0.1:"), std::string::npos) << a.output();
}

// A client validates as fast as it can while the instance is killed with SIGKILL: every
// validation it was answered 200 for is in Redis (one more at most: counted, then killed before
// its answer went out).
TEST_F(RedisStash, AKilledInstanceLosesNoAnsweredValidation) {
  Service b(args());
  auto on_b = b.client();
  Service a(args());
  auto on_a = a.client();
  const std::string token = open(on_a, "eric");
  std::atomic<int> answered{0};
  std::thread client([&] {
    try {
      auto http = a.client();
      while (validate(http, "eric", token).status == 200) ++answered;
    } catch (const std::exception&) {  // the connection died with the instance
    }
  });
  ASSERT_TRUE(eventually([&] { return answered >= 20; }));
  a.kill9();
  client.join();
  const int counted = count(on_b, "eric");
  EXPECT_GE(counted, answered.load());
  EXPECT_LE(counted, answered.load() + 1);
}

}  // namespace
