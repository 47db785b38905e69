// The supervisor process behind otp::Supervisor and otp::DynamicSupervisor.
//
// One GenServer serves both. Children live in a map ordered by a start
// sequence number (the order of the child list, or of start_child calls), so
// "start in order", "stop in reverse order" and rest_for_one's "the children
// after this one" are walks over that map; an index by pid (small first) finds the child of
// an Exit in O(1). Restart times are kept in a vector whose entries older than
// max_seconds are skipped and, once they are half of it, dropped, so checking
// the intensity costs amortized O(1). (Not a std::deque: an empty deque already
// holds about 600 bytes, and there is a supervisor for every user session.)
//
// Stopping a child follows Erlang's supervisor: monitor it, unlink it, and if
// its Exit is already in the mailbox it is gone; otherwise send the exit signal
// its shutdown asks for and wait for the Down (killing it when a timeout runs out).
#include "otp/supervisor.hpp"

#include <map>
#include <vector>

#include "otp/logger.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "internal.hpp"

namespace otp {

namespace {

using namespace std::chrono_literals;

struct Child {
  ChildSpec spec;
  Pid pid;
  bool restarting = false;  // its restart failed; a TryAgainRestart is on its way
};

struct SupState {
  SupFlags flags;
  bool dynamic = false;
  std::uint64_t next_seq = 0;
  std::map<std::uint64_t, Child> children;          // by start sequence
  detail::SmallMap<std::uint64_t> by_pid;             // pid id -> sequence
  std::vector<Duration> restarts;   // restart times; those before `first_restart` are out of the window
  std::size_t first_restart = 0;
};

std::string reason_text(const char* what, const std::string& id, const Reason& r) {
  return fmt::format("{{{}, {}, {}}}", what, id, r);
}

class SupervisorServer : public GenServer<SupervisorServer, SupState> {
 public:
  struct WhichChildren {};
  struct CountChildren {};
  struct StartChild {
    ChildSpec spec;
  };
  struct TerminateChild {
    std::string id;
  };
  struct TerminatePid {
    Pid pid;
  };
  struct RestartChild {
    std::string id;
  };
  struct DeleteChild {
    std::string id;
  };
  // Sent to itself after a failed restart of child `seq`.
  struct TryAgainRestart {
    std::uint64_t seq;
  };
  using Info = Messages<TryAgainRestart>;

  std::string observer_behaviour() const { return dynamic_ ? "DynamicSupervisor" : "Supervisor"; }
  std::string observer_module() const { return ""; }
  std::string format_state() const {
    return fmt::format("{} children, {} restarts in the window", state().children.size(),
                       state().restarts.size() - state().first_restart);
  }

  Co<SupState> init(SupFlags& flags, std::vector<ChildSpec>& specs, bool dynamic) {
    dynamic_ = dynamic;
    trap_exit(true);
    detail::tls.current->supervisor = true;  // see RuntimeImpl::fate
    SupState st;
    st.flags = flags;
    st.dynamic = dynamic;
    for (auto& spec : specs) {
      if (!spec.shutdown)
        spec.shutdown = spec.type == ChildType::supervisor ? Shutdown::infinity() : Shutdown::after(5s);
      st.children.emplace(st.next_seq++, Child{std::move(spec), Pid{}});
    }
    std::vector<ChildSpec>().swap(specs);  // the argument lives as long as the process; the specs moved out
    // Start in order; on a failure stop what was started, in reverse, and fail.
    for (auto it = st.children.begin(); it != st.children.end();) {
      auto& [seq, c] = *it;
      StartResult r = co_await c.spec.start();
      if (r.kind() == StartResult::Kind::ok) {
        c.pid = r.pid();
        st.by_pid.emplace(c.pid.id(), seq);
        ++it;
      } else if (r.kind() == StartResult::Kind::ignore) {
        // Kept without a process, unless temporary: that one would never run.
        it = c.spec.restart == Restart::temporary ? st.children.erase(it) : std::next(it);
      } else {
        report(SupervisorReport{describe_self(), c.spec.id, r.reason(), "start_error", "shutting down"});
        std::string why = reason_text("failed_to_start_child", c.spec.id, r.reason());
        for (auto back = std::make_reverse_iterator(it); back != st.children.rend(); ++back)
          if (back->second.pid) co_await shutdown_child(back->second);
        otp::exit(Reason::shutdown(std::move(why)));
      }
    }
    co_return st;
  }

