// A user's processes, named "<login>_sup": the Stash, the Timer, and the SubSupervisor of the
// Server.
#pragma once

#include <string>

#include "otp/otp.hpp"
#include "registry.hpp"
#include "stash.hpp"
#include "sub_supervisor.hpp"
#include "timer.hpp"

namespace hang_ten {

struct UserSupervisor : otp::Supervisor {
  static otp::Start start_link(std::string login) {
    // exercise: user-supervisor — three children: the Stash, the Timer, the SubSupervisor
    return otp::Supervisor::start_link(
        via(login, "sup"),
        {otp::child<Stash>(login), otp::child<Timer>(login), otp::child<SubSupervisor>(login)},
        {.strategy = otp::Strategy::one_for_one});
    // end exercise
  }
};

}  // namespace hang_ten
