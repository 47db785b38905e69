// What a user of the application calls (the console's commands, the tests).
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "login.hpp"
#include "otp/otp.hpp"
#include "registry.hpp"
#include "supervisor.hpp"

namespace hang_ten {

inline otp::Start create(std::string login) { return Supervisor::start_child(check_login(login)); }

inline std::optional<otp::Pid> whereis(const std::string& login) {
  // exercise: whereis — find the user's Server by login through its via-name
  return via(login, "server").whereis();
  // end exercise
}

inline void count_request(const std::string& login) {
  Server::cast(via(login, "server"), Server::CountRequest{});
}
inline auto show(const std::string& login) {
  return Server::call(via(login, "server"), Server::Show{});
}
inline auto boom(const std::string& login) {
  return Server::call(via(login, "server"), Server::Boom{});
}

// Ends the user's session; false when there is none.
inline otp::Co<bool> stop(const std::string& login) {
  return Supervisor::terminate_child(Supervisor::name, whereis(login).value_or(otp::Pid{}));
}

// The logins of the live sessions, sorted.
inline otp::Co<std::vector<std::string>> logins() {
  std::vector<std::string> out;
  for (const auto& child : co_await Supervisor::which_children(Supervisor::name)) {
    for (const std::string& key : registry.keys(child.pid))
      out.push_back(key.substr(0, key.rfind('_')));
  }
  std::ranges::sort(out);
  co_return out;
}

}  // namespace hang_ten
