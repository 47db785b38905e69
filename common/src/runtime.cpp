// The scheduler: worker threads, run queues, work stealing, sleeping and waking.
//
// Design. Each worker thread owns a FIFO run queue (an intrusive list under a
// spin lock, touched by its owner on every schedule and by thieves rarely) and
// a one-slot `runnext`. A process woken by a message sent from a worker goes to
// that worker's runnext, so that the receiver runs next, on the same core, with
// the message still in cache: a ping-pong or a ring never leaves its core and
// never wakes another thread.
//
// Fairness. A process run from runnext inherits what its waker left of the
// time slice (as in Go's scheduler): a chain of processes handing work to each
// other shares one slice, and ends after `runnext_chain` (16) processes or when
// the slice (2,000 receives) is used up; then the worker serves its queue. So a
// runnable process waits for at most 16 runnext processes per process ahead of
// it in its worker's queue, however busy the chain. When a chain reaches 8
// processes while others wait in the queue, the worker wakes an idle one, which
// may then steal even a lone waiting process from it.
// Work from other threads (main, tests, Scoped handles) goes through a global
// injection queue.
//
// Idle workers try to steal half of another worker's queue when two or more
// processes wait in it, or one waits behind a runnext chain (never its runnext),
// then sleep on their own condition variable. A sleeping worker is woken only
// when queued work appears that its owner is not about to run: a push to a
// local queue that leaves two or more processes waiting, a long runnext chain
// that passes queued work, or a push to the injection queue, wakes one sleeper. The
// push and the sleeper's final check are ordered by seq_cst operations on the
// queue lengths and on `sleepers` (a Dekker pattern), so a wake-up cannot be lost.
//
// Timers live in per-worker wheels (timer_wheel.cpp); a worker advances its own
// wheel between processes and sleeps no longer than its next expiry.
//
// Process blocks come from a type-stable pool (see Proc in runtime/proc.hpp).
#include <algorithm>
#include <cmath>
#include <csignal>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <pthread.h>

#include "runtime/runtime_impl.hpp"

namespace otp::detail {

// ---- runtime ------------------------------------------------------------------

RuntimeImpl::RuntimeImpl(Options o) : opts(o), start(std::chrono::steady_clock::now()) {
  if (opts.virtual_clock && opts.threads == 0) opts.threads = 1;
  if (opts.threads == 0) opts.threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < opts.threads; ++i) workers.push_back(std::make_unique<Worker>(this, i));
  for (auto& w : workers) w->start();
}

RuntimeImpl::~RuntimeImpl() { stop_workers(); }

Proc* RuntimeImpl::alloc_proc() {
  Proc* p;
  {
    std::lock_guard lock(pool_m_);
    if (free_ == nullptr) {
      constexpr std::size_t n = 512;
      auto chunk = std::make_unique<Proc[]>(n);
      for (std::size_t i = 0; i < n; ++i) {
        chunk[i].rt = this;
        chunk[i].next_run = free_;
        free_ = &chunk[i];
      }
      chunks_.push_back(std::move(chunk));
    }
    p = free_;
    free_ = p->next_run;
  }
  p->next_run = nullptr;
  p->inbox.reset();
  p->trap_exit = p->pending_exit = p->timeout_fired = false;
  p->supervisor = p->parent_supervisor = false;
  p->handled = 0;
  p->hooks_closed = false;
  p->describer = nullptr;
  p->describer_self = nullptr;
  p->refs.fetch_add(Proc::alive_ref, std::memory_order_acq_rel);
  p->serial.store(next_serial.fetch_add(1, std::memory_order_relaxed), std::memory_order_release);
  return p;
}

void RuntimeImpl::release(Proc* p) noexcept {
  if (p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) try_free(p);
}

void RuntimeImpl::try_free(Proc* p) noexcept {
  if (!p->retired.exchange(false, std::memory_order_acq_rel)) return;
  std::lock_guard lock(pool_m_);
  p->next_run = free_;
  free_ = p;
}

void RuntimeImpl::register_proc(Proc* p) {
  Shard& s = shards_[p->serial.load(std::memory_order_relaxed) % shard_count];
  std::lock_guard lock(s.lock);
  p->all_prev = nullptr;
  p->all_next = s.head;
  if (s.head != nullptr) s.head->all_prev = p;
  s.head = p;
}

