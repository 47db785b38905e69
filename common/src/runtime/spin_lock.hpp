// A test-and-test-and-set spin lock, for the runtime's short critical sections (a worker's run
// queue, a shard of the process list, a process's exit hooks): acquire on lock, release on
// unlock; waiters spin on a relaxed load (with the CPU's pause hint) so that the line stays
// shared until the holder lets go. Never held across anything that blocks.
#pragma once

#include <atomic>

namespace otp::detail {

class SpinLock {
 public:
  void lock() noexcept {
    for (;;) {
      if (!flag_.exchange(true, std::memory_order_acquire)) return;
      while (flag_.load(std::memory_order_relaxed)) cpu_relax();
    }
  }
  bool try_lock() noexcept {
    return !flag_.load(std::memory_order_relaxed) &&
           !flag_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { flag_.store(false, std::memory_order_release); }
  static void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

 private:
  std::atomic<bool> flag_{false};
};

}  // namespace otp::detail
