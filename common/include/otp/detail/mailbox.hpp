// Inbox: the multi-producer, single-consumer entry point of a process's mailbox.
//
// Design. The inbox is one atomic word, `head`, holding a LIFO stack of
// messages pushed by any thread (Treiber push: one CAS). The owning process
// takes the whole stack at once with one exchange and reverses it, which
// restores arrival order, into its private FIFO queue; selective receive then
// scans the private queue, which only the owner touches.
//
// Two sentinel values make wake-ups exact:
//   BLOCKED — the owner found nothing to do and is going to sleep. A push that
//             replaces BLOCKED returns `woke`, and that sender (and only it)
//             must schedule the process. So a process is never scheduled twice
//             and a message can never be missed between "nothing left" and
//             "asleep".
//   CLOSED  — the process has exited. Pushes fail and the sender drops the message.
//
// Ordering: push is a release CAS, take/close are acquire exchanges, so a
// message's contents are visible to the consumer. Per-sender FIFO holds because
// one sender's pushes are ordered in the stack, and reversal keeps that order.
// Cost: push O(1) (a CAS, retried under contention), take O(batch).
#pragma once

#include <atomic>

#include "otp/detail/msg.hpp"

namespace otp::detail {

class Inbox {
 public:
  enum class Push { ok, woke, closed };

  Push push(Msg* m) noexcept {
    Msg* old = head_.load(std::memory_order_relaxed);
    for (;;) {
      if (old == closed_tag()) return Push::closed;
      m->next = old == blocked_tag() ? nullptr : old;
      if (head_.compare_exchange_weak(old, m, std::memory_order_acq_rel, std::memory_order_relaxed))
        return old == blocked_tag() ? Push::woke : Push::ok;
    }
  }

  // Takes everything pushed so far, in arrival order, as a null-terminated list
  // (returns its head and sets `tail`). Only the owner calls it, never while blocked.
  Msg* take(Msg*& tail) noexcept {
    if (head_.load(std::memory_order_relaxed) == nullptr) return nullptr;
    return reverse(head_.exchange(nullptr, std::memory_order_acquire), tail);
  }

  bool empty() const noexcept {
    Msg* h = head_.load(std::memory_order_acquire);
    return h == nullptr || h == blocked_tag() || h == closed_tag();
  }

  // Owner only: go to sleep unless something arrived. True when now blocked.
  bool try_block() noexcept {
    Msg* expected = nullptr;
    return head_.compare_exchange_strong(expected, blocked_tag(), std::memory_order_acq_rel);
  }

  // Owner only: undo try_block() after a timed wait ended by the clock. False when
  // a sender has already replaced BLOCKED (and so is waking the owner).
  bool try_unblock() noexcept {
    Msg* expected = blocked_tag();
    return head_.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel);
  }

  // Closes the inbox for good and returns what was left, in arrival order.
  Msg* close(Msg*& tail) noexcept {
    Msg* h = head_.exchange(closed_tag(), std::memory_order_acq_rel);
    if (h == closed_tag() || h == blocked_tag()) h = nullptr;
    return reverse(h, tail);
  }

  // Reopens a closed inbox when the process block is reused; nobody pushes then.
  void reset() noexcept { head_.store(nullptr, std::memory_order_release); }

 private:
  static Msg* blocked_tag() noexcept { return const_cast<Msg*>(&blocked_); }
  static Msg* closed_tag() noexcept { return const_cast<Msg*>(&closed_); }

  static Msg* reverse(Msg* h, Msg*& tail) noexcept {
    tail = h;
    Msg* out = nullptr;
    while (h != nullptr) {
      Msg* next = h->next;
      h->next = out;
      out = h;
      h = next;
    }
    return out;
  }

  static inline const Msg blocked_{};
  static inline const Msg closed_{};
  std::atomic<Msg*> head_{nullptr};
};

}  // namespace otp::detail
