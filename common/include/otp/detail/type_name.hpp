// The readable name of a C++ type, computed at compile time (for reports).
#pragma once

#include <string_view>

namespace otp::detail {

template <class T>
constexpr std::string_view type_name() {
  std::string_view f = __PRETTY_FUNCTION__;  // "... type_name() [with T = Foo; ...]" (GCC) or "[T = Foo]" (Clang)
  auto start = f.find("T = ");
  if (start == std::string_view::npos) return f;
  start += 4;
  auto end = f.find_first_of(";]", start);
  return f.substr(start, end - start);
}

template <class T>
inline constexpr std::string_view type_name_v = type_name<T>();

}  // namespace otp::detail
