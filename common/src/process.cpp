// Process side of the runtime: receive, signals, links, monitors, exits.
//
// Everything here runs on the thread that currently runs the process, except
// deliver()/send_signal(), which any thread may call. A process's private
// queue, link set and monitor tables are touched only by the process itself:
// other processes change them by sending signals, which the owner applies
// when it drains its inbox (drain()), in arrival order with its messages.
#include <algorithm>
#include <cassert>
#include <shared_mutex>
#include <stdexcept>
#include <string>

#include "runtime/runtime_impl.hpp"

namespace otp::detail {

thread_local Tls tls;

Proc* current_or_throw(const char* what) {
  if (tls.current == nullptr)
    throw std::logic_error(std::string("otp::") + what +
                           " must be called from inside a process or with an otp::Scoped");
  return tls.current;
}

// ---- delivery -------------------------------------------------------------

namespace {

// Pins the block and checks the serial. False when the pid's process is gone.
bool pin(Proc* p, std::uint64_t serial) noexcept {
  p->refs.fetch_add(1, std::memory_order_acq_rel);
  if (p->serial.load(std::memory_order_acquire) == serial) return true;
  p->rt->release(p);
  return false;
}

// A signal that could not be delivered because its target is gone: answer it
// the way the target would have, with reason `noproc`.
void answer_dead(const Pid& target, Msg* m) noexcept {
  switch (m->type->kind) {
    case SigKind::link: {
      Pid from = value_of<LinkSig>(m).from;
      deliver(from, make_msg<ExitSig>(ExitSig{target, Reason::noproc(), true}));
      break;
    }
    case SigKind::monitor: {
      auto& s = value_of<MonitorSig>(m);
      deliver(s.watcher, make_msg<DownSig>(DownSig{s.ref, target, Reason::noproc()}));
      break;
    }
    case SigKind::info: {
      auto& s = value_of<InfoSig>(m);
      try {
        deliver(Alias{s.requester, s.ref}, make_msg<InfoReply>(InfoReply{s.ref, std::nullopt}));
      } catch (...) {
      }
      break;
    }
    default:
      break;
  }
  free_msg(m);
}

}  // namespace

namespace {

// Pushes `m` to the pid's inbox; false (m untouched) when the process is gone.
bool push(const Pid& to, Msg* m) noexcept {
  Proc* p = to.proc();
  if (p == nullptr || !pin(p, to.id())) return false;
  const Inbox::Push r = p->inbox.push(m);
  if (r == Inbox::Push::woke) p->rt->make_runnable(p);
  p->rt->release(p);
  return r != Inbox::Push::closed;
}

}  // namespace

void set_exit_reason(Reason reason) {
  current_or_throw("set_exit_reason")->exit_reason = std::move(reason);
}
Reason exit_reason() { return current_or_throw("exit_reason")->exit_reason; }
const Pid& self_parent() { return current_or_throw("parent")->parent; }

bool unwatch(Ref ref) noexcept {
  Proc* p = tls.current;
  return p != nullptr && p->watchers().erase(ref.id) != 0;
}

namespace {

// The monitor `ref` of p has ended: so does its alias, unless explicit_unalias.
void monitor_ended(Proc* p, std::uint64_t ref) noexcept {
  if (p->aliases == nullptr) return;
  if (AliasSet::Entry* e = p->aliases->find(ref);
      e != nullptr && e->mode != AliasMode::explicit_unalias)
    p->aliases->remove(e);
}

// The name a monitor was made by (monitor("name")), taken out; empty for one made by pid.
std::string take_monitor_name(Proc* p, std::uint64_t ref) {
  if (p->monitor_names == nullptr) return {};
  auto& names = *p->monitor_names;
  auto it =
      std::find_if(names.begin(), names.end(), [ref](const auto& e) { return e.first == ref; });
  if (it == names.end()) return {};
  std::string name = std::move(it->second);
  names.erase(it);
  return name;
}

}  // namespace

void forget_monitor(Ref ref) noexcept {
  Proc* p = tls.current;
  if (p != nullptr && p->monitors().erase(ref.id) != 0) monitor_ended(p, ref.id);
}

ProcessInfo describe(Proc* p) {
  ProcessInfo i;
  i.pid = p->pid();
  i.parent = p->parent;
  i.status = p->pending_exit                                    ? ProcessInfo::Status::exiting
             : (p->waiter != nullptr || p->external != nullptr) ? ProcessInfo::Status::waiting
                                                                : ProcessInfo::Status::running;
  i.mailbox = p->q_len;
  i.handled = p->handled;
  i.traps_exits = p->trap_exit;
  p->links().for_each([&](std::uint64_t, const Pid& pid) { i.links.push_back(pid); });
  p->monitors().for_each([&](std::uint64_t, const Pid& pid) { i.monitors.push_back(pid); });
  p->watchers().for_each([&](std::uint64_t, const Pid& pid) { i.monitored_by.push_back(pid); });
  std::sort(i.links.begin(), i.links.end());
  std::sort(i.monitors.begin(), i.monitors.end());
  std::sort(i.monitored_by.begin(), i.monitored_by.end());
  // An estimate: the control block, one envelope per waiting message, the link and monitor
  // entries; the coroutine frame's size is not known here.
  i.memory = sizeof(Proc) + i.mailbox * sizeof(Msg) +
             (i.links.size() + i.monitors.size() + i.monitored_by.size()) * 2 * sizeof(Pid);
  if (p->named.load(std::memory_order_acquire)) {
    std::shared_lock lock(p->rt->names_m);
    auto it = p->rt->name_of.find(i.pid.id());
    if (it != p->rt->name_of.end()) i.name = it->second;
  }
  if (const Describer* d = p->describer) {
    i.behaviour = d->behaviour(p->describer_self);
    i.module = d->module(p->describer_self);
    if (i.name.empty()) i.name = d->name(p->describer_self, i.pid);
    i.state = d->state(p->describer_self);
  } else {
    i.behaviour = p->external != nullptr ? "thread" : "process";
  }
  return i;
}

// set_label's describer: the label as the name, "process" as the behaviour.
const Describer labelled{
    [](const void*) { return std::string("process"); }, [](const void*) { return std::string(); },
    [](const void* label, const Pid&) { return std::string(static_cast<const char*>(label)); },
    [](const void*) { return std::string(); }};

void set_describer(const Describer* d, const void* self) noexcept {
  if (Proc* p = tls.current) {
    p->describer = d;
    p->describer_self = self;
  }
}

Pid caller() noexcept { return tls.current != nullptr ? tls.current->pid() : Pid{}; }

std::shared_ptr<Service> service_of(const Pid& pid, const void* key,
                                    const std::function<std::shared_ptr<Service>()>& make) {
  // A block's runtime never changes while the runtime lives (blocks are type-stable).
  if (!pid || pid.proc() == nullptr) return nullptr;
  return pid.proc()->rt->service(key, make);
}

bool with_exit_hooks(const Pid& pid, void (*visit)(ExitHooks& hooks, void* context),
                     void* context) {
  Proc* p = pid.proc();
  if (p == nullptr || !pin(p, pid.id())) return false;
  struct Unpin {
    Proc* p;
    ~Unpin() { p->rt->release(p); }
  } unpin{p};
  std::lock_guard lock(p->hooks_lock);
  if (p->hooks_closed) return false;
  ExitHooks hooks(p->hooks);
  visit(hooks, context);  // may throw: the guards above still unlock and unpin
  return true;
}

bool add_exit_hook(const Pid& pid, ExitHook* hook) {
  // Newest first in the list; reversed when they run.
  const bool added = with_exit_hooks(pid, [hook](ExitHooks& hooks) { hooks.push(hook); });
  if (!added) hook->destroy();
  return added;
}

void deliver(const Pid& to, Msg* m) noexcept {
  if (!push(to, m)) free_msg(m);
}

void send_signal(const Pid& to, Msg* m) noexcept {
  if (!push(to, m)) answer_dead(to, m);
}

// ---- signals ----------------------------------------------------------------

namespace {

void die(Proc* p, Reason r) noexcept {
  p->pending_exit = true;
  p->exit_reason = std::move(r);
}

void handle_exit(Proc* p, Msg* m) {
  auto& s = value_of<ExitSig>(m);
  if (s.linked) {
    // A signal from a link we have since removed is void (Erlang's unlink semantics).
    if (p->links().erase(s.from.id()) == 0) return;
  }
  if (!s.linked && s.reason.is_kill()) return die(p, Reason::killed());
  if (p->trap_exit) {
    p->append(make_msg<Exit>(Exit{s.from, s.reason}));
    return;
  }
  if (s.reason.is_normal()) {
    // exit(self(), normal) ends the caller; a normal exit of a link does nothing.
    if (!s.linked && s.from == p->pid()) die(p, Reason::normal());
    return;
  }
  die(p, s.reason);
}

// Link and monitor bookkeeping signals; false for any other kind.
bool apply_bookkeeping(Proc* p, Msg* m) {
  switch (m->type->kind) {
    case SigKind::link: {
      Pid from = value_of<LinkSig>(m).from;
      p->links().emplace(from.id(), from);
      return true;
    }
    case SigKind::unlink:
      p->links().erase(value_of<UnlinkSig>(m).from.id());
      return true;
    case SigKind::monitor: {
      auto& s = value_of<MonitorSig>(m);
      p->watchers().emplace(s.ref.id, s.watcher);
      return true;
    }
    case SigKind::demonitor:
      p->watchers().erase(value_of<DemonitorSig>(m).ref.id);
      return true;
    default:
      return false;
  }
}

// Whether p takes message `m`, sent to one of its aliases: only while the
// alias is active. A reply alias ends with the message it takes.
bool alias_takes(Proc* p, Msg* m) {
  AliasSet::Entry* e = p->aliases != nullptr ? p->aliases->find(m->alias) : nullptr;
  if (e == nullptr) return false;
  if (e->mode == AliasMode::reply) {
    p->aliases->remove(e);
  } else if (e->mode == AliasMode::reply_demonitor) {
    p->aliases->remove(e);
    demonitor_as(p, Ref{m->alias}, false);
  }
  return true;
}

void handle(Proc* p, Msg* m) {
  if (m->alias != 0 && !p->pending_exit && !alias_takes(p, m)) {
    free_msg(m);  // sent to an alias that is no longer active
    return;
  }
  if (m->type->kind == SigKind::message || p->pending_exit) {
    p->append(m);  // a message; or, once exiting, a signal that do_exit will answer
    return;
  }
  if (!apply_bookkeeping(p, m)) {
    switch (m->type->kind) {
      case SigKind::exit:
        handle_exit(p, m);
        break;
      case SigKind::down: {
        auto& s = value_of<DownSig>(m);
        if (p->monitors().erase(s.ref.id) != 0) {
          monitor_ended(p, s.ref.id);
          p->append(make_msg<Down>(
              Down{s.ref, s.pid, std::move(s.reason), take_monitor_name(p, s.ref.id)}));
        }
        break;
      }
      case SigKind::timeout:
        if (value_of<TimeoutSig>(m).seq == p->timeout_seq && p->timer) p->timeout_fired = true;
        break;
      case SigKind::info: {
        auto& s = value_of<InfoSig>(m);
        deliver(Alias{s.requester, s.ref}, make_msg<InfoReply>(InfoReply{s.ref, describe(p)}));
        break;
      }
      default:
        break;
    }
  }
  free_msg(m);
}

}  // namespace

void drain(Proc* p) noexcept {
  Msg* tail = nullptr;
  Msg* m = p->inbox.take(tail);
  while (m != nullptr) {
    Msg* next = m->next;
    try {
      handle(p, m);
    } catch (...) {
      // Only allocation can fail here; losing the signal is the lesser evil.
      free_msg(m);
    }
    m = next;
  }
}

Msg* scan(Proc* p, Waiter& w) noexcept {
  if (w.match == nullptr) return nullptr;
  Msg* prev = w.cursor;
  Msg* m = prev != nullptr ? prev->next : p->q_head;
  while (m != nullptr) {
    if (w.match(&w, m)) {
      if (prev != nullptr)
        prev->next = m->next;
      else
        p->q_head = m->next;
      if (p->q_tail == m) p->q_tail = prev;
      m->next = nullptr;
      --p->q_len;
      ++p->handled;
      return m;
    }
    prev = m;
    m = m->next;
  }
  w.cursor = prev;
  return nullptr;
}

// ---- waiting ----------------------------------------------------------------

void post_self_timeout(Proc* p, Waiter& w) {
  ++p->timeout_seq;
  p->timeout_fired = false;
  p->timer = start_timer(p->pid(), w.timeout, make_msg<TimeoutSig>(TimeoutSig{p->timeout_seq}));
}

void finish_wait(Proc* p, Waiter&) noexcept {
  p->waiter = nullptr;
  if (p->timer) {
    drop_timer(p->timer);
    p->timer = TimerRef{};
  }
  p->timeout_fired = false;
}

bool wait_ready(Waiter& w) noexcept {
  Proc* p = tls.current;
  assert(p != nullptr && "receive outside a process");
  if (p->external != nullptr) {  // a plain thread: wait right here, blocking it
    if (w.yielding) return true;
    external_wait(p, w, w.timeout);
    return true;
  }
  if (w.match == nullptr) return false;
  w.found = scan(p, w);
  if (w.found == nullptr) {
    drain(p);
    if (p->pending_exit) return false;
    w.found = scan(p, w);
  }
  if (w.found == nullptr && w.timeout <= Duration::zero()) w.timed_out = true;
  // A used-up time slice turns even a ready receive into a yield.
  if (--tls.budget <= 0) return false;
  return w.found != nullptr || w.timed_out;
}

Msg* take_now(Waiter& w) noexcept {
  Proc* p = tls.current;
  assert(p != nullptr && "take_now outside a process");
  drain(p);
  return scan(p, w);
}

bool wait_suspend(Waiter& w, std::coroutine_handle<> h) noexcept {
  Proc* p = tls.current;
  if (p->external != nullptr) return false;  // waited in wait_ready already
  p->resume_at = h;
  if (p->pending_exit) {
    tls.outcome = Tls::Outcome::exiting;
    return true;
  }
  if (w.yielding || w.found != nullptr || w.timed_out) {
    if (w.yielding) drain(p);
    tls.outcome = p->pending_exit ? Tls::Outcome::exiting : Tls::Outcome::yielded;
    return true;
  }
  if (w.timeout != infinity) {
    try {
      post_self_timeout(p, w);
    } catch (...) {
      die(p, Reason::exception("cannot start a receive timer"));
      tls.outcome = Tls::Outcome::exiting;
      return true;
    }
  }
  for (;;) {
    p->waiter = &w;
    if (p->inbox.try_block()) {
      // From here on another thread may run p: touch nothing of it.
      tls.outcome = Tls::Outcome::blocked;
      return true;
    }
    p->waiter = nullptr;
    drain(p);
    if (p->pending_exit) {
      tls.outcome = Tls::Outcome::exiting;
      return true;
    }
    if ((w.found = scan(p, w)) != nullptr || p->timeout_fired) {
      w.timed_out = w.found == nullptr;
      finish_wait(p, w);
      return false;
    }
  }
}

bool poll_waiter(Proc* p) noexcept {
  Waiter& w = *p->waiter;
  for (;;) {
    drain(p);
    if (p->pending_exit) {
      tls.outcome = Tls::Outcome::exiting;
      return false;
    }
    if ((w.found = scan(p, w)) != nullptr || p->timeout_fired) {
      w.timed_out = w.found == nullptr;
      finish_wait(p, w);
      return true;
    }
    if (p->inbox.try_block()) {
      tls.outcome = Tls::Outcome::blocked;
      return false;
    }
  }
}

bool external_wait(Proc* p, Waiter& w, Duration timeout) noexcept {
  ExternalWait* ext = p->external;
  const bool timed = timeout != infinity;
  const auto deadline =
      timed ? std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout)
            : std::chrono::steady_clock::time_point::max();
  for (;;) {
    drain(p);
    if (p->pending_exit) {
      w.exited = true;
      return false;
    }
    if (w.match != nullptr && (w.found = scan(p, w)) != nullptr) return true;
    if (timed && std::chrono::steady_clock::now() >= deadline) {
      w.timed_out = true;
      return false;
    }
    if (!p->inbox.try_block()) continue;
    bool woken = timed ? ext->sem.try_acquire_until(deadline) : (ext->sem.acquire(), true);
    if (!woken) {
      if (p->inbox.try_unblock()) continue;  // the deadline check above ends the wait
      ext->sem.acquire();                    // a sender replaced BLOCKED and is releasing us
    }
  }
}

