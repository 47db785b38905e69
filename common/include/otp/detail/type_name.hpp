// The readable name of a C++ type, computed at compile time (for reports).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace otp::detail {

// The name as the compiler spells it.
template <class T>
constexpr std::string_view compiler_type_name() {
  std::string_view f =
      __PRETTY_FUNCTION__;  // "... [with T = Foo; ...]" (GCC) or "[T = Foo]" (Clang)
  auto start = f.find("T = ");
  if (start == std::string_view::npos) return f;
  start += 4;
  auto end = f.find_first_of(";]", start);
  return f.substr(start, end - start);
}

// The name as a reader writes it: without the standard library's inline namespaces (libstdc++'s
// std::__cxx11::, libc++'s std::__1::), std::basic_string<char> as std::string, and no space
// between two closing angle brackets. Writes it to out unless out is null; returns its length.
constexpr std::size_t readable_type_name(std::string_view name, char* out) {
  constexpr std::string_view inline_namespaces[] = {"__cxx11::", "__1::"};
  constexpr std::string_view spellings[][2] = {
      {"basic_string<char>", "string"},
      {"basic_string_view<char>", "string_view"},
  };
  auto in_name = [](char c) {
    return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
  };
  std::size_t n = 0;
  auto put = [&](std::string_view s) {
    for (char c : s) {
      if (out) out[n] = c;
      ++n;
    }
  };
  for (std::size_t i = 0; i < name.size();) {
    if (name.substr(i).starts_with(" >") && i > 0 && name[i - 1] == '>') {
      ++i;  // GCC's "std::vector<std::string >"
      continue;
    }
    if ((i > 0 && in_name(name[i - 1])) || !name.substr(i).starts_with("std::")) {
      put(name.substr(i++, 1));
      continue;
    }
    put("std::");
    i += 5;
    for (std::string_view ns : inline_namespaces) {
      if (name.substr(i).starts_with(ns)) i += ns.size();
    }
    for (const auto& [from, to] : spellings) {
      if (name.substr(i).starts_with(from)) {
        put(to);
        i += from.size();
        break;
      }
    }
  }
  return n;
}

template <class T>
struct ReadableTypeName {
  static constexpr std::string_view compiler = compiler_type_name<T>();
  static constexpr std::size_t size = readable_type_name(compiler, nullptr);
  static constexpr std::array<char, size> text = [] {
    std::array<char, size> chars{};
    readable_type_name(compiler, chars.data());
    return chars;
  }();
};

// std::string is "std::string", hang_ten::Server::Boom is "hang_ten::Server::Boom".
template <class T>
constexpr std::string_view type_name() {
  return {ReadableTypeName<T>::text.data(), ReadableTypeName<T>::size};
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
