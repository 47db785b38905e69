// What an otp::Runtime is inside (RuntimeImpl): its workers, the pool of process blocks, the
// process list in shards, local names, the clock (real or virtual), the injection queue for
// work from other threads, and the per-runtime services. Every .cpp of the runtime reaches the
// rest of the machinery (Proc, Worker, TimerWheel, the signals) through this header.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "otp/detail/runtime_service.hpp"
#include "otp/pid.hpp"
#include "otp/runtime.hpp"
#include "proc.hpp"
#include "signals.hpp"
#include "spin_lock.hpp"
#include "worker.hpp"

namespace otp::detail {

// The latest time the virtual clock reaches, and about the longest a timer waits: 2^62 ns
// (about 146 years), so that a timer's deadline, now + at most as much again, is a number.
inline constexpr std::int64_t max_clock_ns = std::int64_t{1} << 62;

class RuntimeImpl {
 public:
  explicit RuntimeImpl(Options o);
  ~RuntimeImpl();

  Options opts;
  std::vector<std::unique_ptr<Worker>> workers;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> next_serial{1};
  std::atomic<std::uint64_t> next_ref{1};
  std::atomic<std::uint64_t> next_timer{1};
  std::atomic<std::int64_t> live{0};
  std::atomic<std::int64_t> live_external{0};  // Scoped handles among `live`
  std::atomic<bool> quit{false};               // workers leave their loops
  std::atomic<int> sleepers{0};
  std::atomic<int> spinners{0};
  std::chrono::steady_clock::time_point start;
  std::atomic<std::int64_t> virtual_ns{0};

  // Work from threads that are not this runtime's workers.
  std::mutex inject_m;
  Proc* inject_head = nullptr;
  Proc* inject_tail = nullptr;
  std::atomic<std::size_t> inject_len{0};

  // Local names.
  mutable std::shared_mutex names_m;
  std::unordered_map<std::string, Pid> names;
  std::unordered_map<std::uint64_t, std::string> name_of;  // by pid serial

  // Idle tracking for the virtual clock.
  std::mutex idle_m;
  std::condition_variable idle_cv;

  // Time in ns since start.
  std::int64_t now_ns() const {
    if (opts.virtual_clock) return virtual_ns.load(std::memory_order_acquire);
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                start)
        .count();
  }
  std::uint64_t now_tick() const { return static_cast<std::uint64_t>(now_ns() / 1'000'000); }

  Proc* alloc_proc();
  void release(Proc* p) noexcept;   // drop one pin
  void try_free(Proc* p) noexcept;  // back to the pool if retired and not yet freed
  void make_runnable(Proc* p);      // a woken or new process
  void inject(Proc* p);
  Proc* take_injected();
  void wake_one();
  bool any_work() const;
  void register_proc(Proc* p);
  void unregister_proc(Proc* p, std::uint64_t serial);
  std::vector<Pid> snapshot(bool coroutines_only = false) const;
  std::vector<std::pair<Pid, Pid>> snapshot_with_parents()
      const;  // (pid, parent), coroutine processes
  // Whether `pid` is bound to exit because a supervisor above it has exited
  // (see "Names and restarts" in docs/semantics.md). Any thread.
  enum class Fate : unsigned char { gone, doomed, alive };
  Fate fate(const Pid& pid) const;
  Worker& timer_home();  // the wheel for a timer started here
  void signal_idle();
  void wait_idle();
  void stop_workers();  // stops the services first
  // Per-runtime services (detail/runtime_service.hpp).
  std::shared_ptr<Service> service(const void* key,
                                   const std::function<std::shared_ptr<Service>()>& make);

 private:
  std::mutex pool_m_;
  std::vector<std::unique_ptr<Proc[]>> chunks_;
  Proc* free_ = nullptr;
  static constexpr unsigned shard_count = 16;
  struct Shard {
    SpinLock lock;
    Proc* head = nullptr;
  };
  mutable Shard shards_[shard_count];
  std::atomic<bool> workers_stopped_{false};
  std::mutex services_m_;
  std::vector<std::pair<const void*, std::shared_ptr<Service>>> services_;
  bool services_stopped_ = false;
};

}  // namespace otp::detail
