// Exit hooks: code that runs when a process exits, for tables keyed by pid
// (Registry, pg, Table owners). Not part of the public API.
#pragma once

#include <new>
#include <utility>

#include "otp/detail/msg.hpp"
#include "otp/pid.hpp"
#include "otp/reason.hpp"

namespace otp::detail {

// One hook: a node of its process's list, with the callable inline, in one
// small block (a registry's hook, a weak_ptr, takes 32 bytes in all).
struct ExitHook {
  ExitHook* next = nullptr;
  virtual void run(const Pid& pid, const Reason& reason) = 0;
  virtual void destroy() noexcept = 0;  // destroys and frees the hook

 protected:
  ~ExitHook() = default;
};

// Adds `hook` to `pid`'s list, which then owns it; false (and the hook
// destroyed) when `pid` is not alive.
bool add_exit_hook(const Pid& pid, ExitHook* hook);

// Runs `fn(pid, reason)` when `pid`'s process exits: on the thread that retires
// it, after it stops being alive and its name is free, and before its links and
// monitors fire, so whoever hears of the exit finds the hook's work done. Hooks
// run in the order they were added. Returns false (and drops fn) when `pid` is
// not alive. Any thread.
template <class F>
bool on_exit(const Pid& pid, F fn) {
  struct Hook final : ExitHook {
    explicit Hook(F&& f) : f(std::move(f)) {}
    void run(const Pid& p, const Reason& r) override { f(p, r); }
    void destroy() noexcept override {
      this->~Hook();
      small_free(this, sizeof(Hook));
    }
    F f;
  };
  void* mem = small_alloc(sizeof(Hook));
  ExitHook* hook = nullptr;
  try {
    hook = new (mem) Hook(std::move(fn));
  } catch (...) {
    small_free(mem, sizeof(Hook));
    throw;
  }
  return add_exit_hook(pid, hook);
}

}  // namespace otp::detail