  std::vector<ChildInfo> handle_call(WhichChildren) {
    std::vector<ChildInfo> out;
    for (auto& [seq, c] : state().children)
      out.push_back(ChildInfo{c.spec.id, c.pid, c.spec.type, c.spec.restart});
    return out;
  }

  ChildCounts handle_call(CountChildren) {
    ChildCounts n;
    for (auto& [seq, c] : state().children) {
      ++n.specs;
      if (c.pid) ++n.active;
      (c.spec.type == ChildType::supervisor ? n.supervisors : n.workers) += 1;
    }
    return n;
  }

  Start handle_call(StartChild req) {
    auto& st = state();
    ChildSpec& spec = req.spec;
    if (!spec.shutdown) spec.shutdown = spec.type == ChildType::supervisor ? Shutdown::infinity() : Shutdown::after(5s);
    if (st.dynamic) {
      if (st.flags.max_children != 0 && st.children.size() >= st.flags.max_children)
        co_return StartResult::error(Reason::other("max_children"));
    } else if (auto* c = find(spec.id)) {
      if (c->pid) co_return StartResult::already_started(c->pid);
      co_return StartResult::error(Reason::other(fmt::format("{{already_present, {}}}", spec.id)));
    }
    StartResult r = co_await spec.start();
    if (r.kind() == StartResult::Kind::ok) {
      std::uint64_t seq = st.next_seq++;
      st.by_pid.emplace(r.pid().id(), seq);
      st.children.emplace(seq, Child{std::move(spec), r.pid()});
    } else if (r.kind() == StartResult::Kind::ignore && !st.dynamic && spec.restart != Restart::temporary) {
      st.children.emplace(st.next_seq++, Child{std::move(spec), Pid{}});
    }
    co_return r;
  }

  Co<bool> handle_call(TerminateChild req) {
    Child* c = find(req.id);
    if (c == nullptr) co_return false;
    if (c->pid) co_await stop_child(*c);
    c->restarting = false;  // a pending retry finds nothing to do
    if (c->spec.restart == Restart::temporary) erase(req.id);
    co_return true;
  }

  Co<bool> handle_call(TerminatePid req) {
    auto& st = state();
    auto it = st.by_pid.find(req.pid.id());
    if (it == st.by_pid.end()) co_return false;
    std::uint64_t seq = it->second;
    co_await stop_child(st.children.at(seq));
    st.children.erase(seq);
    co_return true;
  }

  Start handle_call(RestartChild req) {
    Child* c = find(req.id);
    if (c == nullptr) co_return StartResult::error(Reason::other("not_found"));
    if (c->restarting) co_return StartResult::error(Reason::other("restarting"));
    if (c->pid) co_return StartResult::error(Reason::other("running"));
    co_return co_await start_one(*c);
  }

  Result<void> handle_call(DeleteChild req) {
    Child* c = find(req.id);
    if (c == nullptr) return Reason::other("not_found");
    if (c->restarting) return Reason::other("restarting");
    if (c->pid) return Reason::other("running");
    erase(req.id);
    return {};
  }

  Co<void> handle_info(Exit e) {
    auto& st = state();
    auto it = st.by_pid.find(e.from.id());
    if (it == st.by_pid.end()) co_return;  // not (or no longer) a child
    std::uint64_t seq = it->second;
    st.by_pid.erase(it);
    Child& c = st.children.at(seq);
    c.pid = Pid{};
    const bool restart = c.spec.restart == Restart::permanent ||
                         (c.spec.restart == Restart::transient && !e.reason.is_orderly());
    // As Erlang's supervisor: every exit of a permanent child is reported (it is restarted, even
    // after `normal` or `shutdown`), those of transient and temporary ones only when abnormal.
    if (c.spec.restart == Restart::permanent || !e.reason.is_orderly())
      report(SupervisorReport{describe_self(), child_text(c, e.from), e.reason, "child_terminated",
                              restart ? "restarting" : "not restarting"});
    if (!restart) {
      if (c.spec.restart == Restart::temporary || st.dynamic) st.children.erase(seq);
      co_return;
    }
    co_await restart_child(seq);
  }

