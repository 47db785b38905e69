// The top-level supervisor: one child per user, started at run time.
#pragma once

#include <string>

#include "otp/otp.hpp"
#include "user_supervisor.hpp"

namespace hang_ten {

struct Supervisor : otp::DynamicSupervisor {
  static constexpr const char* name = "HangTen.Supervisor";

  static otp::Start start_link() {
    return DynamicSupervisor::start_link(otp::Name::local(name),
                                         {.strategy = otp::Strategy::one_for_one});
  }

  static otp::Start start_child(std::string login) {
    // exercise: session-per-user — a session is now a UserSupervisor, not a bare Server
    return DynamicSupervisor::start_child(name, otp::child<UserSupervisor>(std::move(login)));
    // end exercise
  }
};

}  // namespace hang_ten
