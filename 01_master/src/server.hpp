// A user's process. Its state is the user's login, and nothing more yet.
#pragma once

#include <string>

#include "otp/otp.hpp"

namespace hang_ten {

class Server : public otp::GenServer<Server, std::string> {
 public:
  struct Boom {};
  struct State {};

  static otp::Start start_link(std::string login) {
    return GenServer::start_link(std::move(login));
  }

  std::string init(const std::string& login) { return login; }

  void handle_call(Boom) { otp::exit(otp::Reason::other("boom")); }
  std::string handle_call(State) { return state(); }

  void terminate(const otp::Reason& reason) {
    // exercise: server-terminate — log "<state> terminates: <reason>"
    otp::log::info("{} terminates: {}", state(), reason);
    // end exercise
  }
};

}  // namespace hang_ten
