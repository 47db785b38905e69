// Runtime internals shared by the .cpp files of common/src. Not installed.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "otp/detail/exit_hook.hpp"
#include "otp/detail/mailbox.hpp"
#include "otp/detail/runtime_service.hpp"
#include "otp/observer.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/receive.hpp"
#include "otp/runtime.hpp"
#include "otp/timer.hpp"

namespace otp::detail {

// The latest time the virtual clock reaches, and about the longest a timer waits: 2^62 ns
// (about 146 years), so that a timer's deadline, now + at most as much again, is a number.
inline constexpr std::int64_t max_clock_ns = std::int64_t{1} << 62;

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

// ---- signals (internal message types) -------------------------------------
struct LinkSig {
  Pid from;
};
struct UnlinkSig {
  Pid from;
};
struct MonitorSig {
  Ref ref;
  Pid watcher;
};
struct DemonitorSig {
  Ref ref;
};
struct ExitSig {
  Pid from;
  Reason reason;
  bool linked;
};
struct DownSig {
  Ref ref;
  Pid pid;
  Reason reason;
};
struct TimeoutSig {
  std::uint32_t seq;
};
struct InfoSig {
  Pid requester;
  Ref ref;  // an alias of the requester: the reply goes through it (see observer.cpp, ask)
};          // observer: describe yourself
struct InfoReply {
  Ref ref;
  std::optional<ProcessInfo> info;
};
template <>
inline constexpr SigKind sig_kind_of<LinkSig> = SigKind::link;
template <>
inline constexpr SigKind sig_kind_of<UnlinkSig> = SigKind::unlink;
template <>
inline constexpr SigKind sig_kind_of<MonitorSig> = SigKind::monitor;
template <>
inline constexpr SigKind sig_kind_of<DemonitorSig> = SigKind::demonitor;
template <>
inline constexpr SigKind sig_kind_of<ExitSig> = SigKind::exit;
template <>
inline constexpr SigKind sig_kind_of<DownSig> = SigKind::down;
template <>
inline constexpr SigKind sig_kind_of<TimeoutSig> = SigKind::timeout;
template <>
inline constexpr SigKind sig_kind_of<InfoSig> = SigKind::info;

class RuntimeImpl;
class Worker;
struct TimerEntry;

// Waiting state of a Scoped (plain-thread) process.
struct ExternalWait {
  std::binary_semaphore sem{0};
};

// The ties of a process: its links (by the linked pid's serial), the monitors it
// holds (ref -> target) and those on it (ref -> watcher), in one block allocated
// on first use and freed with the process. Each entry's key carries its kind in
// its top two bits (serials and the runtime's refs stay below 2^62); each kind
// is seen through a View.
//
// Layout. A header (size, capacity, index) and the entries right after it, in
// one small_alloc block: a process with one link costs 40 bytes, a supervisor
// with three children and its parent 112. The block grows one entry at a time up
// to `step_until` entries (most processes stay there: a link or two, a monitor
// during a call) and doubles after; erasing moves the last entry into the hole,
// so no order is kept, and shrinks a block with more than one spare entry. Entries are searched linearly; past `index_from` (a
// supervisor of many children) a hash index key -> position keeps every
// operation O(1).
class Ties {
 public:
  enum class Kind : std::uint64_t { link = 0, monitor = 1, watcher = 2 };
  struct Entry {
    std::uint64_t key;
    Pid pid;
  };

  class View {
   public:
    View(Ties*& block, Kind kind) : block_(block), tag_(static_cast<std::uint64_t>(kind) << 62) {}
    // False when `id` is there already.
    bool emplace(std::uint64_t id, const Pid& pid) {
      return valid(id) && Ties::emplace(block_, id | tag_, pid);
    }
    std::size_t erase(std::uint64_t id) {
      return valid(id) && block_ != nullptr ? Ties::erase(block_, id | tag_) : 0;
    }
    // The pid under `id`, or null.
    Pid* find(std::uint64_t id) {
      if (!valid(id) || block_ == nullptr) return nullptr;
      Entry* e = block_->find(id | tag_);
      return e != nullptr ? &e->pid : nullptr;
    }
    // f(id, pid) for each entry of this kind.
    template <class F>
    void for_each(F&& f) {
      if (block_ == nullptr) return;
      for (Entry& e : block_->entries())
        if ((e.key & ~id_mask) == tag_) f(e.key & id_mask, e.pid);
    }

