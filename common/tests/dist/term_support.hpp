// What the otp::dist tests share: GoogleTest's printing of a Term (its ~p text), and byte
// strings written as lists of numbers and joined from pieces, as the format's specification
// writes them.
#pragma once

#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>

#include "otp/dist/term.hpp"

namespace otp {
// GoogleTest looks this name up. NOLINTNEXTLINE(readability-identifier-naming)
inline void PrintTo(const Term& t, std::ostream* out) { *out << t.to_string(); }
}  // namespace otp

namespace otp::dist::testing {

// {131, 100, 0, 2} as the four bytes.
inline std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (int b : list) out.push_back(static_cast<char>(b));
  return out;
}

inline std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out += p;
  return out;
}

}  // namespace otp::dist::testing
