// Selective receive.
//
//   auto ping = co_await otp::receive<Ping>();                       // waits for a Ping
//   auto r = co_await otp::receive<Reply>(                           // a matching Reply, or
//       [&](const Reply& r) { return r.ref == ref; }, 5s);           // std::nullopt after 5 s
//   co_await otp::receive(                                           // the first message that
//       [&](Ping p) { ... },                                         // matches any clause, in
//       otp::match<Job>([](const Job& j) { return j.urgent; },       // mailbox order
//                       [&](Job j) { ... }),
//       otp::after(1s, [&] { ... }));
//   otp::AnyMessage m = co_await otp::receive_any();                 // the next message, whatever
//   if (auto* p = m.get<Ping>()) { ... } else { log(m.type_name()); }  // its type (`Other -> ...`)
//
// Messages that match no clause stay in the mailbox, in order. Waiting holds no
// OS thread. A receive is a wait point: exit signals that arrived take effect
// here (docs/semantics.md, "cooperative kill").
#pragma once

#include <coroutine>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "otp/detail/msg.hpp"
#include "otp/runtime.hpp"

namespace otp {

namespace detail {

// The part of a receive that the scheduler sees. Lives in the waiting
// coroutine's frame for the duration of the wait.
struct Waiter {
  // Decides whether `m` is taken; null for a bare yield.
  bool (*match)(Waiter*, Msg*) = nullptr;
  Msg* found = nullptr;
  Duration timeout = infinity;
  bool timed_out = false;
  bool yielding = false;
  // Set when a plain thread's process (otp::Scoped) was killed while it waited.
  bool exited = false;
  Msg* cursor = nullptr;  // last message this receive has already rejected
};

bool wait_ready(Waiter& w) noexcept;
bool wait_suspend(Waiter& w, std::coroutine_handle<> h) noexcept;
// Takes the first message that `w` matches, without waiting: null when none
// (the calling process or Scoped only).
Msg* take_now(Waiter& w) noexcept;
// Ends the calling Scoped's process and throws ExitError with its exit reason.
[[noreturn]] void raise_exit();

// Takes ownership of the found message's value and frees the node.
template <class T>
T take(Msg* m) {
  struct Free {
    Msg* m;
    ~Free() { free_msg(m); }
  } guard{m};
  return std::move(value_of<T>(m));
}

struct Anything {
  template <class T>
  bool operator()(const T&) const noexcept {
    return true;
  }
};

template <class F>
struct arg_of : arg_of<decltype(&F::operator())> {};
template <class C, class R, class A>
struct arg_of<R (C::*)(A) const> {
  using type = std::remove_cvref_t<A>;
};
template <class C, class R, class A>
struct arg_of<R (C::*)(A)> {
  using type = std::remove_cvref_t<A>;
};
template <class R, class A>
struct arg_of<R (*)(A)> {
  using type = std::remove_cvref_t<A>;
};

}  // namespace detail

// Receives one message of type T that satisfies `pred`.
template <class T, class Pred = detail::Anything, bool Timed = false>
class [[nodiscard]] ReceiveOne : public detail::Waiter {
 public:
  explicit ReceiveOne(Pred pred = {}, Duration t = infinity) : pred_(std::move(pred)) {
    match = &matches;
    timeout = t;
  }
  bool await_ready() noexcept { return detail::wait_ready(*this); }
  bool await_suspend(std::coroutine_handle<> h) noexcept { return detail::wait_suspend(*this, h); }
  auto await_resume() {
    if (exited) [[unlikely]]
      detail::raise_exit();
    if constexpr (Timed) {
      if (found == nullptr) return std::optional<T>{};
      return std::optional<T>{detail::take<T>(found)};
    } else {
      return detail::take<T>(found);
    }
  }

