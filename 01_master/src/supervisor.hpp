// The top-level supervisor: one child per user, started at run time.
#pragma once

#include <string>

#include "otp/otp.hpp"
#include "server.hpp"

namespace hang_ten {

struct Supervisor : otp::DynamicSupervisor {
  static constexpr const char* name = "HangTen.Supervisor";

  static otp::Start start_link() {
    // exercise: supervisor-start — a DynamicSupervisor, one_for_one, named HangTen.Supervisor
    return DynamicSupervisor::start_link(otp::Name::local(name),
                                         {.strategy = otp::Strategy::one_for_one});
    // end exercise
  }

  static otp::Start start_child(std::string login) {
    // exercise: supervisor-start-child — a Server for the login, child of `name`
    return DynamicSupervisor::start_child(name, otp::child<Server>(std::move(login)));
    // end exercise
  }
};

}  // namespace hang_ten