void RuntimeImpl::unregister_proc(Proc* p, std::uint64_t serial) {
  Shard& s = shards_[serial % shard_count];
  std::lock_guard lock(s.lock);
  if (p->all_prev != nullptr)
    p->all_prev->all_next = p->all_next;
  else
    s.head = p->all_next;
  if (p->all_next != nullptr) p->all_next->all_prev = p->all_prev;
  p->all_prev = p->all_next = nullptr;
}

std::vector<Pid> RuntimeImpl::snapshot(bool coroutines_only) const {
  std::vector<Pid> out;
  for (auto& s : shards_) {
    std::lock_guard lock(s.lock);
    for (Proc* p = s.head; p != nullptr; p = p->all_next)
      if (!coroutines_only || p->external == nullptr) out.push_back(p->pid());
  }
  return out;
}

std::vector<std::pair<Pid, Pid>> RuntimeImpl::snapshot_with_parents() const {
  std::vector<std::pair<Pid, Pid>> out;
  for (auto& s : shards_) {
    std::lock_guard lock(
        s.lock);  // parent is set before a process joins the list and cleared after it leaves
    for (Proc* p = s.head; p != nullptr; p = p->all_next)
      if (p->external == nullptr) out.emplace_back(p->pid(), p->parent);
  }
  return out;
}

// A supervisor ends all its children before it exits, unless it is killed; then
// its children get its exit signal and end too (the non-trapping ones at once,
// supervisors and trapping servers after their terminate). So a live process
// whose chain of supervisors reaches one that is gone will exit as well.
// Each step reads a block's parent under its shard's lock while the block is
// in the process list: do_exit clears the parent only after leaving the list.
RuntimeImpl::Fate RuntimeImpl::fate(const Pid& pid) const {
  Pid at = pid;
  for (int depth = 0; depth < 64; ++depth) {
    Proc* p = at.proc();
    if (p == nullptr || p->rt != this) return depth == 0 ? Fate::gone : Fate::alive;
    Shard& s = shards_[at.id() % shard_count];
    std::lock_guard lock(s.lock);
    const bool listed = p->serial.load(std::memory_order_acquire) == at.id() &&
                        (p->all_prev != nullptr || s.head == p);
    if (!listed) return depth == 0 ? Fate::gone : Fate::doomed;
    if (!p->parent_supervisor) return Fate::alive;
    at = p->parent;
  }
  return Fate::alive;
}

void RuntimeImpl::make_runnable(Proc* p) {
  if (p->external != nullptr) {
    p->external->sem.release();
    return;
  }
  Worker* w = tls.worker;
  if (w != nullptr && tls.rt == this) {
    w->push_local(p);
  } else {
    inject(p);
  }
}

void RuntimeImpl::inject(Proc* p) {
  {
    std::lock_guard lock(inject_m);
    p->next_run = nullptr;
    if (inject_tail != nullptr)
      inject_tail->next_run = p;
    else
      inject_head = p;
    inject_tail = p;
    inject_len.fetch_add(1, std::memory_order_seq_cst);
  }
  wake_one();
}

Proc* RuntimeImpl::take_injected() {
  if (inject_len.load(std::memory_order_acquire) == 0) return nullptr;
  std::lock_guard lock(inject_m);
  Proc* p = inject_head;
  if (p == nullptr) return nullptr;
  inject_head = p->next_run;
  if (inject_head == nullptr) inject_tail = nullptr;
  p->next_run = nullptr;
  inject_len.fetch_sub(1, std::memory_order_seq_cst);
  return p;
}

void RuntimeImpl::wake_one() {
  if (sleepers.load(std::memory_order_seq_cst) == 0) return;
  if (spinners.load(std::memory_order_seq_cst) > 0) return;  // a spinning worker will find it
  unsigned start = tls.worker != nullptr ? tls.worker->index() + 1 : 0;
  for (unsigned i = 0; i < workers.size(); ++i)
    if (workers[(start + i) % workers.size()]->wake()) return;
}

