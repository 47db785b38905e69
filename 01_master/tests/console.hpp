// The console driver (otp/testing/console_driver.hpp), pointed at this stage's hang_ten.
#pragma once

#include <string>
#include <vector>

#include "otp/testing/console_driver.hpp"

namespace console {

inline std::vector<std::string> run(const std::string& args) { return otp::testing::run_console(HANG_TEN_BINARY, args); }

struct Session : otp::testing::ConsoleSession {
  explicit Session(const std::string& args = "") : ConsoleSession(HANG_TEN_BINARY, args) {}
};

using otp::testing::pid_of;
using otp::testing::starts_with;

}  // namespace console
