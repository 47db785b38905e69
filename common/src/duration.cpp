// otp/duration.hpp: "300ms", "2s", "1m" to a Duration and back.
#include "otp/duration.hpp"

#include <charconv>
#include <cstdint>

#include <fmt/format.h>

namespace otp {

namespace {

using std::chrono::milliseconds;

// The unit's length in ms, 0 when `text` is not digits and a unit.
std::uint64_t duration_scale(std::string_view text) {
  const std::size_t unit = text.find_first_not_of("0123456789");
  if (unit == std::string_view::npos || unit == 0) return 0;
  std::string_view suffix = text.substr(unit);
  if (suffix == "ms") return 1;
  if (suffix == "s") return 1000;
  if (suffix == "m") return 60'000;
  return 0;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  const std::uint64_t scale = duration_scale(text);
  if (scale == 0) return std::nullopt;
  const auto max_ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<milliseconds>(max_duration).count());
  const std::string_view digits = text.substr(0, text.find_first_not_of("0123456789"));
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size() || n > max_ms / scale)
    return std::nullopt;
  return milliseconds(static_cast<std::int64_t>(n * scale));
}

std::string duration_error(std::string_view text) {
  if (duration_scale(text) != 0) {
    return fmt::format("duration too long: {} (at most {}, 366 days)", text,
                       format_duration(max_duration));
  }
  return fmt::format("not a duration: \"{}\" (use e.g. 300ms, 2s or 1m)", text);
}

std::string format_duration(Duration d) {
  const auto ms = std::chrono::duration_cast<milliseconds>(d).count();
  if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
  if (ms != 0 && ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

}  // namespace otp
