// A user's processes, named "<login>_sup": the Stash, then the Server that reads it.
#pragma once

#include <string>

#include "otp/otp.hpp"
#include "registry.hpp"
#include "server.hpp"
#include "stash.hpp"

namespace hang_ten {

struct UserSupervisor : otp::Supervisor {
  static otp::Start start_link(std::string login) {
    // exercise: user-supervisor — the Stash, then the Server, one_for_one, as "<login>_sup"
    return otp::Supervisor::start_link(via(login, "sup"),
                                       {otp::child<Stash>(login), otp::child<Server>(login)},
                                       {.strategy = otp::Strategy::one_for_one});
    // end exercise
  }
};

}  // namespace hang_ten