bool RuntimeImpl::any_work() const {
  if (inject_len.load(std::memory_order_seq_cst) != 0) return true;
  for (auto& w : workers)
    if (w->has_queued()) return true;
  return false;
}

Worker& RuntimeImpl::timer_home() {
  if (tls.worker != nullptr && tls.rt == this) return *tls.worker;
  return *workers[0];
}

void RuntimeImpl::signal_idle() {
  std::lock_guard lock(idle_m);
  idle_cv.notify_all();
}

void RuntimeImpl::wait_idle() {
  std::unique_lock lock(idle_m);
  idle_cv.wait(lock, [&] {
    for (auto& w : workers)
      if (!w->idle()) return false;
    return !any_work();
  });
}

std::shared_ptr<Service> RuntimeImpl::service(
    const void* key, const std::function<std::shared_ptr<Service>()>& make) {
  std::shared_ptr<Service> made;
  {
    std::lock_guard lock(services_m_);
    for (auto& [k, s] : services_)
      if (k == key) return s;
    made = make();
    services_.emplace_back(key, made);
    if (!services_stopped_) return made;
  }
  made->stop();  // asked for after the runtime stopped its services
  return made;
}

void RuntimeImpl::stop_workers() {
  if (workers_stopped_.exchange(true)) return;
  std::vector<std::pair<const void*, std::shared_ptr<Service>>> services;
  {
    std::lock_guard lock(services_m_);
    services_stopped_ = true;
    services = services_;
  }
  for (auto& [key, s] : services) s->stop();
  quit.store(true, std::memory_order_seq_cst);
  for (auto& w : workers) w->notify();
  for (auto& w : workers) w->join();
  for (auto& w : workers) {
    std::lock_guard lock(w->wheel().mutex());
    w->wheel().clear();
  }
}

// ---- workers --------------------------------------------------------------------