   private:
    static constexpr std::uint64_t id_mask = (std::uint64_t{1} << 62) - 1;
    // A ref from outside any runtime (2^62 and up) is never a monitor's.
    static bool valid(std::uint64_t id) { return (id & ~id_mask) == 0; }
    Ties*& block_;
    std::uint64_t tag_;
  };

  // Frees the block (null is fine).
  static void destroy(Ties* t) noexcept {
    if (t == nullptr) return;
    delete t->index_;
    small_free(t, bytes(t->cap_));
  }

 private:
  static constexpr std::uint32_t step_until = 8, index_from = 16;
  using Index = std::unordered_map<std::uint64_t, std::uint32_t>;

  std::uint32_t size_ = 0;
  std::uint32_t cap_ = 0;
  Index* index_ = nullptr;

  static std::size_t bytes(std::uint32_t cap) { return sizeof(Ties) + cap * sizeof(Entry); }
  Entry* data() { return reinterpret_cast<Entry*>(this + 1); }
  std::span<Entry> entries() { return {data(), size_}; }

  Entry* find(std::uint64_t key) {
    if (index_ != nullptr) {
      auto it = index_->find(key);
      return it == index_->end() ? nullptr : data() + it->second;
    }
    for (Entry& e : entries())
      if (e.key == key) return &e;
    return nullptr;
  }

  // A block of `cap` entries holding the entries of `old` (freed), or an empty one.
  static Ties* resize(Ties* old, std::uint32_t cap) {
    auto* t = new (small_alloc(bytes(cap))) Ties;
    t->cap_ = cap;
    if (old != nullptr) {
      t->size_ = old->size_;
      t->index_ = std::exchange(old->index_, nullptr);
      std::memcpy(static_cast<void*>(t->data()), old->data(), old->size_ * sizeof(Entry));
      destroy(old);
    }
    return t;
  }

  static bool emplace(Ties*& t, std::uint64_t key, const Pid& pid) {
    if (t != nullptr && t->find(key) != nullptr) return false;
    if (t == nullptr || t->size_ == t->cap_) {
      const std::uint32_t n = t == nullptr ? 0 : t->size_;
      t = resize(t, n < step_until ? n + 1 : 2 * n);
    }
    const std::uint32_t at = t->size_++;
    t->data()[at] = Entry{key, pid};
    if (t->index_ != nullptr) {
      t->index_->emplace(key, at);
    } else if (t->size_ > index_from) {
      t->index_ = new Index;
      for (std::uint32_t i = 0; i < t->size_; ++i) t->index_->emplace(t->data()[i].key, i);
    }
    return true;
  }

  static std::size_t erase(Ties*& t, std::uint64_t key) {
    Entry* e = t->find(key);
    if (e == nullptr) return 0;
    if (t->index_ != nullptr) t->index_->erase(key);
    Entry* last = t->data() + (t->size_ - 1);
    if (e != last) {
      *e = *last;
      if (t->index_ != nullptr) (*t->index_)[e->key] = static_cast<std::uint32_t>(e - t->data());
    }
    --t->size_;
    // A block keeps one spare entry (a monitor during a call comes and goes without a resize);
    // one left with more, after a burst (a supervisor's children monitored while they start),
    // shrinks; so does a big one left mostly empty (a supervisor whose many children have gone).
    if (t->cap_ <= step_until ? t->size_ + 2 <= t->cap_ : 4 * t->size_ <= t->cap_)
      t = resize(t, t->cap_ <= step_until ? t->size_ + 1 : 2 * t->size_);
    return 1;
  }
};
static_assert(sizeof(Ties) == 16 && std::is_trivially_copyable_v<Ties::Entry>);

// The active aliases of a process (otp::alias, monitor aliases), kept apart
// from its Ties and allocated on first use. Owner only: the process adds and
// removes them, and drain() checks each aliased message against them. Sorted
// by id: a process takes its refs from the runtime's increasing counter, so a
// new alias almost always goes at the end, a lookup is a binary search, and a
// process waiting on one call holds one entry (the vector keeps its capacity,
// so a call allocates nothing here after the first).
struct AliasSet {
  struct Entry {
    std::uint64_t id;
    AliasMode mode;
  };
  std::vector<Entry> active;

