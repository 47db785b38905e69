// Hierarchical timer wheel.
//
// Design. Time is counted in ticks of one millisecond since the runtime's
// start. Level 0 has 256 slots of one tick; levels 1..4 have 64 slots each,
// every slot of level k spanning 2^(8+6(k-1)) ticks, so the wheel covers 2^32
// ticks (~49 days) directly; later expiries are parked in the last level and
// re-placed whenever their slot comes round. A timer sits in the slot given by
// its expiry and its distance from `base_`; when `base_` crosses a multiple of
// 256 the next level-1 slot is "cascaded" (its timers re-placed, now at finer
// levels), and so on upwards, as in the classic Varghese–Lauck scheme.
//
// Every slot is an intrusive doubly-linked list, so add and cancel are O(1);
// advancing is O(1) per tick plus O(timers moved), and a stretch with nothing
// in level 0 is skipped up to the next cascade of the lowest level that holds a
// timer.
//
// Threads. A wheel belongs to one worker, which advances it; any thread may add
// or cancel under the wheel's mutex. Entries are type-stable (allocated in
// chunks owned by the wheel and recycled through its free list), so a TimerRef
// can be checked safely long after its timer fired: its id no longer matches.
#include "runtime/timer_wheel.hpp"

#include <algorithm>

namespace otp::detail {

TimerWheel::TimerWheel() = default;

TimerWheel::~TimerWheel() { clear(); }

TimerEntry* TimerWheel::alloc_entry() {
  if (free_ == nullptr) {
    constexpr std::size_t n = 256;
    auto chunk = std::make_unique<TimerEntry[]>(n);
    for (std::size_t i = 0; i < n; ++i) {
      chunk[i].next = free_;
      free_ = &chunk[i];
    }
    chunks_.push_back(std::move(chunk));
  }
  TimerEntry* e = free_;
  free_ = e->next;
  e->prev = e->next = nullptr;
  return e;
}

void TimerWheel::free_entry(TimerEntry* e) {
  e->id.store(0, std::memory_order_release);
  e->wheel.store(nullptr, std::memory_order_release);
  e->msg = nullptr;
  e->target = Pid{};
  e->home = nullptr;
  e->prev = nullptr;
  e->next = free_;
  free_ = e;
}

void TimerWheel::link(List& l, TimerEntry* e) {
  e->prev = nullptr;
  e->next = l.head;
  if (l.head != nullptr) l.head->prev = e;
  l.head = e;
}

void TimerWheel::unlink_from(List& l, TimerEntry* e) {
  if (e->prev != nullptr)
    e->prev->next = e->next;
  else
    l.head = e->next;
  if (e->next != nullptr) e->next->prev = e->prev;
  e->prev = e->next = nullptr;
}

TimerWheel::List& TimerWheel::list_of(TimerEntry* e) {
  std::uint64_t expires = std::max(e->expires, base_);
  std::uint64_t delta = expires - base_;
  if (delta < l0_size) return l0_[expires & (l0_size - 1)];
  for (int k = 1; k < levels; ++k) {
    int shift = l0_bits + ln_bits * k;
    if (k == levels - 1 || delta < (std::uint64_t{1} << shift))
      return ln_[k - 1][(expires >> (l0_bits + ln_bits * (k - 1))) & (ln_size - 1)];
  }
  return ln_[levels - 2][0];  // not reached
}

void TimerWheel::place(TimerEntry* e) {
  List& l = list_of(e);
  if (in_level0(&l)) ++count0_;
  e->home = &l;
  link(l, e);
}

TimerRef TimerWheel::add(std::uint64_t now_tick, std::uint64_t expires, Pid target, Msg* msg,
                         std::uint64_t id) {
  // An empty wheel has nothing between base_ and now: catch up for free.
  if (count_ == 0 && now_tick > base_) base_ = now_tick;
  TimerEntry* e = alloc_entry();
  e->expires = expires;
  e->target = target;
  e->msg = msg;
  e->id.store(id, std::memory_order_release);
  e->wheel.store(this, std::memory_order_release);
  place(e);
  ++count_;
  return TimerRef{id, e};
}

void TimerWheel::remove(TimerEntry* e) {
  auto* l = static_cast<List*>(e->home);
  if (in_level0(l)) --count0_;
  unlink_from(*l, e);
  e->home = nullptr;
  --count_;
}

void TimerWheel::cascade(int level, int index) {
  List& l = ln_[level - 1][index];
  TimerEntry* e = l.head;
  l.head = nullptr;
  while (e != nullptr) {
    TimerEntry* next = e->next;
    e->prev = e->next = nullptr;
    place(e);
    e = next;
  }
}

void TimerWheel::advance(std::uint64_t tick, std::vector<std::pair<Pid, Msg*>>& out) {
  while (base_ <= tick) {
    if (count_ == 0) {
      base_ = tick + 1;
      return;
    }
    if ((base_ & (l0_size - 1)) == 0) {
      // Cascade level 1, and higher levels whenever the lower index wrapped.
      for (int k = 1; k < levels; ++k) {
        int index = static_cast<int>((base_ >> (l0_bits + ln_bits * (k - 1))) & (ln_size - 1));
        cascade(k, index);
        if (index != 0) break;
      }
    }
    List& l = l0_[base_ & (l0_size - 1)];
    while (l.head != nullptr) {
      TimerEntry* e = l.head;
      unlink_from(l, e);
      --count0_;
      --count_;
      out.emplace_back(e->target, e->msg);
      free_entry(e);
    }
    if (count0_ == 0) {
      // Nothing in level 0: jump to the next cascade that may bring a timer down (or past
      // `tick`).
      base_ = std::min(next_cascade(), tick + 1);
    } else {
      ++base_;
    }
  }
}

std::uint64_t TimerWheel::next_wakeup() const {
  if (count0_ > 0) {
    for (std::uint64_t t = base_; t < base_ + l0_size; ++t)
      if (l0_[t & (l0_size - 1)].head != nullptr) return t;
  }
  return next_cascade();
}

// The next tick at which a cascade may bring a timer nearer, with level 0 empty: the next
// multiple of the period of the lowest level that holds a timer (an empty level cascades
// nothing). A timer parked far ahead then costs a step every 2^26 ticks (18.6 hours) of a
// virtual clock's advance, or a worker's wake-up, instead of one every 256.
std::uint64_t TimerWheel::next_cascade() const {
  std::uint64_t period = l0_size;  // level 1 cascades every 256 ticks, level k+1 64 times less
  for (int k = 1; k < levels - 1; ++k, period <<= ln_bits) {
    bool empty = true;
    for (const List& l : ln_[k - 1]) {
      if (l.head != nullptr) {
        empty = false;
        break;
      }
    }
    if (!empty) break;
  }
  return (base_ | (period - 1)) + 1;
}

std::uint64_t TimerWheel::earliest() const {
  std::uint64_t best = UINT64_MAX;
  auto scan = [&](const List& l) {
    for (TimerEntry* e = l.head; e != nullptr; e = e->next)
      best = std::min(best, std::max(e->expires, base_));
  };
  for (const auto& l : l0_) scan(l);
  for (const auto& level : ln_)
    for (const auto& l : level) scan(l);
  return best;
}

void TimerWheel::clear() {
  auto drop = [&](List& l) {
    while (l.head != nullptr) {
      TimerEntry* e = l.head;
      unlink_from(l, e);
      if (e->msg != nullptr) free_msg(e->msg);
      free_entry(e);
    }
  };
  for (auto& l : l0_) drop(l);
  for (auto& level : ln_)
    for (auto& l : level) drop(l);
  count_ = count0_ = 0;
}

}  // namespace otp::detail
