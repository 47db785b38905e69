// Supervises a user's Server, named "<login>_subsup": however often the Server crashes, the
// restarts stay below this supervisor and never reach the Stash.
#pragma once

#include <string>

#include "otp/otp.hpp"
#include "registry.hpp"
#include "server.hpp"

namespace hang_ten {

struct SubSupervisor : otp::Supervisor {
  static otp::Start start_link(std::string login) {
    // exercise: sub-supervisor — the Server alone under "<login>_subsup": its crashes stay here
    return otp::Supervisor::start_link(via(login, "subsup"), {otp::child<Server>(login)},
                                       {.strategy = otp::Strategy::one_for_one});
    // end exercise
  }
};

}  // namespace hang_ten
