// A user: a login and the number of requests it made.
#pragma once

#include <string>

#include <fmt/format.h>

namespace hang_ten {

struct User {
  std::string login;
  int request_count = 0;
};

}  // namespace hang_ten

template <>
struct fmt::formatter<hang_ten::User> : fmt::formatter<std::string_view> {
  auto format(const hang_ten::User& u, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "%User{{login: \"{}\", request_count: {}}}", u.login,
                          u.request_count);
  }
};