  Entry* find(std::uint64_t id) noexcept {
    auto it = std::lower_bound(active.begin(), active.end(), id,
                               [](const Entry& e, std::uint64_t v) { return e.id < v; });
    return it != active.end() && it->id == id ? &*it : nullptr;
  }
  void add(std::uint64_t id, AliasMode mode) {
    if (active.empty() || active.back().id < id) {
      active.push_back(Entry{id, mode});
    } else {
      auto it = std::lower_bound(active.begin(), active.end(), id,
                                 [](const Entry& e, std::uint64_t v) { return e.id < v; });
      active.insert(it, Entry{id, mode});
    }
  }
  void remove(Entry* e) noexcept { active.erase(active.begin() + (e - active.data())); }
};

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
  const Describer* describer = nullptr;  // owner only
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

// ---- timer wheel ---------------------------------------------------------
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

// ---- scheduler ---------------------------------------------------------------
class Worker {
 public:
  Worker(RuntimeImpl* rt, unsigned index) : rt_(rt), index_(index) {}
  void start();
  void join();
  void loop();

  // Owner thread only.
  void push_local(Proc* p);  // runnext slot
  void push_back(Proc* p);   // tail of the local queue
  Proc* pop_local();
  // Any thread.
  std::size_t steal_into(Worker& thief);
  bool has_queued() const { return q_len_.load(std::memory_order_acquire) != 0; }
  bool wake();    // false when it was not asleep
  void notify();  // wakes it whatever it is doing (timer changes, shutdown)

  TimerWheel& wheel() { return wheel_; }
  unsigned index() const { return index_; }
  bool idle() const { return idle_.load(std::memory_order_acquire); }

 private:
  friend class RuntimeImpl;
  void run(Proc* p, bool inherit);
  Proc* find_work(bool& inherit);
  void fire_timers();
  void sleep();
  void enqueue_locked(Proc* p);

  RuntimeImpl* rt_;
  unsigned index_;
  SpinLock qlock_;
  Proc* q_head_ = nullptr;
  Proc* q_tail_ = nullptr;
  std::atomic<std::size_t> q_len_{0};
  Proc* runnext_ = nullptr;
  unsigned runnext_streak_ = 0;
  std::atomic<bool> bypassing_{false};  // running runnext while processes wait in the queue
  unsigned tick_ = 0;
  std::uint64_t rng_ = 0x9E3779B97F4A7C15ull;
  TimerWheel wheel_;
  std::mutex sleep_m_;
  std::condition_variable sleep_cv_;
  bool sleeping_ = false;
  bool poked_ = false;
  std::atomic<bool> idle_{false};
  std::thread thread_;
  std::vector<std::pair<Pid, Msg*>> fired_;
};

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

// Thread-local scheduler context.
struct Tls {
  Worker* worker = nullptr;
  RuntimeImpl* rt = nullptr;
  Proc* current = nullptr;
  enum class Outcome : unsigned char {
    none,
    blocked,
    yielded,
    finished,
    exiting
  } outcome = Outcome::none;
  std::exception_ptr error;
  int budget = 0;
};
extern thread_local Tls tls;

constexpr int slice_budget = 2000;
// The longest chain of processes run from `runnext` on one time slice, before the
// worker serves its queue (see runtime.cpp).
constexpr unsigned runnext_chain = 16;

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
void demonitor_as(Proc* p, Ref ref, bool flush);
Alias alias_as(Proc* p, AliasMode mode);
bool unalias_as(Proc* p, Ref ref) noexcept;

}  // namespace otp::detail
