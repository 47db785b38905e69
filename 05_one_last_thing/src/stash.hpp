// Holds a user, named "<login>_stash", while the user's Server crashes and restarts. The
// session's token is made here, once, when the session starts.
#pragma once

#include <chrono>
#include <string>

#include "otp/otp.hpp"
#include "registry.hpp"
#include "timer.hpp"
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

  User init(const std::string& login) {
    auto expires_at = std::chrono::time_point_cast<std::chrono::milliseconds>(WallClock::now()) +
                      std::chrono::duration_cast<std::chrono::milliseconds>(timeouts.absolute);
    return User{login, 0, Token::generate(), expires_at};
  }
  User handle_call(Get) { return state(); }
  void handle_cast(Put put) { state() = std::move(put.user); }
};

}  // namespace hang_ten
