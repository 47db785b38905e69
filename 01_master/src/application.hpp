// The application: starting it starts the top-level supervisor.
#pragma once

#include "otp/otp.hpp"
#include "supervisor.hpp"

namespace hang_ten {

struct Application {
  static otp::Start start() { return Supervisor::start_link(); }
};

}  // namespace hang_ten