void raise_exit() {
  Proc* p = tls.current;
  Reason r = p->exit_reason;
  do_exit(p);
  throw ExitError(std::move(r));
}

void root_finished(std::exception_ptr error) noexcept {
  tls.outcome = Tls::Outcome::finished;
  tls.error = std::move(error);
}

// ---- exit -----------------------------------------------------------------

Reason reason_of(const std::exception_ptr& e) {
  if (!e) return Reason::normal();
  try {
    std::rethrow_exception(e);
  } catch (const ExitError& x) {
    return x.reason;
  } catch (const std::exception& x) {
    return Reason::exception(x.what());
  } catch (...) {
    return Reason::exception("unknown exception");
  }
}

void do_exit(Proc* p) {
  Proc* saved = tls.current;
  tls.current = p;
  const Pid self = p->pid();
  p->describer = nullptr;  // it points into the frame destroyed below
  if (p->root) {
    auto root = std::exchange(p->root, {});
    root.destroy();  // runs the destructors of everything the process held
  }
  if (p->timer) {
    drop_timer(p->timer);
    p->timer = TimerRef{};
  }
  p->waiter = nullptr;
  // Ending without a signal (the body returned or threw): the signals already
  // here still count, so exit(self(), r) just before the end ends it with r.
  if (!p->pending_exit) drain(p);
  const Reason reason = p->exit_reason;

  // Close the inbox, then answer what was waiting in it and in the private queue.
  Msg* tail = nullptr;
  Msg* rest = p->inbox.close(tail);
  if (rest != nullptr) {
    if (p->q_tail != nullptr)
      p->q_tail->next = rest;
    else
      p->q_head = rest;
  }
  for (Msg* m = p->q_head; m != nullptr;) {
    Msg* next = m->next;
    if (m->type->kind == SigKind::info) {
      answer_dead(self, m);
    } else {
      apply_bookkeeping(p, m);
      free_msg(m);
    }
    m = next;
  }
  p->q_head = p->q_tail = nullptr;
  p->q_len = 0;

  // Gone for everyone before anyone hears of it: once a Down or Exit arrives,
  // is_alive() is false and the name is free again.
  RuntimeImpl* rt = p->rt;
  rt->unregister_proc(p, self.id());
  p->external = nullptr;  // after leaving the process list, whose readers look at it
  p->exit_reason = Reason{};
  p->parent = Pid{};
  p->serial.store(0, std::memory_order_seq_cst);
  if (p->named.load(std::memory_order_seq_cst)) {
    std::unique_lock lock(rt->names_m);
    auto it = rt->name_of.find(self.id());
    if (it != rt->name_of.end()) {
      rt->names.erase(it->second);
      rt->name_of.erase(it);
    }
    p->named.store(false, std::memory_order_relaxed);
  }
  ExitHook* hooks;
  {
    std::lock_guard lock(p->hooks_lock);
    p->hooks_closed = true;
    hooks = std::exchange(p->hooks, nullptr);
  }
  ExitHook* in_order = nullptr;  // oldest first
  while (hooks != nullptr) {
    ExitHook* next = hooks->next;
    hooks->next = in_order;
    in_order = hooks;
    hooks = next;
  }
  while (in_order != nullptr) {
    ExitHook* h = std::exchange(in_order, in_order->next);
    try {
      h->run(self, reason);
    } catch (...) {
      // A hook only tidies tables; one that fails must not stop the exit.
    }
    h->destroy();
  }
  delete std::exchange(p->aliases, nullptr);
  delete std::exchange(p->monitor_names, nullptr);
  if (Ties* ties = std::exchange(p->ties, nullptr)) {
    Ties::View(ties, Ties::Kind::link).for_each([&](std::uint64_t, const Pid& pid) {
      send_signal(pid, make_msg<ExitSig>(ExitSig{self, reason, true}));
    });
    Ties::View(ties, Ties::Kind::watcher).for_each([&](std::uint64_t ref, const Pid& watcher) {
      send_signal(watcher, make_msg<DownSig>(DownSig{Ref{ref}, self, reason}));
    });
    Ties::View(ties, Ties::Kind::monitor).for_each([&](std::uint64_t ref, const Pid& target) {
      send_signal(target, make_msg<DemonitorSig>(DemonitorSig{Ref{ref}}));
    });
    Ties::destroy(ties);
  }
  p->retired.store(true, std::memory_order_release);
  if (p->refs.fetch_sub(Proc::alive_ref, std::memory_order_acq_rel) == Proc::alive_ref)
    rt->try_free(p);
  if (rt->live.fetch_sub(1, std::memory_order_acq_rel) == 1) rt->signal_idle();
  tls.current = saved;
}

