// The hierarchical timer wheel of a worker: TimerEntry, TimerWheel. Its design (levels,
// cascades, who may touch it from which thread) opens timer_wheel.cpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "otp/detail/mailbox.hpp"
#include "otp/pid.hpp"
#include "otp/timer.hpp"

namespace otp::detail {

struct TimerEntry {
  TimerEntry* prev = nullptr;
  TimerEntry* next = nullptr;
  std::uint64_t expires = 0;  // tick (ms since the runtime's start)
  void* home = nullptr;       // the wheel slot (list) it is linked in
  std::atomic<std::uint64_t> id{0};
  std::atomic<class TimerWheel*> wheel{nullptr};
  Pid target;
  Msg* msg = nullptr;
};

class TimerWheel {
 public:
  TimerWheel();
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  std::mutex& mutex() { return m_; }
  // All below: with mutex() held.
  TimerRef add(std::uint64_t now_tick, std::uint64_t expires, Pid target, Msg* msg,
               std::uint64_t id);
  void remove(TimerEntry* e);
  // Fires everything due at or before `tick`: moves (target, msg) pairs out.
  void advance(std::uint64_t tick, std::vector<std::pair<Pid, Msg*>>& out);
  bool empty() const { return count_.load(std::memory_order_relaxed) == 0; }
  // A tick at or before the earliest expiry (exact when it is within 256 ticks).
  std::uint64_t next_wakeup() const;
  // The exact earliest expiry (scans everything; for the virtual clock).
  std::uint64_t earliest() const;
  std::uint64_t base() const { return base_; }
  void free_entry(TimerEntry* e);
  // Drops every timer (runtime shutdown); frees their messages.
  void clear();

 private:
  static constexpr int l0_bits = 8, ln_bits = 6, levels = 5;
  static constexpr int l0_size = 1 << l0_bits, ln_size = 1 << ln_bits;
  struct List {
    TimerEntry* head = nullptr;
  };
  void place(TimerEntry* e);
  void link(List& l, TimerEntry* e);
  void unlink_from(List& l, TimerEntry* e);
  List& list_of(TimerEntry* e);
  bool in_level0(const List* l) const { return l >= &l0_[0] && l < &l0_[l0_size]; }
  void cascade(int level, int index);
  std::uint64_t next_cascade() const;
  TimerEntry* alloc_entry();

  std::mutex m_;
  std::uint64_t base_ = 0;             // every timer before this tick has fired
  std::atomic<std::size_t> count_{0};  // read without the mutex as a hint
  std::size_t count0_ = 0;             // timers in level 0
  List l0_[l0_size];
  List ln_[levels - 1][ln_size];
  std::vector<std::unique_ptr<TimerEntry[]>> chunks_;
  TimerEntry* free_ = nullptr;
};

}  // namespace otp::detail
