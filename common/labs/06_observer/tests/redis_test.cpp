// The fourth application, lab 05's Redis pool, beside the others: a tree of its own whose
// connections come back when killed. With a redis-server of the test's own.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "observer_lab.hpp"
#include "otp/testing/redis_server.hpp"

using namespace std::chrono_literals;

TEST(ObserverLabRedis, ThePoolIsAFourthTreeAndAKilledConnectionComesBack) {
  otp::testing::RedisServer server;
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Applications apps(me);
  lab::start_applications(
      apps, me, {.redis = otp::redis::Options{.host = server.host(), .port = server.port()}});
  const otp::Pid pool = *rt.whereis("redis_pool");
  auto tree = me.await(otp::observer::tree(pool));
  ASSERT_TRUE(tree);
  std::vector<std::string> names;
  for (const auto& child : tree->children) names.push_back(child.info.name);
  EXPECT_EQ(names, (std::vector<std::string>{"redis_pool_0", "redis_pool_1", "redis_pool_2"}));
  EXPECT_EQ(me.await(otp::observer::info(pool))->parent, me.pid());

  const otp::Pid old = *rt.whereis("redis_pool_1");
  otp::exit(old, otp::Reason::kill());
  std::optional<otp::Pid> now;
  for (int i = 0; i < 500 && (!now || *now == old); ++i) {
    me.receive<int>(20ms);  // a pause; no int ever comes
    now = rt.whereis("redis_pool_1");
  }
  ASSERT_TRUE(now && *now != old) << "redis_pool_1 was not restarted";
  EXPECT_EQ(me.await(otp::observer::info(*now))->parent, pool);
  for (int i = 0; i < 20; ++i) {
    auto reply = me.await(lab::RedisPool::command({"PING"}));
    ASSERT_TRUE(reply.ok()) << reply.to_string();
  }
}
