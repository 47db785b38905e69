// Durations as people write them: "300ms", "2s", "10m".
//
//   auto d = otp::parse_duration("2s");            // 2000 ms; nullopt for "2", "2h" or "-1s"
//   if (!d) throw std::invalid_argument(otp::duration_error("2h"));
//   otp::format_duration(std::chrono::minutes(15)); // "15m"
//
// A duration is a count and a unit (ms, s or m), digits only, at most max_duration (366 days:
// enough for any timeout, far from overflowing nanoseconds). The console's duration flags and its
// `sleep` command read them, and so do the benchmarks' command lines.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "otp/runtime.hpp"  // otp::Duration

namespace otp {

inline constexpr Duration max_duration = std::chrono::hours(24 * 366);

// "300ms", "2s", "1m": a count and a unit (ms, s or m), at most max_duration; nullopt for
// anything else.
std::optional<Duration> parse_duration(std::string_view text);
// Why `text` is not a duration, as one line: `not a duration: "2h" (use e.g. 300ms, 2s or 1m)`
// or `duration too long: ...`.
std::string duration_error(std::string_view text);
// The shortest of those forms that is exact: 900000ms -> "15m" (whole milliseconds).
std::string format_duration(Duration d);

}  // namespace otp
