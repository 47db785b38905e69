// otp::Co<T> — the coroutine type of process code.
//
// A process's body is a function returning Co<void>; code that waits (receive,
// call, sleep) is a function returning Co<T> and is awaited with co_await.
// Co is lazy (it starts when awaited) and owns its frame. Awaiting a Co
// transfers control symmetrically to it and back, so nesting costs no stack
// and no OS thread: when the innermost coroutine waits for a message, the
// whole chain is suspended and the scheduler thread moves on.
//
// An exception thrown in a Co propagates to its awaiter, exactly like a
// function call; one that escapes a process's body ends the process with the
// reason {exception, what()} (or the reason given to otp::exit(reason)).
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "otp/detail/msg.hpp"

namespace otp {

template <class T = void>
class Co;

namespace detail {

// Called when a process's outermost coroutine finishes (normally or by an exception).
void root_finished(std::exception_ptr error) noexcept;

struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
    auto& p = h.promise();
    if (p.continuation) return p.continuation;
    root_finished(std::move(p.error));
    return std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct PromiseBase {
  std::coroutine_handle<> continuation;
  std::exception_ptr error;

  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }

  // Frames are small and short-lived: use the per-thread block cache.
  static void* operator new(std::size_t size) { return small_alloc(size); }
  static void operator delete(void* p, std::size_t size) noexcept { small_free(p, size); }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Co<T> get_return_object() noexcept;
  template <class U = T>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
};

template <>
struct Promise<void> : PromiseBase {
  Co<void> get_return_object() noexcept;
  void return_void() const noexcept {}
};

}  // namespace detail

template <class T>
class [[nodiscard]] Co {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Co() = default;
  explicit Co(Handle h) noexcept : h_(h) {}
  Co(Co&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Co& operator=(Co&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Co(const Co&) = delete;
  Co& operator=(const Co&) = delete;
  ~Co() {
    if (h_) h_.destroy();
  }
  // False for a default-constructed (or moved-from) Co, which holds no coroutine to await.
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  struct Awaiter {
    Handle h;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
      h.promise().continuation = caller;
      return h;
    }
    T await_resume() {
      auto& p = h.promise();
      if (p.error) std::rethrow_exception(p.error);
      if constexpr (!std::is_void_v<T>) return std::move(*p.value);
    }
  };
  Awaiter operator co_await() && noexcept { return Awaiter{h_}; }

  // Hands the frame over (used to start a process's body).
  Handle release() noexcept { return std::exchange(h_, {}); }

 private:
  Handle h_;
};

namespace detail {
template <class T>
Co<T> Promise<T>::get_return_object() noexcept {
  return Co<T>{std::coroutine_handle<Promise<T>>::from_promise(*this)};
}
inline Co<void> Promise<void>::get_return_object() noexcept {
  return Co<void>{std::coroutine_handle<Promise<void>>::from_promise(*this)};
}
}  // namespace detail

}  // namespace otp
