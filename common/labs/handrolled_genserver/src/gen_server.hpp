// A GenServer by hand: what otp::GenServer does underneath, with spawn, send, receive and monitors.
//
// A module is a class with a State type and callbacks (the Stack in stack.hpp is one):
//   State init(Arg)                          runs in the new process, before the first message
//   Reply handle_call(Call, State&)          answers a call (Call and Reply are types of the module)
//   void handle_cast(Cast, State&)
//   void handle_info(Info, State&)           optional: any message of the type Info
//
//   otp::Pid pid = lab::GenServer<Stack>::start(std::vector<int>{});
//   lab::GenServer<Stack>::cast(pid, Stack::Push{1});
//   otp::Result<Stack::Reply> top = co_await lab::GenServer<Stack>::call(pid, Stack::Pop{}, 5s);
//
// The server is a loop that receives any message and looks at what it is: a call gets its reply
// sent to the caller with the caller's tag, a cast and an info change the state, anything else is
// logged and dropped (a server that left unknown messages in its mailbox would slow down with
// every one of them, for ever).
//
// A call monitors the server and uses the monitor's reference as the tag of the request: the
// reply carries it back, and so does the Down if the server dies first. Either comes, or the
// timeout; then the monitor is dropped with flush, so no Down is left behind.
#pragma once

#include <chrono>
#include <optional>
#include <utility>

#include "otp/otp.hpp"

namespace lab {

template <class Module>
class GenServer {
 public:
  using State = typename Module::State;
  using Call = typename Module::Call;
  using Reply = typename Module::Reply;
  using Cast = typename Module::Cast;

  // What travels between a client and the server.
  struct CallRequest {
    otp::Pid from;
    otp::Ref tag;
    Call request;
  };
  struct CallReply {
    otp::Ref tag;
    Reply reply;
  };
  struct CastRequest {
    Cast request;
  };

  template <class Arg>
  static otp::Pid start(Arg arg) {
    return otp::spawn(&loop<Arg>, std::move(arg));
  }

  // The reply; or the reason the server died with (noproc when there was none); or timeout.
  static otp::Co<otp::Result<Reply>> call(otp::Pid server, Call request,
                                          otp::Duration timeout = std::chrono::seconds(5)) {
    // exercise: call-monitor-tag — a monitor as the tag: a reply, a Down or a timeout
    const otp::Ref tag = otp::monitor(server);
    otp::send(server, CallRequest{otp::self(), tag, std::move(request)});
    std::optional<otp::Result<Reply>> result;
    co_await otp::receive(
        otp::match<CallReply>([tag](const CallReply& r) { return r.tag == tag; },
                              [&](CallReply r) { result.emplace(std::move(r.reply)); }),
        otp::match<otp::Down>([tag](const otp::Down& d) { return d.ref == tag; },
                              [&](otp::Down d) { result.emplace(d.reason); }),
        otp::after(timeout, [&] { result.emplace(otp::Reason::timeout()); }));
    otp::demonitor(tag, true);
    co_return std::move(*result);
    // end exercise
  }

  static void cast(otp::Pid server, Cast request) {
    otp::send(server, CastRequest{std::move(request)});
  }

 private:
  template <class Arg>
  static otp::Co<void> loop(Arg arg) {
    Module module;
    State state = module.init(std::move(arg));
    for (;;) {
      otp::AnyMessage message = co_await otp::receive_any();
      // exercise: loop-dispatch — a call answers its tag, a cast or an info changes the state
      if (auto* call = message.get<CallRequest>()) {
        Reply reply = module.handle_call(std::move(call->request), state);
        otp::send(call->from, CallReply{call->tag, std::move(reply)});
      } else if (auto* cast = message.get<CastRequest>()) {
        module.handle_cast(std::move(cast->request), state);
      } else if (!info(module, message, state)) {
        otp::log::warning("{} received an unexpected message: {}", otp::self(),
                          message.type_name());
      }
      // end exercise
    }
  }

  // True when the module has an Info type, the message is one, and handle_info has taken it.
  static bool info(Module& module, otp::AnyMessage& message, State& state) {
    if constexpr (requires { typename Module::Info; }) {
      if (auto* info = message.get<typename Module::Info>()) {
        module.handle_info(std::move(*info), state);
        return true;
      }
    }
    return false;
  }
};

}  // namespace lab
