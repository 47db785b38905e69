// A user's process, named "<login>_server" in the registry. Its state is the User, read from the
// Stash when it starts and written through to it at every change, before the change is answered:
// a `kill`, which skips terminate, loses nothing an answer promised. It traps exits, so terminate
// runs when its supervisor stops it too (a shutdown, a kill of the SubSupervisor), not only on a
// crash.
#pragma once

#include <optional>
#include <string>

#include "otp/otp.hpp"
#include "registry.hpp"
#include "stash.hpp"
#include "timer.hpp"
#include "user.hpp"

namespace hang_ten {

class Server : public otp::GenServer<Server, User> {
 public:
  struct CountRequest {};
  struct Show {};
  struct Boom {};
  struct Validate {
    std::string token;
  };
  struct Rotate {};

  static otp::Start start_link(std::string login) {
    return GenServer::start_link(via(login, "server"), login);
  }

  otp::Co<User> init(std::string login) {
    // exercise: trap-exit — trap exits, so a shutdown from the supervisor runs terminate too
    otp::trap_exit(true);  // the supervisor's exit signal becomes a call to terminate
    // end exercise
    stash_ = via(login, "stash").whereis().value_or(otp::Pid{});
    co_return co_await Stash::call(stash_, Stash::Get{});
  }

  void handle_cast(CountRequest) {
    ++state().request_count;
    Timer::touch(state().login);
    stash();
  }
  User handle_call(Show) { return state(); }
  void handle_call(Boom) { otp::exit(otp::Reason::other("boom")); }

  // The request count when the token is the session's, nothing otherwise.
  std::optional<int> handle_call(const Validate& v) {
    // exercise: server-validate — wrong token: nothing; right one: count the request, answer it
    if (!state().token.matches(v.token)) return std::nullopt;
    handle_cast(CountRequest{});
    return state().request_count;
    // end exercise
  }
  // A new token; the old one stops working at once, even if this Server is killed next.
  User handle_call(Rotate) {
    state().token = Token::generate();
    Timer::touch(state().login);
    stash();
    return state();
  }

  // The orderly path: every change is in the Stash already, but terminate is where a state
  // that changes without an answer (a cache, a buffer) is saved. Runs on a crash or a stop by
  // the supervisor; never on `kill`.
  void terminate(const otp::Reason& reason) {
    // exercise: server-terminate — stash the User, to this session's Stash by pid (stash_)
    otp::log::info("{} terminates: {}", state(), reason);
    stash();
    // end exercise
  }

 private:
  // Writes the state through to this session's Stash. By pid: when the whole session is going,
  // the name may already be a new session's by now. A cast, and enough: the message is in the
  // Stash's mailbox when it returns, before the caller gets its answer, and the Stash takes it
  // whatever happens to this Server next.
  void stash() { Stash::cast(stash_, Stash::Put{state()}); }

  otp::Pid stash_;
};

}  // namespace hang_ten
