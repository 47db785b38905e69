// The top-level supervisor: one child per user, started at run time, at most `max_sessions`
// (0: no limit) so that no client can open sessions until the memory runs out.
#pragma once

#include <string>

#include "otp/otp.hpp"
#include "user_supervisor.hpp"

namespace hang_ten {

struct Supervisor : otp::DynamicSupervisor {
  static constexpr const char* name = "HangTen.Supervisor";

  static otp::Start start_link(std::size_t max_sessions = 0) {
    return DynamicSupervisor::start_link(
        otp::Name::local(name),
        {.strategy = otp::Strategy::one_for_one, .max_children = max_sessions});
  }

  static otp::Start start_child(std::string login) {
    return DynamicSupervisor::start_child(name, otp::child<UserSupervisor>(std::move(login)));
  }
};

}  // namespace hang_ten