// ---- spawn --------------------------------------------------------------------

Spawned spawn_co(RuntimeImpl* rt, Co<void> body, SpawnOpts opts) {
  Proc* parent = tls.current;
  if (rt == nullptr) rt = current_or_throw("spawn")->rt;
  if (parent != nullptr && parent->rt != rt) parent = nullptr;
  if ((opts.link || opts.monitor) && parent == nullptr)
    throw std::logic_error("otp::spawn_link/spawn_monitor must be called from inside a process");
  if (rt->stopping.load(std::memory_order_acquire))
    throw std::logic_error("otp::spawn: the runtime is shutting down");
  Proc* c = rt->alloc_proc();
  auto h = body.release();
  c->root = c->resume_at = h;
  Spawned out{c->pid(), Ref{}};
  if (parent != nullptr) {
    c->parent = parent->pid();
    c->parent_supervisor =
        opts.link && parent->supervisor;  // a supervisor's children are linked to it
  }
  if (opts.link) {
    c->links().emplace(parent->serial.load(std::memory_order_relaxed), parent->pid());
    parent->links().emplace(out.pid.id(), out.pid);
  }
  if (opts.monitor) {
    out.ref = Ref{rt->next_ref.fetch_add(1, std::memory_order_relaxed)};
    parent->monitors().emplace(out.ref.id, out.pid);
    c->watchers().emplace(out.ref.id, parent->pid());
  }
  rt->live.fetch_add(1, std::memory_order_acq_rel);
  rt->register_proc(c);
  rt->make_runnable(c);
  return out;
}

