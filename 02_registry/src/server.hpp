// A user's process, named "<login>_server" in the registry. Its state is the User.
#pragma once

#include <string>

#include "otp/otp.hpp"
#include "registry.hpp"
#include "user.hpp"

namespace hang_ten {

class Server : public otp::GenServer<Server, User> {
 public:
  struct CountRequest {};
  struct Show {};
  struct Boom {};

  static otp::Start start_link(std::string login) {
    // exercise: server-via-name — start the Server under its via-name "<login>_server"
    return GenServer::start_link(via(login, "server"), login);
    // end exercise
  }

  User init(const std::string& login) { return User{login}; }

  void handle_cast(CountRequest) { ++state().request_count; }
  User handle_call(Show) { return state(); }
  void handle_call(Boom) { otp::exit(otp::Reason::other("boom")); }

  void terminate(const otp::Reason& reason) {
    otp::log::info("{} terminates: {}", state(), reason);
  }
};

}  // namespace hang_ten
