// Scoped: a process for a plain thread. See otp/scoped.hpp.
#include "otp/scoped.hpp"

#include "runtime/runtime_impl.hpp"

namespace otp {

using namespace detail;

Scoped::Scoped(Runtime& rt) : rt_(rt) {
  RuntimeImpl& impl = rt.impl();
  if (impl.stopping.load()) throw std::logic_error("otp::Scoped: the runtime is shutting down");
  Proc* p = impl.alloc_proc();
  wait_ = new ExternalWait;
  p->external = wait_;
  p->trap_exit = true;
  impl.live.fetch_add(1, std::memory_order_acq_rel);
  impl.live_external.fetch_add(1, std::memory_order_acq_rel);
  impl.register_proc(p);
  pid_ = p->pid();
  if (tls.worker == nullptr) previous_ = std::exchange(tls.current, p);
  acting_ = tls.current == p;
}

Scoped::~Scoped() {
  Proc* p = pid_.proc();
  if (acting_ && tls.current == p) tls.current = static_cast<Proc*>(previous_);
  if (is_alive(pid_)) {
    p->exit_reason = Reason::normal();
    do_exit(p);
  }
  rt_.impl().live_external.fetch_sub(1, std::memory_order_acq_rel);
  delete wait_;
}

Scoped::Act::Act(Scoped& s) : saved(tls.current) {
  if (tls.worker != nullptr)
    throw std::logic_error("otp::Scoped::await cannot run on a scheduler thread");
  if (!is_alive(s.pid_)) throw ExitError(Reason::noproc());
  tls.current = s.pid_.proc();
}
Scoped::Act::~Act() { tls.current = static_cast<Proc*>(saved); }

namespace {
Proc* alive_or_throw(const Pid& pid) {
  if (!is_alive(pid)) throw ExitError(Reason::noproc());
  return pid.proc();
}
}  // namespace

void Scoped::link(const Pid& pid) { link_as(alive_or_throw(pid_), pid); }
void Scoped::unlink(const Pid& pid) { unlink_as(alive_or_throw(pid_), pid); }
Ref Scoped::monitor(const Pid& pid) { return monitor_as(alive_or_throw(pid_), pid); }
Ref Scoped::monitor(std::string_view name) { return monitor_name_as(alive_or_throw(pid_), name); }
bool Scoped::demonitor(Ref ref, bool flush) {
  return demonitor_as(alive_or_throw(pid_), ref, flush);
}
Alias Scoped::monitor(const Pid& pid, MonitorAlias mode) {
  const AliasMode m = mode == MonitorAlias::explicit_unalias ? AliasMode::explicit_unalias
                      : mode == MonitorAlias::demonitor      ? AliasMode::demonitor
                                                             : AliasMode::reply_demonitor;
  return Alias{pid_, monitor_as(alive_or_throw(pid_), pid, m)};
}
Alias Scoped::alias(AliasOption option) {
  return alias_as(alive_or_throw(pid_),
                  option == AliasOption::reply ? AliasMode::reply : AliasMode::explicit_unalias);
}
bool Scoped::unalias(const Alias& a) {
  return a.pid == pid_ && unalias_as(alive_or_throw(pid_), a.ref);
}

std::size_t Scoped::mailbox_size() {
  Proc* p = alive_or_throw(pid_);
  drain(p);
  return p->q_len;
}

bool Scoped::wait(Waiter& w, Duration timeout) {
  Proc* p = alive_or_throw(pid_);
  if (external_wait(p, w, timeout)) return true;
  if (w.exited) {
    Reason r = p->exit_reason;
    do_exit(p);
    throw ExitError(r);
  }
  return false;
}

}  // namespace otp
