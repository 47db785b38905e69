// What a user of the application calls (the console's commands, the tests).
#pragma once

#include <string>

#include "login.hpp"
#include "otp/otp.hpp"
#include "supervisor.hpp"

namespace hang_ten {

inline otp::Start create(std::string login) { return Supervisor::start_child(check_login(login)); }

inline auto boom(otp::Pid server) { return Server::call(server, Server::Boom{}); }
inline auto state(otp::Pid server) { return Server::call(server, Server::State{}); }

}  // namespace hang_ten
