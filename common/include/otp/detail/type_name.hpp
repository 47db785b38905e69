// The readable name of a C++ type, computed at compile time (for reports).
#pragma once

#include <string>
#include <string_view>

namespace otp::detail {

template <class T>
constexpr std::string_view type_name() {
  std::string_view f =
      __PRETTY_FUNCTION__;  // "... type_name() [with T = Foo; ...]" (GCC) or "[T = Foo]" (Clang)
  auto start = f.find("T = ");
  if (start == std::string_view::npos) return f;
  start += 4;
  auto end = f.find_first_of(";]", start);
  return f.substr(start, end - start);
}

template <class T>
inline constexpr std::string_view type_name_v = type_name<T>();

}  // namespace otp::detail

namespace otp {

// A C++ type's name (or a text holding some) the way a reader of the reports knows it, in the
// spirit of Elixir's module names: hang_ten::Server::Boom -> HangTen.Server.Boom; the runtime's
// own machinery (otp::, anonymous namespaces) is dropped, and a call or cast message
// (CallMsg<Server, Boom>) is named by its request. std:: names stay as they are.
std::string module_name(std::string_view type);

}  // namespace otp
