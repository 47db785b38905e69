// The built `observer_lab` console, driven by scripts: its commands, and what it says when it has
// no Redis.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/testing/console_driver.hpp"

using otp::testing::starts_with;

namespace {

// A Redis that is not there (port 1): the pool starts and keeps trying, no redis-server runs.
std::vector<std::string> run(const std::string& script) {
  return otp::testing::run_console(OTP_PROGRAM, "--redis 127.0.0.1:1 -e '" + script + "'");
}

bool has_line_with(const std::vector<std::string>& out, const std::string& text) {
  return std::ranges::any_of(out, [&](const auto& l) { return l.find(text) != l.npos; });
}

}  // namespace

TEST(Console, LoadAndSlowChangeTheWorkerPool) {
  auto out = run("load high; slow worker_1; slow worker_2 1s; load 0; load medium; slow sessions");
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0], ":ok");
  EXPECT_EQ(out[1], ":ok");
  EXPECT_EQ(out[2], ":ok");
  EXPECT_EQ(out[3], ":ok");
  EXPECT_EQ(out[4], "** (ArgumentError) load: 0, low or high, not medium");
  EXPECT_EQ(out[5], "** (ArgumentError) no worker sessions");
}

TEST(Console, NewStartsASessionAndVisitCounts) {
  auto out = run("new mia; visit mia 3; visit ana; tree");
  ASSERT_GE(out.size(), 3u);
  EXPECT_TRUE(starts_with(out[0], "{:ok, <0.")) << out[0];
  EXPECT_EQ(out[1], "3");
  EXPECT_EQ(out[2], "1");
  EXPECT_TRUE(has_line_with(out, " mia_server "));
  EXPECT_TRUE(has_line_with(out, " redis_pool "));
}

TEST(Console, WithoutARedisServerItSaysSoAndStartsTheOtherApplications) {
  auto out = otp::testing::run_console("PATH=/nonexistent " OTP_PROGRAM, "-e tree");
  ASSERT_FALSE(out.empty());
  EXPECT_TRUE(starts_with(out[0], "redis: no redis-server, so no Redis pool (")) << out[0];
  EXPECT_FALSE(has_line_with(out, " redis_pool "));
  for (const char* top : {" terms_cache ", " sessions ", " worker_pool "})
    EXPECT_TRUE(has_line_with(out, top)) << top;
}
