// A user: a login, the number of requests it made, its session's token and when the session
// ends at the latest.
#pragma once

#include <chrono>
#include <string>

#include <fmt/format.h>

#include "token.hpp"

namespace hang_ten {

using WallClock = std::chrono::system_clock;

struct User {
  std::string login;
  int request_count = 0;
  Token token;
  WallClock::time_point expires_at{};
};

}  // namespace hang_ten

template <>
struct fmt::formatter<hang_ten::User> : fmt::formatter<std::string_view> {
  auto format(const hang_ten::User& u, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "%User{{login: \"{}\", request_count: {}, token: {}}}",
                          u.login, u.request_count, u.token);
  }
};