 private:
  static bool matches(detail::Waiter* w, detail::Msg* m) {
    return detail::is<T>(m) &&
           static_cast<ReceiveOne*>(w)->pred_(std::as_const(detail::value_of<T>(m)));
  }
  Pred pred_;
};

template <class T>
ReceiveOne<T> receive() {
  return ReceiveOne<T>{};
}
template <class T, class Pred>
requires std::predicate<Pred&, const T&> ReceiveOne<T, Pred> receive(Pred pred) {
  return ReceiveOne<T, Pred>{std::move(pred)};
}
template <class T>
ReceiveOne<T, detail::Anything, true> receive(Duration timeout) {
  return ReceiveOne<T, detail::Anything, true>{{}, timeout};
}
template <class T, class Pred>
requires std::predicate<Pred&, const T&> ReceiveOne<T, Pred, true> receive(Pred pred,
                                                                           Duration timeout) {
  return ReceiveOne<T, Pred, true>{std::move(pred), timeout};
}

// A guarded clause: matches a T for which pred(t) holds, then runs fn(t).
template <class T, class Pred, class Fn>
struct Match {
  Pred pred;
  Fn fn;
};
template <class T, class Pred, class Fn>
Match<T, Pred, Fn> match(Pred pred, Fn fn) {
  return {std::move(pred), std::move(fn)};
}

// The timeout clause of a multi-clause receive; must come last.
template <class Fn>
struct After {
  Duration timeout;
  Fn fn;
};
template <class Fn>
After<Fn> after(Duration timeout, Fn fn) {
  return {timeout, std::move(fn)};
}

namespace detail {
template <class C>
struct Clause {  // a plain handler: its parameter type is the message type
  using type = typename arg_of<C>::type;
  static bool test(C&, const type&) { return true; }
  template <class V>
  static decltype(auto) run(C& c, V&& v) {
    return c(std::forward<V>(v));
  }
};
template <class T, class Pred, class Fn>
struct Clause<Match<T, Pred, Fn>> {
  using type = T;
  static bool test(Match<T, Pred, Fn>& c, const T& v) { return c.pred(v); }
  template <class V>
  static decltype(auto) run(Match<T, Pred, Fn>& c, V&& v) {
    return c.fn(std::forward<V>(v));
  }
};
template <class C>
struct is_after : std::false_type {};
template <class Fn>
struct is_after<After<Fn>> : std::true_type {};
}  // namespace detail

// Multi-clause receive: see the top of this file.
template <class... Cs>
class [[nodiscard]] ReceiveAny : public detail::Waiter {
  static constexpr bool has_after = (detail::is_after<Cs>::value || ...);
  static constexpr std::size_t n_msg = sizeof...(Cs) - (has_after ? 1 : 0);

 public:
  explicit ReceiveAny(Cs... cs) : clauses_(std::move(cs)...) {
    match = &matches;
    if constexpr (has_after) timeout = std::get<sizeof...(Cs) - 1>(clauses_).timeout;
  }
  bool await_ready() noexcept { return detail::wait_ready(*this); }
  bool await_suspend(std::coroutine_handle<> h) noexcept { return detail::wait_suspend(*this, h); }
  decltype(auto) await_resume() {
    if (exited) [[unlikely]]
      detail::raise_exit();
    if constexpr (has_after) {
      if (found == nullptr) return std::get<sizeof...(Cs) - 1>(clauses_).fn();
    }
    return dispatch<0>();
  }

 private:
  template <std::size_t I>
  bool test_from(detail::Msg* m) {
    if constexpr (I == n_msg) {
      return false;
    } else {
      using C = std::tuple_element_t<I, std::tuple<Cs...>>;
      using T = typename detail::Clause<C>::type;
      if (detail::is<T>(m) &&
          detail::Clause<C>::test(std::get<I>(clauses_), std::as_const(detail::value_of<T>(m)))) {
        which_ = I;
        return true;
      }
      return test_from<I + 1>(m);
    }
  }
  static bool matches(detail::Waiter* w, detail::Msg* m) {
    return static_cast<ReceiveAny*>(w)->test_from<0>(m);
  }

  template <std::size_t I>
  decltype(auto) dispatch() {
    using C = std::tuple_element_t<I, std::tuple<Cs...>>;
    using T = typename detail::Clause<C>::type;
    if constexpr (I + 1 == n_msg) {
      return detail::Clause<C>::run(std::get<I>(clauses_), detail::take<T>(found));
    } else {
      if (which_ == I) return detail::Clause<C>::run(std::get<I>(clauses_), detail::take<T>(found));
      return dispatch<I + 1>();
    }
  }

