// Where the console keeps a program's prompt history.
#pragma once

#include <string>

namespace otp::detail {

// $XDG_STATE_HOME/<program>/history, else ~/.local/state/<program>/history (the folder is
// created); empty without a home or when the folder cannot be made.
std::string history_file(const std::string& program);

}  // namespace otp::detail