// Scheduler threads block the asynchronous signals (Ctrl-C's SIGINT, SIGTERM, ...), so
// the kernel delivers them to the program's own threads: a console waiting in its line
// editor, a service waiting for SIGTERM. A thread inherits its creator's mask.
void Worker::start() {
  sigset_t block;
  sigset_t old;
  sigemptyset(&block);
  for (int sig :
       {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGWINCH, SIGPIPE})
    sigaddset(&block, sig);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  thread_ = std::thread([this] { loop(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}
void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::push_local(Proc* p) {
  if (runnext_ != nullptr) push_back(runnext_);
  runnext_ = p;
}

void Worker::enqueue_locked(Proc* p) {
  p->next_run = nullptr;
  if (q_tail_ != nullptr)
    q_tail_->next_run = p;
  else
    q_head_ = p;
  q_tail_ = p;
  q_len_.fetch_add(1, std::memory_order_seq_cst);
}

void Worker::push_back(Proc* p) {
  std::size_t queued;
  {
    std::lock_guard lock(qlock_);
    enqueue_locked(p);
    queued = q_len_.load(std::memory_order_relaxed);
  }
  // One queued process will run here soon enough; moving it to a sleeping core
  // costs a wake-up and, for a producer/consumer pair, every message a cache
  // miss. Two or more waiting is real excess work: share it.
  if (queued >= 2) rt_->wake_one();
}

Proc* Worker::pop_local() {
  if (q_len_.load(std::memory_order_relaxed) == 0) return nullptr;
  std::lock_guard lock(qlock_);
  Proc* p = q_head_;
  if (p == nullptr) return nullptr;
  q_head_ = p->next_run;
  if (q_head_ == nullptr) q_tail_ = nullptr;
  p->next_run = nullptr;
  q_len_.fetch_sub(1, std::memory_order_seq_cst);
  return p;
}

std::size_t Worker::steal_into(Worker& thief) {
  // A lone queued process runs here soon enough (see push_back): steal only excess,
  // or what waits behind a chain of runnext processes.
  const std::size_t queued = q_len_.load(std::memory_order_relaxed);
  if (queued == 0 || (queued < 2 && !bypassing_.load(std::memory_order_relaxed))) return 0;
  Proc* head = nullptr;
  Proc* tail = nullptr;
  std::size_t n = 0;
  {
    std::unique_lock lock(qlock_, std::try_to_lock);
    if (!lock.owns_lock()) return 0;
    std::size_t want = std::max<std::size_t>(1, q_len_.load(std::memory_order_relaxed) / 2);
    while (n < want && q_head_ != nullptr) {
      Proc* p = q_head_;
      q_head_ = p->next_run;
      p->next_run = nullptr;
      if (tail != nullptr)
        tail->next_run = p;
      else
        head = p;
      tail = p;
      ++n;
    }
    if (q_head_ == nullptr) q_tail_ = nullptr;
    q_len_.fetch_sub(n, std::memory_order_seq_cst);
  }
  if (n == 0) return 0;
  std::lock_guard lock(thief.qlock_);
  for (Proc* p = head; p != nullptr;) {
    Proc* next = p->next_run;
    thief.enqueue_locked(p);
    p = next;
  }
  return n;
}

bool Worker::wake() {
  {
    std::lock_guard lock(sleep_m_);
    if (!sleeping_) return false;
    sleeping_ = false;
    idle_.store(false, std::memory_order_release);
    rt_->sleepers.fetch_sub(1, std::memory_order_seq_cst);
  }
  sleep_cv_.notify_one();
  return true;
}

void Worker::notify() {
  {
    std::lock_guard lock(sleep_m_);
    poked_ = true;
    idle_.store(false, std::memory_order_release);
    if (sleeping_) {
      sleeping_ = false;
      rt_->sleepers.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
  sleep_cv_.notify_one();
}

Proc* Worker::find_work(bool& inherit) {
  Proc* p;
  inherit = false;
  if (tick_ % 61 == 0 && (p = rt_->take_injected()) != nullptr) return p;
  if (runnext_ != nullptr && runnext_streak_ < runnext_chain && tls.budget > 0) {
    ++runnext_streak_;
    inherit = true;  // what the waker left of its time slice
    if (runnext_streak_ == runnext_chain / 2 && has_queued()) {
      // A long chain while processes wait behind it: an idle worker may take them
      // (steal_into). Not sooner: a producer and its consumer, whose chains are
      // short, stay on one core and share its cache.
      bypassing_.store(true, std::memory_order_relaxed);
      rt_->wake_one();
    }
    return std::exchange(runnext_, nullptr);
  }
  runnext_streak_ = 0;
  if ((p = pop_local()) != nullptr) {
    bypassing_.store(false, std::memory_order_relaxed);
    return p;
  }
  bypassing_.store(false, std::memory_order_relaxed);
  if (runnext_ != nullptr) {
    runnext_streak_ = 1;
    return std::exchange(runnext_, nullptr);
  }
  if ((p = rt_->take_injected()) != nullptr) return p;
  auto& ws = rt_->workers;
  if (ws.size() > 1) {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    std::size_t start = rng_ % ws.size();
    for (std::size_t i = 0; i < ws.size(); ++i) {
      Worker& victim = *ws[(start + i) % ws.size()];
      if (&victim != this && victim.steal_into(*this) > 0) return pop_local();
    }
  }
  return nullptr;
}

namespace {
void fire(const Pid& to, Msg* m) noexcept;  // a timer that falls due (timers, below)
}  // namespace

void Worker::fire_timers() {
  if (wheel_.empty()) return;
  {
    std::lock_guard lock(wheel_.mutex());
    wheel_.advance(rt_->now_tick(), fired_);
  }
  for (auto& [pid, msg] : fired_) fire(pid, msg);
  fired_.clear();
}

void Worker::run(Proc* p, bool inherit) {
  tls.current = p;
  if (!inherit) tls.budget = slice_budget;
  tls.outcome = Tls::Outcome::none;
  if (p->waiter != nullptr) {
    if (!poll_waiter(p)) {
      if (tls.outcome == Tls::Outcome::exiting) do_exit(p);
      tls.current = nullptr;
      return;
    }
  }
  p->resume_at.resume();
  switch (tls.outcome) {
    case Tls::Outcome::blocked:
      break;  // p may already be running elsewhere
    case Tls::Outcome::yielded:
      // A yield goes behind everything runnable, work from other threads included.
      for (int i = 0; i < 64 && rt_->inject_len.load(std::memory_order_relaxed) != 0; ++i) {
        Proc* q = rt_->take_injected();
        if (q == nullptr) break;
        std::lock_guard lock(qlock_);
        enqueue_locked(q);
      }
      push_back(p);
      break;
    case Tls::Outcome::finished:
      // Without an exception the reason is normal, or what detail::set_exit_reason chose.
      if (tls.error) p->exit_reason = reason_of(tls.error);
      tls.error = nullptr;
      do_exit(p);
      break;
    case Tls::Outcome::exiting:
      do_exit(p);
      break;
    case Tls::Outcome::none:
      // Suspended on an awaitable that is not ours: a programming error.
      p->exit_reason = Reason::exception("process suspended outside otp::receive/yield/call");
      do_exit(p);
      break;
  }
  tls.current = nullptr;
}

void Worker::sleep() {
  std::int64_t deadline_ns = -1;
  if (!wheel_.empty() && !rt_->opts.virtual_clock) {
    std::lock_guard lock(wheel_.mutex());
    if (!wheel_.empty()) deadline_ns = static_cast<std::int64_t>(wheel_.next_wakeup()) * 1'000'000;
  }
  std::unique_lock lock(sleep_m_);
  if (poked_) {
    poked_ = false;
    return;
  }
  sleeping_ = true;
  rt_->sleepers.fetch_add(1, std::memory_order_seq_cst);
  lock.unlock();
  if (rt_->any_work() || rt_->quit.load(std::memory_order_seq_cst)) {
    lock.lock();
    if (sleeping_) {
      sleeping_ = false;
      rt_->sleepers.fetch_sub(1, std::memory_order_seq_cst);
    }
    return;
  }
  lock.lock();
  if (rt_->opts.virtual_clock && sleeping_ && !poked_) {
    // Under sleep_m_, so that a concurrent wake() cannot be overtaken.
    idle_.store(true, std::memory_order_release);
    rt_->signal_idle();
  }
  while (sleeping_ && !poked_) {
    if (deadline_ns >= 0) {
      auto until = rt_->start + std::chrono::nanoseconds(deadline_ns);
      if (sleep_cv_.wait_until(lock, until) == std::cv_status::timeout) break;
    } else {
      sleep_cv_.wait(lock);
    }
  }
  if (sleeping_) {
    sleeping_ = false;
    rt_->sleepers.fetch_sub(1, std::memory_order_seq_cst);
  }
  poked_ = false;
  idle_.store(false, std::memory_order_release);
}

void Worker::loop() {
  tls.worker = this;
  tls.rt = rt_;
  while (!rt_->quit.load(std::memory_order_acquire)) {
    if ((++tick_ & 63) == 0) fire_timers();
    bool inherit = false;
    if (Proc* p = find_work(inherit)) {
      run(p, inherit);
      continue;
    }
    fire_timers();
    if (runnext_ != nullptr || has_queued()) continue;
    // Spin briefly before sleeping: work often arrives within microseconds.
    rt_->spinners.fetch_add(1, std::memory_order_seq_cst);
    Proc* p = nullptr;
    for (int i = 0; i < 64 && p == nullptr && !rt_->quit.load(std::memory_order_relaxed); ++i) {
      for (int k = 0; k < 32; ++k) SpinLock::cpu_relax();
      // Lets a thread waiting for this core run (the runtime's IO thread, an
      // oversubscribed machine's others), where a busy spin would delay them.
      if ((i & 7) == 7) std::this_thread::yield();
      p = find_work(inherit);
    }
    rt_->spinners.fetch_sub(1, std::memory_order_seq_cst);
    if (p != nullptr) {
      run(p, inherit);
      continue;
    }
    sleep();
  }
  tls.worker = nullptr;
  tls.rt = nullptr;
}

bool register_in(RuntimeImpl& rt, std::string name, const Pid& pid) {
  Proc* p = pid.proc();
  if (name.empty() || p == nullptr || p->rt != &rt) return false;
  std::unique_lock lock(rt.names_m);
  if (!otp::is_alive(pid) || rt.names.count(name) != 0 || rt.name_of.count(pid.id()) != 0)
    return false;
  rt.name_of.emplace(pid.id(), name);
  rt.names.emplace(std::move(name), pid);
  p->named.store(true, std::memory_order_seq_cst);
  // The process may have exited meanwhile: its exit path reads `named` after
  // clearing its serial, so either it removes the name or we see it dead here.
  if (!otp::is_alive(pid)) {
    rt.names.erase(rt.name_of[pid.id()]);
    rt.name_of.erase(pid.id());
    return false;
  }
  return true;
}

// ---- timers -----------------------------------------------------------------

namespace {

// The message of a timer aimed at a registered name: the name is looked up when it falls due.
struct NamedTimer {
  RuntimeImpl* rt;
  std::string name;
  Msg* inner;
  NamedTimer(RuntimeImpl* r, std::string n, Msg* m) : rt(r), name(std::move(n)), inner(m) {}
  NamedTimer(NamedTimer&& o) noexcept
      : rt(o.rt), name(std::move(o.name)), inner(std::exchange(o.inner, nullptr)) {}
  NamedTimer(const NamedTimer&) = delete;
  NamedTimer& operator=(const NamedTimer&) = delete;
  NamedTimer& operator=(NamedTimer&&) = delete;
  ~NamedTimer() {
    if (inner != nullptr) free_msg(inner);
  }
};

// What a timer does when it falls due: deliver its message, to its pid or to whoever has its
// name now.
void fire(const Pid& to, Msg* m) noexcept {
  if (to.proc() != nullptr || !is<NamedTimer>(m)) {
    deliver(to, m);
    return;
  }
  auto& t = value_of<NamedTimer>(m);
  std::optional<Pid> pid;
  {
    std::shared_lock lock(t.rt->names_m);
    auto it = t.rt->names.find(t.name);
    if (it != t.rt->names.end()) pid = it->second;
  }
  Msg* inner = std::exchange(t.inner, nullptr);
  free_msg(m);
  if (pid) {
    deliver(*pid, inner);  // a dead pid: dropped
  } else {
    free_msg(inner);
  }
}

TimerRef start_timer_in(RuntimeImpl* rt, const Pid& to, Duration after, Msg* m,
                        TimerRef* ref_in_msg) {
  // now <= max_clock_ns, so the deadline in ms, times 10^6, stays below 2^63.
  std::int64_t after_ns = std::clamp<std::int64_t>(after.count(), 0, max_clock_ns - 2'000'000);
  std::int64_t now = rt->now_ns();
  auto expires = static_cast<std::uint64_t>((now + after_ns + 999'999) / 1'000'000);
  std::uint64_t id = rt->next_timer.fetch_add(1, std::memory_order_relaxed);
  Worker& w = rt->timer_home();
  TimerRef ref;
  bool due = false;
  {
    std::lock_guard lock(w.wheel().mutex());
    // The wheel may already have passed this tick: then the timer is due now.
    due = expires < w.wheel().base();
    if (!due) {
      ref = w.wheel().add(static_cast<std::uint64_t>(now / 1'000'000), expires, to, m, id);
      if (ref_in_msg != nullptr) *ref_in_msg = ref;  // before the wheel's mutex lets it fire
    }
  }
  if (due) {
    ref = TimerRef{id, nullptr};  // already fired: cancel/read report nullopt
    if (ref_in_msg != nullptr) *ref_in_msg = ref;
    fire(to, m);
    return ref;
  }
  if (tls.worker != &w) w.notify();  // a sleeping owner must recompute its deadline
  return ref;
}

}  // namespace

TimerRef start_timer(const Pid& to, Duration after, Msg* m, TimerRef* ref_in_msg) {
  Proc* target = to.proc();
  RuntimeImpl* rt = target != nullptr ? target->rt : tls.rt;
  if (rt == nullptr) {
    free_msg(m);
    return TimerRef{};
  }
  return start_timer_in(rt, to, after, m, ref_in_msg);
}

TimerRef start_named_timer(std::string name, Duration after, Msg* m) {
  RuntimeImpl* rt = nullptr;
  try {
    rt = current_or_throw("send_after")->rt;
  } catch (...) {
    free_msg(m);
    throw;
  }
  return start_timer_in(rt, Pid{}, after, make_msg<NamedTimer>(NamedTimer{rt, std::move(name), m}),
                        nullptr);
}

namespace {
std::optional<Duration> timer_op(TimerRef ref, bool cancel, bool read = true) {
  auto* e = static_cast<TimerEntry*>(ref.entry);
  if (e == nullptr || ref.id == 0) return std::nullopt;
  TimerWheel* w = e->wheel.load(std::memory_order_acquire);
  if (w == nullptr) return std::nullopt;
  Msg* m = nullptr;
  std::optional<Duration> left;
  {
    std::lock_guard lock(w->mutex());
    if (e->wheel.load(std::memory_order_acquire) != w ||
        e->id.load(std::memory_order_acquire) != ref.id)
      return std::nullopt;
    // A timer whose target has exited is no longer pending, as Erlang cancels the timers aimed
    // at a process when it exits; here it goes when it is first looked at, or when it falls due.
    // A timer aimed at a name has no target until it falls due.
    const bool named = e->target.proc() == nullptr && is<NamedTimer>(e->msg);
    const bool orphan = !named && !otp::is_alive(e->target);
    if (orphan) {
      w->remove(e);
      m = e->msg;
      w->free_entry(e);
    } else if (read) {
      RuntimeImpl* rt = named ? value_of<NamedTimer>(e->msg).rt : e->target.proc()->rt;
      std::int64_t now = rt->now_ns();
      left = Duration(
          std::max<std::int64_t>(0, static_cast<std::int64_t>(e->expires) * 1'000'000 - now));
    } else {
      left = Duration::zero();
    }
    if (cancel && !orphan) {
      w->remove(e);
      m = e->msg;
      w->free_entry(e);
    }
  }
  if (m != nullptr) free_msg(m);
  return left;
}
}  // namespace

void drop_timer(TimerRef ref) noexcept { timer_op(ref, true, false); }

}  // namespace otp::detail

namespace otp {

using namespace detail;

std::optional<Duration> cancel_timer(TimerRef ref) { return timer_op(ref, true); }
std::optional<Duration> read_timer(TimerRef ref) { return timer_op(ref, false); }

// ---- Runtime --------------------------------------------------------------------

namespace {
// Waiting for the runtime from one of its own threads would wait for itself.
void require_outside(const RuntimeImpl& rt, const char* what) {
  if (tls.rt == &rt)
    throw std::logic_error(std::string("otp::Runtime::") + what +
                           " called from one of its own processes");
}
}  // namespace

Runtime::Runtime(Options options) : impl_(std::make_unique<RuntimeImpl>(options)) {}

Runtime::~Runtime() { shutdown(); }

unsigned Runtime::threads() const { return impl_->opts.threads; }
bool Runtime::deterministic() const { return impl_->opts.virtual_clock; }
std::size_t Runtime::process_count() const {
  return static_cast<std::size_t>(
      std::max<std::int64_t>(0, impl_->live.load(std::memory_order_acquire)));
}
std::vector<Pid> Runtime::processes() const { return impl_->snapshot(); }
Duration Runtime::now() const { return Duration(impl_->now_ns()); }

void Runtime::advance(Duration d) {
  RuntimeImpl& rt = *impl_;
  if (!rt.opts.virtual_clock)
    throw std::logic_error("Runtime::advance needs the virtual clock (Options::deterministic())");
  require_outside(rt, "advance");
  if (d < Duration::zero()) throw std::invalid_argument("Runtime::advance: a negative duration");
  if (d.count() > max_clock_ns - rt.now_ns())
    throw std::overflow_error(fmt::format(
        "Runtime::advance: the virtual clock stops at 2^62 ns (about 146 years); it is at {} ns, "
        "and {} ns more would pass that",
        rt.now_ns(), d.count()));
  const std::int64_t target = rt.now_ns() + d.count();
  auto notify_all = [&] {
    for (auto& w : rt.workers) w->notify();
  };
  for (;;) {
    rt.wait_idle();
    std::uint64_t next = UINT64_MAX;
    for (auto& w : rt.workers) {
      std::lock_guard lock(w->wheel().mutex());
      if (!w->wheel().empty()) next = std::min(next, w->wheel().earliest());
    }
    if (next == UINT64_MAX || static_cast<std::int64_t>(next) * 1'000'000 > target) break;
    rt.virtual_ns.store(std::max(rt.now_ns(), static_cast<std::int64_t>(next) * 1'000'000),
                        std::memory_order_release);
    notify_all();
  }
  rt.virtual_ns.store(target, std::memory_order_release);
  notify_all();
  rt.wait_idle();
}

void Runtime::run_until_idle() {
  if (!impl_->opts.virtual_clock)
    throw std::logic_error("Runtime::run_until_idle needs the virtual clock");
  require_outside(*impl_, "run_until_idle");
  impl_->wait_idle();
}

bool Runtime::register_name(std::string name, Pid pid) {
  return register_in(*impl_, std::move(name), pid);
}

bool Runtime::unregister_name(std::string_view name) {
  std::unique_lock lock(impl_->names_m);
  auto it = impl_->names.find(std::string(name));
  if (it == impl_->names.end()) return false;
  impl_->name_of.erase(it->second.id());
  impl_->names.erase(it);
  return true;
}

std::optional<Pid> Runtime::whereis(std::string_view name) const {
  std::shared_lock lock(impl_->names_m);
  auto it = impl_->names.find(std::string(name));
  if (it == impl_->names.end() || !is_alive(it->second)) return std::nullopt;
  return it->second;
}

void Runtime::shutdown() {
  RuntimeImpl& rt = *impl_;
  require_outside(rt, "shutdown");
  if (rt.stopping.exchange(true)) {
    rt.stop_workers();
    return;
  }
  auto internal_live = [&] { return rt.live.load() - rt.live_external.load(); };
  auto wait_for = [&](std::chrono::steady_clock::duration limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (internal_live() > 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return internal_live() <= 0;
  };
  // From nobody: a process that traps exits sees Exit{from = Pid{}} and may treat
  // it as its parent's (GenServer and Supervisor do).
  auto signal = [&](const Pid& pid, const Reason& r) {
    send_signal(pid, make_msg<ExitSig>(ExitSig{Pid{}, r, false}));
  };
  const auto deadline = std::chrono::steady_clock::now() + rt.opts.shutdown_grace;
  if (internal_live() > 0) {
    // Roots first (no live parent, or a plain thread's): a supervisor then stops
    // its children itself, in reverse start order, before anyone else signals them.
    auto all = rt.snapshot_with_parents();
    std::unordered_set<std::uint64_t> processes;
    for (auto& [pid, parent] : all) processes.insert(pid.id());
    std::vector<Pid> roots;
    for (auto& [pid, parent] : all)
      if (!processes.contains(parent.id())) roots.push_back(pid);
    for (const Pid& pid : roots) signal(pid, Reason::shutdown());
    auto roots_gone = [&] {
      for (const Pid& pid : roots)
        if (is_alive(pid)) return false;
      return true;
    };
    while (!roots_gone() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (const Pid& pid : rt.snapshot(true)) signal(pid, Reason::shutdown());
    if (!wait_for(deadline - std::chrono::steady_clock::now())) {
      for (const Pid& pid : rt.snapshot(true)) signal(pid, Reason::kill());
      wait_for(std::chrono::seconds(10));
    }
  }
  rt.stop_workers();
}

// ---- names --------------------------------------------------------------------------

bool register_name(std::string name, const Pid& pid) {
  return register_in(*current_or_throw("register_name")->rt, std::move(name), pid);
}

bool unregister_name(std::string_view name) {
  RuntimeImpl* rt = current_or_throw("unregister_name")->rt;
  std::unique_lock lock(rt->names_m);
  auto it = rt->names.find(std::string(name));
  if (it == rt->names.end()) return false;
  rt->name_of.erase(it->second.id());
  rt->names.erase(it);
  return true;
}

std::optional<Pid> whereis(std::string_view name) {
  RuntimeImpl* rt = current_or_throw("whereis")->rt;
  std::shared_lock lock(rt->names_m);
  auto it = rt->names.find(std::string(name));
  if (it == rt->names.end() || !is_alive(it->second)) return std::nullopt;
  return it->second;
}

Pid Via::resolve() const {
  auto p = whereis();
  if (!p) throw BadArg("send to unregistered via-name " + key);
  return *p;
}

}  // namespace otp
