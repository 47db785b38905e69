// Logins: 1 to 64 bytes of A-Z a-z 0-9 . _ @ -
#pragma once

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace hang_ten {

// The login, or std::invalid_argument when it is not one.
inline std::string check_login(std::string login) {
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("._@-").find(c) != std::string_view::npos;
  };
  if (login.empty() || login.size() > 64 || !std::ranges::all_of(login, ok)) {
    throw std::invalid_argument(
        fmt::format("invalid login \"{}\": use 1 to 64 of A-Z a-z 0-9 . _ @ -", login));
  }
  return login;
}

}  // namespace hang_ten
