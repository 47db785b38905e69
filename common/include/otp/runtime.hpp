// otp::Runtime — owns the scheduler threads, the timers, the names and every process.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otp/co.hpp"
#include "otp/pid.hpp"

namespace otp {

using Duration = std::chrono::nanoseconds;
// "Wait forever" for receive timeouts and calls.
inline constexpr Duration infinity = Duration::max();

struct Options {
  // Scheduler threads; 0 means one per hardware thread.
  unsigned threads = 0;
  // A virtual clock that only moves when the test calls Runtime::advance():
  // timers fire then, and nowhere else. With one thread (deterministic()) a
  // test is also repeatable; with more, scheduling stays parallel while time
  // is the test's to move (0 threads means one here).
  bool virtual_clock = false;
  // How long shutdown() lets processes stop after the `shutdown` signal before
  // it kills the rest.
  Duration shutdown_grace = std::chrono::seconds(5);

  static Options deterministic() {
    Options o;
    o.threads = 1;
    o.virtual_clock = true;
    return o;
  }
};

namespace detail {
class RuntimeImpl;
struct Spawned {
  Pid pid;
  Ref ref;
};
struct SpawnOpts {
  bool link = false;
  bool monitor = false;
};
// Starts a process running `body`. `rt` is the runtime, or null for the
// calling process's runtime. Links/monitors are made with the calling process.
Spawned spawn_co(RuntimeImpl* rt, Co<void> body, SpawnOpts opts);
template <class F, class... A>
Co<void> make_body(F&& f, A&&... a);
}  // namespace detail

class Runtime {
 public:
  explicit Runtime(Options options = {});
  ~Runtime();  // shutdown()
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Spawns a process from outside any process (it has no parent).
  template <class F, class... A>
  Pid spawn(F&& f, A&&... args) {
    return detail::spawn_co(impl_.get(),
                            detail::make_body(std::forward<F>(f), std::forward<A>(args)...), {})
        .pid;
  }

  unsigned threads() const;
  bool deterministic() const;
  // Live processes (including Scoped handles).
  std::size_t process_count() const;
  // Snapshot of the live processes, in no particular order.
  std::vector<Pid> processes() const;

  // Time since the runtime started: the steady clock, or the virtual clock.
  Duration now() const;
  // Virtual clock only: moves time forward by `d`, firing every timer that falls
  // due in deadline order and running the processes until nothing is runnable.
  void advance(Duration d);
  // Virtual clock only: runs until no process is runnable (time does not move).
  void run_until_idle();

  // Local names (Erlang's register/whereis).
  bool register_name(std::string name, Pid pid);
  bool unregister_name(std::string_view name);
  std::optional<Pid> whereis(std::string_view name) const;

  // Stops every process: `shutdown` exit signals first, `kill` after
  // Options::shutdown_grace, then stops the threads. Idempotent.
  void shutdown();

 private:
  friend class Scoped;  // a Scoped joins the runtime's process table
  detail::RuntimeImpl& impl() { return *impl_; }

  std::unique_ptr<detail::RuntimeImpl> impl_;
};

}  // namespace otp
