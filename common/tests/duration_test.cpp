// otp/duration.hpp: "300ms", "2s", "1m" and back.
#include "otp/duration.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

TEST(Duration, ParsesMillisecondsSecondsAndMinutes) {
  EXPECT_EQ(otp::parse_duration("300ms"), otp::Duration(300ms));
  EXPECT_EQ(otp::parse_duration("2s"), otp::Duration(2s));
  EXPECT_EQ(otp::parse_duration("15m"), otp::Duration(15min));
  EXPECT_EQ(otp::parse_duration("0ms"), otp::Duration(0ms));
}

TEST(Duration, RefusesAnythingElse) {
  for (const char* bad :
       {"", "ms", "10", "10h", "-1s", "1.5s", "1 s", "s1", "10mss", "99999999999999999999m"}) {
    EXPECT_FALSE(otp::parse_duration(bad).has_value()) << bad;
  }
}

TEST(Duration, FormatsTheShortestExactForm) {
  EXPECT_EQ(otp::format_duration(15min), "15m");
  EXPECT_EQ(otp::format_duration(90s), "90s");
  EXPECT_EQ(otp::format_duration(1500ms), "1500ms");
  EXPECT_EQ(otp::format_duration(0ms), "0ms");
}

TEST(Duration, SaysWhyTextIsNotADuration) {
  EXPECT_EQ(otp::duration_error("2h"), "not a duration: \"2h\" (use e.g. 300ms, 2s or 1m)");
  EXPECT_EQ(otp::duration_error("99999999999999999999m"),
            "duration too long: 99999999999999999999m (at most 527040m, 366 days)");
}

TEST(Duration, ReadsBackWhatItFormats) {
  for (otp::Duration d : {otp::Duration(0ms), otp::Duration(1ms), otp::Duration(2500ms),
                          otp::Duration(3s), otp::Duration(10min), otp::max_duration}) {
    EXPECT_EQ(otp::parse_duration(otp::format_duration(d)), d) << otp::format_duration(d);
  }
  EXPECT_EQ(otp::parse_duration(otp::format_duration(otp::max_duration + 1ms)), std::nullopt);
}

}  // namespace