  std::tuple<Cs...> clauses_;
  std::size_t which_ = 0;
};

template <class C1, class... Cs>
requires(!std::is_convertible_v<C1, Duration>)
    ReceiveAny<std::decay_t<C1>, std::decay_t<Cs>...> receive(C1&& c1, Cs&&... cs) {
  return ReceiveAny<std::decay_t<C1>, std::decay_t<Cs>...>{std::forward<C1>(c1),
                                                           std::forward<Cs>(cs)...};
}

namespace detail {
// A wait as an awaitable, for the first message its `match` accepts (set by the derived class):
// the raw node, which the caller must free, or null after its timeout.
class [[nodiscard]] RawWait : public Waiter {
 public:
  bool await_ready() noexcept { return wait_ready(*this); }
  bool await_suspend(std::coroutine_handle<> h) noexcept { return wait_suspend(*this, h); }
  Msg* await_resume() {
    if (exited) [[unlikely]]
      raise_exit();
    return found;
  }
};

// Takes the next message of any type (behaviour loops).
class [[nodiscard]] ReceiveRaw : public RawWait {
 public:
  ReceiveRaw() {
    match = [](Waiter*, Msg*) { return true; };
  }
};
}  // namespace detail

// A message of any type, taken from the mailbox by receive_any: Erlang's last clause
// `Other -> ...`. Ask it what it is with is<T>() or get<T>() (null when it is something else);
// it owns the message and frees it. Move-only; empty after a receive_any that timed out, and
// after being moved from.
class AnyMessage {
 public:
  AnyMessage() = default;
  AnyMessage(AnyMessage&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  AnyMessage& operator=(AnyMessage&& o) noexcept {
    if (this != &o) {
      if (m_ != nullptr) detail::free_msg(m_);
      m_ = std::exchange(o.m_, nullptr);
    }
    return *this;
  }
  AnyMessage(const AnyMessage&) = delete;
  AnyMessage& operator=(const AnyMessage&) = delete;
  ~AnyMessage() {
    if (m_ != nullptr) detail::free_msg(m_);
  }

  explicit operator bool() const noexcept { return m_ != nullptr; }
  // True when the message is a T.
  template <class T>
  bool is() const noexcept {
    return m_ != nullptr && detail::is<T>(m_);
  }
  // The message as a T (to read, or to move from), or null.
  template <class T>
  T* get() noexcept {
    return is<T>() ? &detail::value_of<T>(m_) : nullptr;
  }
  template <class T>
  const T* get() const noexcept {
    return is<T>() ? &detail::value_of<T>(m_) : nullptr;
  }
  // The name of its type, as crash reports and the observer write it; empty when empty.
  std::string_view type_name() const noexcept {
    return m_ != nullptr ? std::string_view(m_->type->name) : std::string_view{};
  }

 private:
  friend class ReceiveAnyMessage;
  explicit AnyMessage(detail::Msg* m) noexcept : m_(m) {}
  detail::Msg* m_ = nullptr;
};

// Takes the first message in the mailbox, whatever its type; with a timeout, an empty
// AnyMessage when none came in time. Use it where a loop must see every message (and drop the
// ones it does not know); otp::GenServer's own loop works this way.
class [[nodiscard]] ReceiveAnyMessage : public detail::Waiter {
 public:
  explicit ReceiveAnyMessage(Duration t = infinity) {
    match = [](detail::Waiter*, detail::Msg*) { return true; };
    timeout = t;
  }
  bool await_ready() noexcept { return detail::wait_ready(*this); }
  bool await_suspend(std::coroutine_handle<> h) noexcept { return detail::wait_suspend(*this, h); }
  AnyMessage await_resume() {
    if (exited) [[unlikely]]
      detail::raise_exit();
    return AnyMessage(found);
  }
};
inline ReceiveAnyMessage receive_any(Duration timeout = infinity) {
  return ReceiveAnyMessage{timeout};
}

// Gives other processes a turn; also a wait point for exit signals.
class [[nodiscard]] Yield : public detail::Waiter {
 public:
  Yield() { yielding = true; }
  bool await_ready() noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) noexcept { return detail::wait_suspend(*this, h); }
  void await_resume() const {
    if (exited) [[unlikely]]
      detail::raise_exit();
  }
};
inline Yield yield() { return {}; }

// Waits `d` (on the runtime's clock) without taking any message.
class [[nodiscard]] Sleep : public detail::Waiter {
 public:
  explicit Sleep(Duration d) {
    match = [](detail::Waiter*, detail::Msg*) { return false; };
    timeout = d;
  }
  bool await_ready() noexcept { return detail::wait_ready(*this); }
  bool await_suspend(std::coroutine_handle<> h) noexcept { return detail::wait_suspend(*this, h); }
  void await_resume() const {
    if (exited) [[unlikely]]
      detail::raise_exit();
  }
};
inline Sleep sleep(Duration d) { return Sleep{d}; }

}  // namespace otp
