// Scoped: a process for a plain thread. See otp/scoped.hpp.
#include "otp/scoped.hpp"

#include <utility>

#include "internal.hpp"

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
  wait_->outer = std::exchange(tls.scoped, pid_);
}

Scoped::~Scoped() {
  Proc* p = pid_.proc();
  if (is_alive(pid_)) {
    p->exit_reason = Reason::normal();
    do_exit(p);
  }
  rt_.impl().live_external.fetch_sub(1, std::memory_order_acq_rel);
  if (tls.scoped == pid_) tls.scoped = wait_->outer;
  delete wait_;
}

namespace {
Proc* alive_or_throw(const Pid& pid) {
  if (!is_alive(pid)) throw ExitError(Reason::noproc());
  return pid.proc();
}
}  // namespace

void Scoped::link(const Pid& pid) { link_as(alive_or_throw(pid_), pid); }
void Scoped::unlink(const Pid& pid) { unlink_as(alive_or_throw(pid_), pid); }
Ref Scoped::monitor(const Pid& pid) { return monitor_as(alive_or_throw(pid_), pid); }
void Scoped::demonitor(Ref ref, bool flush) { demonitor_as(alive_or_throw(pid_), ref, flush); }

std::size_t Scoped::mailbox_size() {
  Proc* p = alive_or_throw(pid_);
  drain(p);
  return p->q_len;
}

bool Scoped::wait(Waiter& w, Duration timeout) {
  Proc* p = alive_or_throw(pid_);
  const bool timed = timeout != infinity;
  const auto deadline = timed ? std::chrono::steady_clock::now() +
                                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout)
                              : std::chrono::steady_clock::time_point::max();
  for (;;) {
    drain(p);
    if (p->pending_exit) {
      Reason r = p->exit_reason;
      do_exit(p);
      throw ExitError(r);
    }
    if ((w.found = scan(p, w)) != nullptr) return true;
    if (timed && std::chrono::steady_clock::now() >= deadline) return false;
    if (!p->inbox.try_block()) continue;
    bool woken = timed ? wait_->sem.try_acquire_until(deadline) : (wait_->sem.acquire(), true);
    if (!woken) {
      if (p->inbox.try_unblock()) return false;
      wait_->sem.acquire();  // a sender replaced BLOCKED and is releasing us
    }
  }
}

}  // namespace otp
