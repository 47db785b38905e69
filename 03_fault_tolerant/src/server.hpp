// A user's process, named "<login>_server" in the registry. Its state is the User, read from the
// Stash when it starts and written back when it terminates, so a crash loses nothing.
#pragma once

#include <string>

#include "otp/otp.hpp"
#include "registry.hpp"
#include "stash.hpp"
#include "user.hpp"

namespace hang_ten {

class Server : public otp::GenServer<Server, User> {
 public:
  struct CountRequest {};
  struct Show {};
  struct Boom {};

  static otp::Start start_link(std::string login) {
    return GenServer::start_link(via(login, "server"), login);
  }

  otp::Co<User> init(std::string login) {
    // exercise: server-init — the Server starts from the User in its Stash ("<login>_stash")
    co_return co_await Stash::call(via(login, "stash"), Stash::Get{});
    // end exercise
  }

  void handle_cast(CountRequest) { ++state().request_count; }
  User handle_call(Show) { return state(); }
  void handle_call(Boom) { otp::exit(otp::Reason::other("boom")); }

  void terminate(const otp::Reason& reason) {
    otp::log::info("{} terminates: {}", state(), reason);
    // exercise: server-terminate — before it goes, the Server casts its User back to the Stash
    Stash::cast(via(state().login, "stash"), Stash::Put{state()});
    // end exercise
  }
};

}  // namespace hang_ten
