// The line a log record makes on stderr when no sink is set (logger.cpp). The console's prompt
// (console/prompt.cpp) prints the records that come while it waits for a key the same way.
#pragma once

#include <string>

#include "otp/logger.hpp"

namespace otp::log::detail {

std::string line(const LogRecord& record);

}  // namespace otp::log::detail
