// otp::Scoped — a process handle for plain threads (main, a test).
//
// A Scoped is a real process without a coroutine: it has a pid, a mailbox, it
// can be linked and monitored, and it receives by blocking its own thread
// only. It always traps exits: exit signals arrive as Exit messages. If it is
// killed (exit(pid, kill)), its process ends and receive throws ExitError.
// Timeouts of a Scoped's receive use the real clock, even in virtual-clock mode.
//
// While it lives, a Scoped made on a plain thread is that thread's process:
// otp::self(), monitor, link, spawn_link, call ... act as it, and await(co)
// runs process code (a GenServer call, a start_link) on this thread, each of
// its waits blocking the thread. A Scoped belongs to the thread that made it:
// use and destroy it there.
//
//   otp::Scoped me(rt);
//   auto started = me.await(Stash::start_link("eric"));
//   User u = me.await(Stash::call(started.pid(), Stash::Get{}));
#pragma once

#include <coroutine>
#include <optional>
#include <string_view>
#include <type_traits>

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
  void send(const Alias& to, T&& msg) {
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
  Alias monitor(const Pid& pid, MonitorAlias mode);
  Ref monitor(std::string_view name);
  bool demonitor(Ref ref, bool flush = false);
  // Aliases of this process (otp::alias, otp::unalias).
  Alias alias(AliasOption option = AliasOption::explicit_unalias);
  bool unalias(const Alias& alias);

  // Blocks until a T (satisfying pred) arrives.
  template <class T>
  T receive() {
    ReceiveOne<T> w;
    wait(w, infinity);
    return detail::take<T>(w.found);
  }
  template <class T, class Pred>
  requires std::predicate<Pred&, const T&> T receive(Pred pred) {
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
  requires std::predicate<Pred&, const T&> std::optional<T> receive(Pred pred, Duration timeout) {
    ReceiveOne<T, Pred> w{std::move(pred)};
    if (!wait(w, timeout)) return std::nullopt;
    return detail::take<T>(w.found);
  }

  // Messages waiting in the mailbox (signals not yet handled are not counted).
  std::size_t mailbox_size();

  // Runs `co` to its end on this thread, as this process, and returns its
  // result (or throws what it throws).
  template <class T>
  T await(Co<T> co) {
    auto h = co.release();
    struct Destroy {
      typename Co<T>::Handle frame;
      ~Destroy() { frame.destroy(); }
    } guard{h};
    Act act(*this);
    h.promise().continuation = std::noop_coroutine();
    h.resume();  // every wait inside blocks this thread, so this returns when co is done
    if (h.promise().error) std::rethrow_exception(h.promise().error);
    if constexpr (!std::is_void_v<T>) return std::move(*h.promise().value);
  }

  // Any other awaitable (a GenServer call, ...), the same way.
  template <class A>
  requires requires(A a) { a.await_resume(); }
  auto await(A awaitable) {
    using T = decltype(awaitable.await_resume());
    return await(run_awaitable<T>(std::move(awaitable)));
  }

 private:
  template <class T, class A>
  static Co<T> run_awaitable(A a) {
    co_return co_await std::move(a);
  }

  struct Act {  // makes this Scoped the thread's current process for a while
    explicit Act(Scoped& s);
    ~Act();
    void* saved;
  };

  bool wait(detail::Waiter& w, Duration timeout);

  Runtime& rt_;
  Pid pid_;
  detail::ExternalWait* wait_ = nullptr;
  void* previous_ = nullptr;  // the thread's current process before this one
  bool acting_ = false;
};

}  // namespace otp
