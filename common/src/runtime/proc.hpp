// The process control block (Proc), what it holds (its Ties and AliasSet, the wait of a
// Scoped), and the operations on a process that process.cpp defines and the rest of the
// runtime calls: drain, scan, exit, the signals, and link/monitor/alias acting as a process.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <semaphore>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alias_set.hpp"
#include "otp/detail/exit_hook.hpp"
#include "otp/detail/mailbox.hpp"
#include "otp/observer.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/receive.hpp"
#include "otp/runtime.hpp"
#include "otp/timer.hpp"
#include "spin_lock.hpp"
#include "ties.hpp"

namespace otp::detail {

class RuntimeImpl;

// Waiting state of a Scoped (plain-thread) process.
struct ExternalWait {
  std::binary_semaphore sem{0};
};

// The monitors a process made by name (monitor("name")): monitor ref -> the name.
using MonitorNames = std::vector<std::pair<std::uint64_t, std::string>>;

// The process control block.
//
// Blocks are type-stable: they come from RuntimeImpl's pool and go back to it,
// never to the allocator, while the runtime lives. A Pid is {block, serial};
// a sender pins the block (refs), then checks that the serial is still the
// pid's before pushing, so a message never reaches a later process that reuses
// the block. The block returns to the pool when its process has exited
// (`retired`) and no sender holds a pin; whoever drops the count to zero frees it.
struct Proc {
  static constexpr std::uint32_t alive_ref = 1u << 30;

  Inbox inbox;
  std::atomic<std::uint32_t> refs{0};
  std::atomic<bool> retired{false};
  bool trap_exit = false;
  bool pending_exit = false;
  bool timeout_fired = false;
  bool supervisor = false;         // a Supervisor's process: it ends its children when it ends
  bool parent_supervisor = false;  // spawned by a supervisor (read by others under the shard lock)
  std::atomic<bool> named{false};  // has a local name (guarded by names_m)
  // Exit hooks (detail::on_exit): any thread adds under hooks_lock until the
  // exiting process closes the list (`hooks`, below).
  SpinLock hooks_lock;
  bool hooks_closed = false;
  std::atomic<std::uint64_t> serial{0};

  Proc* next_run = nullptr;  // run queue link
  RuntimeImpl* rt = nullptr;
  std::coroutine_handle<> root;  // the body's frame
  std::coroutine_handle<> resume_at;
  Waiter* waiter = nullptr;  // set while suspended in receive
  Msg* q_head = nullptr;     // private queue (owner only), arrival order
  Msg* q_tail = nullptr;
  std::uint32_t q_len = 0;
  std::uint32_t timeout_seq = 0;
  TimerRef timer;        // the pending receive timeout, if any
  Ties* ties = nullptr;  // links and monitors, allocated on first use
  AliasSet* aliases = nullptr;
  MonitorNames* monitor_names = nullptr;  // owner only; allocated by the first monitor by name
  const Describer* describer = nullptr;   // owner only
  const void* describer_self = nullptr;
  ExitHook* hooks = nullptr;  // newest first
  ExternalWait* external = nullptr;
  Reason exit_reason;
  Pid parent;
  std::uint64_t handled = 0;  // messages taken by receive
  Proc* all_prev = nullptr;   // process list links (RuntimeImpl::shards_)
  Proc* all_next = nullptr;

  Pid pid() const { return Pid{const_cast<Proc*>(this), serial.load(std::memory_order_relaxed)}; }
  Ties::View links() { return {ties, Ties::Kind::link}; }        // by pid serial
  Ties::View monitors() { return {ties, Ties::Kind::monitor}; }  // monitors I hold: ref -> target
  Ties::View watchers() { return {ties, Ties::Kind::watcher}; }  // monitors on me: ref -> watcher
  void append(Msg* m) noexcept {
    m->next = nullptr;
    if (q_tail != nullptr)
      q_tail->next = m;
    else
      q_head = m;
    q_tail = m;
    ++q_len;
  }
};

// Process-side helpers (process.cpp).
void drain(Proc* p) noexcept;                      // inbox -> private queue, handling signals
Msg* scan(Proc* p, Waiter& w) noexcept;            // first match, unlinked, or null
void do_exit(Proc* p);                             // worker thread; p is not running
void send_signal(const Pid& to, Msg* m) noexcept;  // deliver, answering dead targets
void post_self_timeout(Proc* p, Waiter& w);
void finish_wait(Proc* p, Waiter& w) noexcept;
bool poll_waiter(Proc* p) noexcept;
ProcessInfo describe(Proc* p);           // owner thread
void drop_timer(TimerRef ref) noexcept;  // cancel_timer without reading the clock
// A plain thread's process (Scoped) waits for w by blocking its thread; true when
// a message was found, false on timeout or (w.exited) a pending exit.
bool external_wait(Proc* p, Waiter& w,
                   Duration timeout) noexcept;  // woken: true when it should resume
Proc* current_or_throw(const char* what);
Reason reason_of(const std::exception_ptr& e);  // the exit reason an exception stands for
bool register_in(RuntimeImpl& rt, std::string name, const Pid& pid);
// The same operations as otp::link & co., acting as process `p` (a Scoped's, or the current one).
void link_as(Proc* p, const Pid& pid);
void unlink_as(Proc* p, const Pid& pid);
// With `alias`, the monitor's ref is also an alias of p's, ending as that mode says.
Ref monitor_as(Proc* p, const Pid& pid, std::optional<AliasMode> alias = std::nullopt);
Ref monitor_name_as(Proc* p, std::string_view name);
bool demonitor_as(Proc* p, Ref ref, bool flush);
Alias alias_as(Proc* p, AliasMode mode);
bool unalias_as(Proc* p, Ref ref) noexcept;

}  // namespace otp::detail