  Co<void> handle_info(TryAgainRestart t) {
    auto it = state().children.find(t.seq);
    if (it == state().children.end() || !it->second.restarting) co_return;  // stopped or restarted meanwhile
    co_await restart_child(t.seq);
  }

  Co<void> terminate(const Reason&) {
    auto& st = state();
    for (auto it = st.children.rbegin(); it != st.children.rend(); ++it)
      if (it->second.pid) co_await shutdown_child(it->second);
    st.by_pid.clear();
  }

 private:
  bool dynamic_ = false;

  // As the tree names it: "<0.5.0> eric_sup".
  std::string describe_self() {
    std::string name = server_name().empty() ? registered_name() : server_name();
    return name.empty() ? self().to_string() : fmt::format("{} {}", self(), name);
  }
  static std::string child_text(const Child& c, const Pid& pid) {
    if (!pid) return c.spec.id;
    return c.spec.id.empty() ? pid.to_string() : fmt::format("{} ({})", c.spec.id, pid);
  }

  Child* find(const std::string& id) {
    for (auto& [seq, c] : state().children)
      if (c.spec.id == id) return &c;
    return nullptr;
  }
  void erase(const std::string& id) {
    auto& ch = state().children;
    for (auto it = ch.begin(); it != ch.end(); ++it)
      if (it->second.spec.id == id) {
        ch.erase(it);
        return;
      }
  }

  // Counts a restart; false when that is one too many for the intensity.
  bool add_restart() {
    auto& st = state();
    Duration t = otp::now();
    st.restarts.push_back(t);
    while (st.restarts[st.first_restart] < t - st.flags.max_seconds) ++st.first_restart;
    if (2 * st.first_restart >= st.restarts.size()) {
      st.restarts.erase(st.restarts.begin(), st.restarts.begin() + static_cast<std::ptrdiff_t>(st.first_restart));
      st.first_restart = 0;
    }
    return static_cast<int>(st.restarts.size() - st.first_restart) <= st.flags.max_restarts;
  }

  Start start_one(Child& c) {
    StartResult r = co_await c.spec.start();
    if (r.kind() == StartResult::Kind::ok) {
      c.pid = r.pid();
      c.restarting = false;
      for (auto& [seq, other] : state().children)
        if (&other == &c) state().by_pid.emplace(c.pid.id(), seq);
    }
    co_return r;
  }