Pid resolve(std::string_view name) {
  auto p = otp::whereis(name);
  if (!p) throw BadArg("send to unregistered name " + std::string(name));
  return *p;
}

}  // namespace otp::detail

namespace otp {

using namespace detail;

Pid self() { return current_or_throw("self")->pid(); }
bool in_process() { return tls.current != nullptr && tls.current->external == nullptr; }

bool is_alive(const Pid& pid) {
  Proc* p = pid.proc();
  return p != nullptr && p->serial.load(std::memory_order_acquire) == pid.id();
}

std::size_t process_count() {
  const std::int64_t live =
      current_or_throw("process_count")->rt->live.load(std::memory_order_acquire);
  return static_cast<std::size_t>(std::max<std::int64_t>(0, live));
}

void set_label(const char* label) { detail::set_describer(&detail::labelled, label); }

void link(const Pid& pid) { link_as(current_or_throw("link"), pid); }
void unlink(const Pid& pid) { unlink_as(current_or_throw("unlink"), pid); }
Ref monitor(const Pid& pid) { return monitor_as(current_or_throw("monitor"), pid); }
bool demonitor(Ref ref, bool flush) {
  return demonitor_as(current_or_throw("demonitor"), ref, flush);
}
Ref monitor(std::string_view name) { return monitor_name_as(current_or_throw("monitor"), name); }

}  // namespace otp

