// SharedState: a process that holds one value, written as a bare receive loop.
//
//   otp::Pid counter = lab::SharedState<int>::start(0);
//   lab::SharedState<int>::update(counter, [](int n) { return n + 1; });   // a cast
//   int n = co_await lab::SharedState<int>::get(counter);                  // 1
//
// The state lives only in the loop's local variable: nothing else can touch it, so no lock is
// needed. `get` sends a request carrying a fresh reference and waits for the reply that carries
// the same reference, so an older or unrelated reply in the mailbox is never taken for it.
// `update` sends the function itself: it runs inside the state process, one message at a time,
// so two updates never race.
#pragma once

#include <functional>
#include <utility>

#include "otp/otp.hpp"

namespace lab {

template <class T>
class SharedState {
 public:
  struct Get {
    otp::Pid from;
    otp::Ref ref;
  };
  struct Reply {
    otp::Ref ref;
    T value;
  };
  struct Update {
    std::function<T(T)> fun;
  };

  static otp::Pid start(T initial) { return otp::spawn(&loop, std::move(initial)); }

  static otp::Co<T> get(otp::Pid state) {
    // exercise: state-get — a request tagged with a new ref, and the reply with that ref only
    const otp::Ref ref = otp::make_ref();
    otp::send(state, Get{otp::self(), ref});
    Reply reply = co_await otp::receive<Reply>([ref](const Reply& r) { return r.ref == ref; });
    co_return std::move(reply.value);
    // end exercise
  }

  static void update(otp::Pid state, std::function<T(T)> fun) {
    otp::send(state, Update{std::move(fun)});
  }

 private:
  static otp::Co<void> loop(T state) {
    for (;;) {
      // exercise: state-loop — answer a Get with the state; run an Update here
      co_await otp::receive(
          [&](Get get) {
            otp::send(get.from, Reply{get.ref, state});
          },
          [&](Update update) { state = update.fun(std::move(state)); });
      // end exercise
    }
  }
};

}  // namespace lab
