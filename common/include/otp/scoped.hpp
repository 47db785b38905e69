// otp::Scoped — a process handle for plain threads (main, a test).
//
// A Scoped is a real process without a coroutine: it has a pid, a mailbox, it
// can be linked and monitored, and it receives by blocking its own thread
// only. It always traps exits: exit signals arrive as Exit messages. If it is
// killed (exit(pid, kill)), its process ends and receive throws ExitError.
// Timeouts of a Scoped's receive use the real clock, even in virtual-clock mode.
#pragma once

#include <optional>
#include <string_view>

#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "otp/runtime.hpp"

namespace otp {

namespace detail {
struct ExternalWait;
}

class Scoped {
 public:
  explicit Scoped(Runtime& rt);
  ~Scoped();
  Scoped(const Scoped&) = delete;
  Scoped& operator=(const Scoped&) = delete;

  Pid pid() const { return pid_; }
  Runtime& runtime() const { return rt_; }

  template <class F, class... A>
  Pid spawn(F&& f, A&&... args) {
    return rt_.spawn(std::forward<F>(f), std::forward<A>(args)...);
  }
  template <class F, class... A>
  Pid spawn_link(F&& f, A&&... args) {
    Pid p = rt_.spawn(std::forward<F>(f), std::forward<A>(args)...);
    link(p);
    return p;
  }

  template <class T>
  void send(const Pid& to, T&& msg) {
    otp::send(to, std::forward<T>(msg));
  }
  template <class T>
  void send(std::string_view name, T&& msg) {
    auto p = rt_.whereis(name);
    if (!p) throw BadArg("send to unregistered name " + std::string(name));
    otp::send(*p, std::forward<T>(msg));
  }

  void link(const Pid& pid);
  void unlink(const Pid& pid);
  Ref monitor(const Pid& pid);
  void demonitor(Ref ref, bool flush = false);

  // Blocks until a T (satisfying pred) arrives.
  template <class T>
  T receive() {
    ReceiveOne<T> w;
    wait(w, infinity);
    return detail::take<T>(w.found);
  }
  template <class T, class Pred>
    requires std::predicate<Pred&, const T&>
  T receive(Pred pred) {
    ReceiveOne<T, Pred> w{std::move(pred)};
    wait(w, infinity);
    return detail::take<T>(w.found);
  }
  // As above, or nullopt after `timeout`.
  template <class T>
  std::optional<T> receive(Duration timeout) {
    ReceiveOne<T> w;
    if (!wait(w, timeout)) return std::nullopt;
    return detail::take<T>(w.found);
  }
  template <class T, class Pred>
    requires std::predicate<Pred&, const T&>
  std::optional<T> receive(Pred pred, Duration timeout) {
    ReceiveOne<T, Pred> w{std::move(pred)};
    if (!wait(w, timeout)) return std::nullopt;
    return detail::take<T>(w.found);
  }

  // Messages waiting in the mailbox (signals not yet handled are not counted).
  std::size_t mailbox_size();

 private:
  bool wait(detail::Waiter& w, Duration timeout);

  Runtime& rt_;
  Pid pid_;
  detail::ExternalWait* wait_ = nullptr;
};

}  // namespace otp
