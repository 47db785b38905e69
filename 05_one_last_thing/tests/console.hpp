// The console driver (otp/testing/console_driver.hpp), pointed at this stage's hang_ten.
#pragma once

#include <string>
#include <vector>

#include "otp/testing/console_driver.hpp"

namespace console {

inline std::vector<std::string> run(const std::string& args) {
  return otp::testing::run_console(OTP_PROGRAM, args);
}

struct Session : otp::testing::ConsoleSession {
  explicit Session(const std::string& args = "") : ConsoleSession(OTP_PROGRAM, args) {}
};

using otp::testing::pid_of;
using otp::testing::starts_with;

}  // namespace console