  // Restarts child `seq` (which exited, or whose restart failed) and, per the
  // strategy, its siblings. Every attempt counts against the intensity; past it
  // the supervisor gives up (exits with `shutdown`). A failed start is not retried
  // here but through a TryAgainRestart to itself (Erlang's try_again_restart), so
  // that what waits in the mailbox -- other children's exits, calls, a dying
  // process that still holds a name the child wants -- gets its turn in between.
  Co<void> restart_child(std::uint64_t seq) {
    auto& st = state();
    if (!add_restart()) {
      report(SupervisorReport{describe_self(), child_text(st.children.at(seq), Pid{}), Reason::shutdown(),
                              "reached_max_restart_intensity", "shutting down"});
      otp::exit(Reason::shutdown());
    }
    st.children.at(seq).restarting = false;
    if (st.flags.strategy == Strategy::one_for_one || st.dynamic) {
      StartResult r = co_await start_one(st.children.at(seq));
      if (r.kind() == StartResult::Kind::ignore && st.dynamic) {
        st.children.erase(seq);  // Elixir's DynamicSupervisor forgets a child whose restart is ignored
      } else if (!r.ok() && r.kind() != StartResult::Kind::ignore) {
        try_again_later(seq, r.reason());
      }
      co_return;
    }
    // one_for_all: every child; rest_for_one: this one and those after it. Stop
    // those still running (some restarted by a previous, failed attempt), in reverse.
    auto first = st.flags.strategy == Strategy::one_for_all ? st.children.begin() : st.children.find(seq);
    for (auto it = st.children.end(); it != first;) {
      --it;
      if (it->second.pid) {
        co_await shutdown_child(it->second);
        st.by_pid.erase(it->second.pid.id());
        it->second.pid = Pid{};
      }
    }
    // Temporary children stopped for a sibling are not restarted.
    for (auto it = first; it != st.children.end();) {
      if (it->first != seq && it->second.spec.restart == Restart::temporary) {
        if (it == first) ++first;
        it = st.children.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = first; it != st.children.end(); ++it) {
      StartResult r = co_await start_one(it->second);
      if (!r.ok() && r.kind() != StartResult::Kind::ignore) {
        try_again_later(it->first, r.reason());
        co_return;
      }
    }
  }

  void try_again_later(std::uint64_t seq, const Reason& why) {
    Child& c = state().children.at(seq);
    report(SupervisorReport{describe_self(), c.spec.id, why, "start_error", "restarting"});
    c.restarting = true;
    otp::send(self(), TryAgainRestart{seq});
  }

  // Stops a running child as its shutdown says (Erlang's supervisor:shutdown/2).
  Co<void> shutdown_child(Child& c) {
    Pid pid = c.pid;
    Ref ref = monitor(pid);
    unlink(pid);
    // Already exited: its Exit is in the mailbox; then only the Down is left to wait for.
    auto gone = co_await receive<Exit>([pid](const Exit& e) { return e.from == pid; }, Duration::zero());
    if (!gone) {
      const Shutdown how = *c.spec.shutdown;
      otp::exit(pid, how.kind() == Shutdown::Kind::brutal_kill ? Reason::kill() : Reason::shutdown());
      if (how.kind() == Shutdown::Kind::timeout) {
        auto down = co_await receive<Down>([ref](const Down& d) { return d.ref == ref; }, how.timeout());
        if (down) {
          c.pid = Pid{};
          co_return;
        }
        otp::exit(pid, Reason::kill());
        report(SupervisorReport{describe_self(), child_text(c, pid), Reason::killed(), "shutdown_error", "killed"});
      }
    }
    co_await receive<Down>([ref](const Down& d) { return d.ref == ref; });
    c.pid = Pid{};
  }

  Co<void> stop_child(Child& c) {
    Pid pid = c.pid;
    co_await shutdown_child(c);
    state().by_pid.erase(pid.id());
  }
};

template <class Op>
auto as_co(Op op) -> Co<decltype(op.await_resume())> {
  co_return co_await std::move(op);
}

Start start_sup(bool link, Name name, SupFlags flags, std::vector<ChildSpec> specs, bool dynamic) {
  if (link) return SupervisorServer::start_link(std::move(name), std::move(flags), std::move(specs), dynamic);
  return SupervisorServer::start(std::move(name), std::move(flags), std::move(specs), dynamic);
}

}  // namespace

Start Supervisor::start_link(std::vector<ChildSpec> children, SupFlags flags) {
  return start_sup(true, Name{}, flags, std::move(children), false);
}
Start Supervisor::start_link(Name name, std::vector<ChildSpec> children, SupFlags flags) {
  return start_sup(true, std::move(name), flags, std::move(children), false);
}
Start Supervisor::start_child(ServerRef sup, ChildSpec spec) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::StartChild{std::move(spec)}, infinity));
}
Co<bool> Supervisor::terminate_child(ServerRef sup, std::string id) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::TerminateChild{std::move(id)}, infinity));
}
Start Supervisor::restart_child(ServerRef sup, std::string id) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::RestartChild{std::move(id)}, infinity));
}
Co<Result<void>> Supervisor::delete_child(ServerRef sup, std::string id) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::DeleteChild{std::move(id)}, infinity));
}
Co<std::vector<ChildInfo>> Supervisor::which_children(ServerRef sup) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::WhichChildren{}, infinity));
}
Co<ChildCounts> Supervisor::count_children(ServerRef sup) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::CountChildren{}, infinity));
}

Start DynamicSupervisor::start_link(SupFlags flags) { return start_sup(true, Name{}, flags, {}, true); }
Start DynamicSupervisor::start_link(Name name, SupFlags flags) {
  return start_sup(true, std::move(name), flags, {}, true);
}
Start DynamicSupervisor::start_child(ServerRef sup, ChildSpec spec) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::StartChild{std::move(spec)}, infinity));
}
Co<bool> DynamicSupervisor::terminate_child(ServerRef sup, Pid child) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::TerminatePid{child}, infinity));
}
Co<std::vector<ChildInfo>> DynamicSupervisor::which_children(ServerRef sup) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::WhichChildren{}, infinity));
}
Co<ChildCounts> DynamicSupervisor::count_children(ServerRef sup) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::CountChildren{}, infinity));
}

}  // namespace otp
