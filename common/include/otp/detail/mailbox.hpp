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
// The unread count. The top 16 bits of `head` count the messages in the stack
// (modulo 65,536: only senders that never back off get that far): a push stores
// its message's address with the count plus one, and take/close reset it with
// the same exchange that empties the stack. So a sender learns, from the CAS it does anyway, how many messages the
// owner has not yet taken in (the scheduler's back-off for senders to a long
// mailbox reads it; see runtime.cpp), at no extra atomic on either side. User
// space addresses on x86-64 and AArch64 (without memory tagging) fit in 48 bits,
// which push asserts.
//
// Ordering: push is a release CAS, take/close are acquire exchanges, so a
// message's contents are visible to the consumer. take/close and unread() are
// sequentially consistent, for the back-off's handshake with a parked sender.
// Per-sender FIFO holds because one sender's pushes are ordered in the stack,
// and reversal keeps that order.
// Cost: push O(1) (a CAS, retried under contention), take O(batch).
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>

#include "otp/detail/msg.hpp"

namespace otp::detail {

class Inbox {
 public:
  enum class Push { ok, woke, closed };

  // Sets `unread` to the messages in the stack, this one included.
  Push push(Msg* m, std::uint32_t& unread) noexcept {
    assert((address(m) & ~address_mask) == 0 && "a message address above 48 bits");
    std::uintptr_t old = head_.load(std::memory_order_relaxed);
    for (;;) {
      Msg* top = message(old);
      if (top == closed_tag()) return Push::closed;
      m->next = top == blocked_tag() ? nullptr : top;
      const std::uintptr_t word = address(m) | ((old & ~address_mask) + count_one);
      if (head_.compare_exchange_weak(old, word, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
        unread = static_cast<std::uint32_t>(word >> count_shift);
        return top == blocked_tag() ? Push::woke : Push::ok;
      }
    }
  }
  Push push(Msg* m) noexcept {
    std::uint32_t unread = 0;
    return push(m, unread);
  }

  // Takes everything pushed so far, in arrival order, as a null-terminated list
  // (returns its head and sets `tail`). Only the owner calls it, never while blocked.
  Msg* take(Msg*& tail) noexcept {
    if (head_.load(std::memory_order_relaxed) == 0) return nullptr;
    return reverse(message(head_.exchange(0, std::memory_order_seq_cst)), tail);
  }

  bool empty() const noexcept {
    Msg* h = message(head_.load(std::memory_order_acquire));
    return h == nullptr || h == blocked_tag() || h == closed_tag();
  }

  // The messages pushed and not yet taken (zero once closed).
  std::uint32_t unread() const noexcept {
    return static_cast<std::uint32_t>(head_.load(std::memory_order_seq_cst) >> count_shift);
  }

  // Owner only: go to sleep unless something arrived. True when now blocked.
  bool try_block() noexcept {
    std::uintptr_t expected = 0;
    return head_.compare_exchange_strong(expected, address(blocked_tag()),
                                         std::memory_order_acq_rel);
  }

  // Owner only: undo try_block() after a timed wait ended by the clock. False when
  // a sender has already replaced BLOCKED (and so is waking the owner).
  bool try_unblock() noexcept {
    std::uintptr_t expected = address(blocked_tag());
    return head_.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
  }

  // Closes the inbox for good and returns what was left, in arrival order.
  Msg* close(Msg*& tail) noexcept {
    Msg* h = message(head_.exchange(address(closed_tag()), std::memory_order_seq_cst));
    if (h == closed_tag() || h == blocked_tag()) h = nullptr;
    return reverse(h, tail);
  }

  // Reopens a closed inbox when the process block is reused; nobody pushes then.
  void reset() noexcept { head_.store(0, std::memory_order_release); }

 private:
  static constexpr unsigned count_shift = 48;
  static constexpr std::uintptr_t address_mask = (std::uintptr_t{1} << count_shift) - 1;
  static constexpr std::uintptr_t count_one = std::uintptr_t{1} << count_shift;
  static_assert(sizeof(std::uintptr_t) == 8, "the unread count lives in a 64-bit word's top bits");

  static std::uintptr_t address(const Msg* m) noexcept {
    return reinterpret_cast<std::uintptr_t>(m);
  }
  static Msg* message(std::uintptr_t word) noexcept {
    return reinterpret_cast<Msg*>(word & address_mask);
  }

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
  std::atomic<std::uintptr_t> head_{0};  // a Msg* or a tag, and the unread count
};

}  // namespace otp::detail
