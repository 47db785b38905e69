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
    return otp::Supervisor::start_link(
        via(login, "sup"),
        {otp::child<Stash>(login), otp::child<Timer>(login), otp::child<SubSupervisor>(login)},
        {.strategy = otp::Strategy::one_for_one});
  }
};

}  // namespace hang_ten
