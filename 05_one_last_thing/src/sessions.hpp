// Where the sessions live, picked once when the application starts (--stash): in processes
// (the memory stash: a session is its supervisor, Stash, Server and Timer; hang_ten.hpp) or in
// Redis (a hash per login; redis_stash.hpp). The console, the routes and the tests call the one
// the application started with, through sessions() (hang_ten.hpp).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "otp/otp.hpp"
#include "user.hpp"

namespace hang_ten {

// A stash that cannot answer now (Redis unreachable): the service answers 503.
struct StashUnavailable : std::runtime_error {
  StashUnavailable() : std::runtime_error("stash unavailable") {}
};

class Sessions {
 public:
  virtual ~Sessions() = default;

  // The user's session, started now if there was none: {user, whether it is new}.
  virtual otp::Co<std::pair<User, bool>> open(std::string login) = 0;
  // The user, or nothing when there is no session.
  virtual otp::Co<std::optional<User>> find(std::string login) = 0;
  // Counts a request made with `token`: the new request count, or nothing when the token is not
  // the session's (or there is no session).
  virtual otp::Co<std::optional<int>> validate(std::string login, std::string token) = 0;
  // A new token for the session; nothing when there is no session.
  virtual otp::Co<std::optional<User>> rotate(std::string login) = 0;
  // Ends the user's session; false when there is none.
  virtual otp::Co<bool> stop(std::string login) = 0;
  // The logins of the live sessions, in no order, perhaps one twice.
  virtual otp::Co<std::vector<std::string>> logins() = 0;
  // Whether it can answer now (GET /readyz): memory always; Redis when it answers a PING.
  virtual otp::Co<bool> ready() = 0;
  // "memory" or "redis".
  virtual const char* kind() const = 0;
  // Whether a session is processes (memory), which the console's commands may show or crash.
  virtual bool in_processes() const { return false; }
};

}  // namespace hang_ten