namespace otp::detail {

void link_as(Proc* p, const Pid& pid) {
  if (pid == p->pid()) return;
  if (p->links().emplace(pid.id(), pid)) send_signal(pid, make_msg<LinkSig>(LinkSig{p->pid()}));
}

void unlink_as(Proc* p, const Pid& pid) {
  if (p->links().erase(pid.id()) != 0) send_signal(pid, make_msg<UnlinkSig>(UnlinkSig{p->pid()}));
}

}  // namespace otp::detail

namespace otp {

Duration now() { return Duration{current_or_throw("now")->rt->now_ns()}; }

Ref make_ref() {
  Proc* p = tls.current;
  if (p != nullptr) return Ref{p->rt->next_ref.fetch_add(1, std::memory_order_relaxed)};
  static std::atomic<std::uint64_t> outside{1ull << 62};
  return Ref{outside.fetch_add(1, std::memory_order_relaxed)};
}

}  // namespace otp

namespace otp::detail {

Ref monitor_as(Proc* p, const Pid& pid, std::optional<AliasMode> alias) {
  Ref ref{p->rt->next_ref.fetch_add(1, std::memory_order_relaxed)};
  p->monitors().emplace(ref.id, pid);
  if (alias) {
    if (p->aliases == nullptr) p->aliases = new AliasSet;
    p->aliases->add(ref.id, *alias);
  }
  send_signal(pid, make_msg<MonitorSig>(MonitorSig{ref, p->pid()}));
  return ref;
}

Ref monitor_name_as(Proc* p, std::string_view name) {
  std::optional<Pid> pid;
  {
    std::shared_lock lock(p->rt->names_m);
    auto it = p->rt->names.find(std::string(name));
    if (it != p->rt->names.end()) pid = it->second;
  }
  // No such name: the empty pid's Down (noproc) is in the inbox when monitor_as returns.
  const Ref ref = monitor_as(p, pid.value_or(Pid{}));
  if (p->monitor_names == nullptr) p->monitor_names = new MonitorNames;
  p->monitor_names->emplace_back(ref.id, std::string(name));
  return ref;
}

bool demonitor_as(Proc* p, Ref ref, bool flush) {
  bool active = false;
  if (Pid* found = p->monitors().find(ref.id)) {
    Pid target = *found;
    p->monitors().erase(ref.id);
    monitor_ended(p, ref.id);
    take_monitor_name(p, ref.id);
    send_signal(target, make_msg<DemonitorSig>(DemonitorSig{ref}));
    active = true;
  }
  if (!flush) return active;
  drain(p);  // a Down still in the inbox is dropped now that the monitor is gone
  Msg* prev = nullptr;
  for (Msg* m = p->q_head; m != nullptr;) {
    Msg* next = m->next;
    if (is<Down>(m) && value_of<Down>(m).ref == ref) {
      if (prev != nullptr)
        prev->next = next;
      else
        p->q_head = next;
      if (p->q_tail == m) p->q_tail = prev;
      --p->q_len;
      free_msg(m);
    } else {
      prev = m;
    }
    m = next;
  }
  return active;
}

Alias alias_as(Proc* p, AliasMode mode) {
  Ref ref{p->rt->next_ref.fetch_add(1, std::memory_order_relaxed)};
  if (p->aliases == nullptr) p->aliases = new AliasSet;
  p->aliases->add(ref.id, mode);
  return Alias{p->pid(), ref};
}

bool unalias_as(Proc* p, Ref ref) noexcept {
  AliasSet::Entry* e = p->aliases != nullptr ? p->aliases->find(ref.id) : nullptr;
  if (e == nullptr) return false;
  p->aliases->remove(e);
  return true;
}

Ref monitor_alias(const Pid& pid) {
  return monitor_as(current_or_throw("monitor"), pid, AliasMode::demonitor);
}

}  // namespace otp::detail

