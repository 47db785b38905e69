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
    return otp::Supervisor::start_link(via(login, "sup"),
                                       {otp::child<Stash>(login), otp::child<Server>(login)},
                                       {.strategy = otp::Strategy::one_for_one});
  }
};

}  // namespace hang_ten
