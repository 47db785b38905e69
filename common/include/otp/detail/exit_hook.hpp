// Exit hooks: code that runs when a process exits, for tables keyed by pid
// (Registry, pg, Table owners). Not part of the public API.
#pragma once

#include <new>
#include <type_traits>
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
  // What the hook belongs to (a registry's table), so that its owner finds it again with
  // with_exit_hooks; null for most hooks.
  virtual const void* owner() const noexcept { return nullptr; }

 protected:
  ~ExitHook() = default;
};

// Adds `hook` to `pid`'s list, which then owns it; false (and the hook
// destroyed) when `pid` is not alive.
bool add_exit_hook(const Pid& pid, ExitHook* hook);

// A process's list of hooks, as with_exit_hooks lends it.
class ExitHooks {
 public:
  explicit ExitHooks(ExitHook*& head) noexcept : head_(head) {}
  // The hook whose owner() is `owner`, or null.
  ExitHook* find(const void* owner) const noexcept {
    for (ExitHook* h = head_; h != nullptr; h = h->next)
      if (h->owner() == owner) return h;
    return nullptr;
  }
  // Adds `hook`, which the list then owns.
  void push(ExitHook* hook) noexcept {
    hook->next = head_;
    head_ = hook;
  }

 private:
  ExitHook*& head_;
};

// Calls visit(hooks, context) with `pid`'s list of hooks locked, while `pid` is alive: its hooks
// have not run and none can start running until visit returns, so visit may read and change
// the data of its own hooks, and add one. False, without calling visit, when `pid` is not
// alive. Keep visit short: the exiting process waits for it.
bool with_exit_hooks(const Pid& pid, void (*visit)(ExitHooks& hooks, void* context), void* context);
template <class F>
bool with_exit_hooks(const Pid& pid, F&& visit) {
  return with_exit_hooks(
      pid, [](ExitHooks& hooks, void* f) { (*static_cast<std::remove_reference_t<F>*>(f))(hooks); },
      static_cast<void*>(&visit));
}

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