namespace otp {

Alias monitor(const Pid& pid, MonitorAlias mode) {
  Proc* p = current_or_throw("monitor");
  const AliasMode m = mode == MonitorAlias::explicit_unalias ? AliasMode::explicit_unalias
                      : mode == MonitorAlias::demonitor      ? AliasMode::demonitor
                                                             : AliasMode::reply_demonitor;
  return Alias{p->pid(), monitor_as(p, pid, m)};
}

Alias alias(AliasOption option) {
  return alias_as(current_or_throw("alias"),
                  option == AliasOption::reply ? AliasMode::reply : AliasMode::explicit_unalias);
}

bool unalias(const Alias& a) {
  Proc* p = current_or_throw("unalias");
  return a.pid == p->pid() && unalias_as(p, a.ref);
}

void exit(const Pid& pid, Reason reason) {
  Pid from = tls.current != nullptr ? tls.current->pid() : Pid{};
  send_signal(pid, make_msg<ExitSig>(ExitSig{from, std::move(reason), false}));
}

void exit(Reason reason) { throw ExitError(std::move(reason)); }

bool trap_exit(bool on) {
  Proc* p = current_or_throw("trap_exit");
  return std::exchange(p->trap_exit, on);
}

std::string registered_name() {
  Proc* p = current_or_throw("registered_name");
  std::shared_lock lock(p->rt->names_m);
  auto it = p->rt->name_of.find(p->serial.load(std::memory_order_relaxed));
  return it != p->rt->name_of.end() ? it->second : std::string{};
}

std::string detail::name_of_self(const NameRegistry* via) {
  if (via != nullptr) {
    std::string key = via->name_of(self());
    if (!key.empty()) return key;
  }
  return registered_name();
}

}  // namespace otp
