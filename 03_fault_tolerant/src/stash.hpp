// Holds a user, named "<login>_stash", while the user's Server crashes and restarts.
#pragma once

#include <string>

#include "otp/otp.hpp"
#include "registry.hpp"
#include "user.hpp"

namespace hang_ten {

class Stash : public otp::GenServer<Stash, User> {
 public:
  struct Get {};
  struct Put {
    User user;
  };

  static otp::Start start_link(std::string login) {
    return GenServer::start_link(via(login, "stash"), login);
  }

  User init(const std::string& login) { return User{login}; }
  User handle_call(Get) { return state(); }
  void handle_cast(Put put) { state() = std::move(put.user); }
};

}  // namespace hang_ten
