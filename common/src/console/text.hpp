// The console's small text helpers: a pid's digits, and errors as the one line `** (kind) ...`.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace otp::detail {

// Digits only, without sign or overflow past `max`.
inline std::optional<std::uint64_t> parse_count(std::string_view digits, std::uint64_t max) {
  std::uint64_t n = 0;
  if (digits.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size() || n > max) return std::nullopt;
  return n;
}

inline std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

inline std::string error_line(std::string_view kind, std::string_view message) {
  return one_line(fmt::format("** ({}) {}", kind, message));
}

inline bool is_error(std::string_view result) { return result.starts_with("** ("); }

}  // namespace otp::detail
