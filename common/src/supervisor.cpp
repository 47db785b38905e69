// The supervisor process behind otp::Supervisor and otp::DynamicSupervisor.
//
// One GenServer serves both. Children live in a vector in start order (the
// order of the child list, or of start_child calls), each with a start sequence
// number, so "start in order", "stop in reverse order" and rest_for_one's "the
// children after this one" are walks over that vector. A forgotten child leaves
// a hole (a tombstone) that later walks skip; once holes are half the vector it
// is compacted, so erasing is amortized O(1) and the order never changes. The
// sequence numbers rise along the vector: a binary search finds a child by its
// number. The child of an Exit is found by a scan while there are few children,
// and through an index pid -> sequence number once there are many (a dynamic
// supervisor of every user session). Restart times are kept in a vector whose entries older than
// max_seconds are skipped and, once they are half of it, dropped, so checking
// the intensity costs amortized O(1). (Not a std::deque: an empty deque already
// holds about 600 bytes, and there is a supervisor for every user session.)
//
// Stopping a child follows Erlang's supervisor: monitor it, unlink it, and if
// its Exit is already in the mailbox it is gone; otherwise send the exit signal
// its shutdown asks for and wait for the Down (killing it when a timeout runs out).
#include "otp/supervisor.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "otp/logger.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "runtime/runtime_impl.hpp"

namespace otp {

using detail::SupKind;

namespace {

std::atomic<std::uint64_t> restarts_total{0};  // Supervisor::restarts()

using namespace std::chrono_literals;

// A child's id, interned: the children started from one spec share one copy of it (a
// DynamicSupervisor of user sessions has as many children as users, all with the id
// "HangTen.UserSupervisor"), so that a child holds a pointer, not a string and often a block
// of its own. The table counts the children that hold an id and forgets it with the last one;
// it is shared by every supervisor, under a mutex taken when a child is made or forgotten.
class ChildId {
 public:
  ChildId() = default;
  explicit ChildId(std::string id) {
    if (id.empty()) return;
    Table& t = table();
    std::lock_guard lock(t.m);
    entry_ = &*t.ids.try_emplace(std::move(id), 0).first;
    ++entry_->second;
  }
  ChildId(const ChildId& o) : entry_(o.entry_) {
    if (entry_ == nullptr) return;
    std::lock_guard lock(table().m);
    ++entry_->second;
  }
  ChildId(ChildId&& o) noexcept : entry_(std::exchange(o.entry_, nullptr)) {}
  ChildId& operator=(ChildId o) noexcept {
    std::swap(entry_, o.entry_);
    return *this;
  }
  ~ChildId() {
    if (entry_ == nullptr) return;
    Table& t = table();
    std::lock_guard lock(t.m);
    if (--entry_->second == 0) t.ids.erase(entry_->first);
  }

  const std::string& str() const {
    static const std::string none;
    return entry_ != nullptr ? entry_->first : none;
  }

 private:
  struct Table {
    std::mutex m;
    std::unordered_map<std::string, std::size_t> ids;  // id -> the children holding it
  };
  static Table& table() {
    static Table* t = new Table;  // never destroyed: children may outlive static destruction
    return *t;
  }
  std::pair<const std::string, std::size_t>* entry_ = nullptr;
};

// A child as the supervisor keeps it: the spec's fields, packed.
struct Child {
  std::uint64_t seq = 0;
  Pid pid;
  ChildId id;
  std::function<Start()> start;
  Duration shutdown_timeout{};
  Restart restart = Restart::permanent;
  ChildType type = ChildType::worker;
  Shutdown::Kind shutdown_kind = Shutdown::Kind::timeout;
  bool significant = false;
  bool restarting = false;  // its restart failed; a TryAgainRestart is on its way
  bool gone = false;        // forgotten: a hole until the next compaction

  Shutdown shutdown() const {
    switch (shutdown_kind) {
      case Shutdown::Kind::brutal_kill:
        return Shutdown::brutal_kill();
      case Shutdown::Kind::infinity:
        return Shutdown::infinity();
      case Shutdown::Kind::timeout:
        break;
    }
    return Shutdown::after(shutdown_timeout);
  }
};

Child make_child(std::uint64_t seq, ChildSpec&& spec) {
  Child c;
  c.seq = seq;
  c.id = ChildId(std::move(spec.id));
  c.start = std::move(spec.start);
  c.restart = spec.restart;
  c.type = spec.type;
  c.significant = spec.significant;
  Shutdown how = spec.shutdown ? *spec.shutdown
                               : (spec.type == ChildType::supervisor ? Shutdown::infinity()
                                                                     : Shutdown::after(5s));
  c.shutdown_kind = how.kind();
  c.shutdown_timeout = how.timeout();
  return c;
}

// The children in start order, with holes; see the top of this file.
class Children {
 public:
  using Vec = std::vector<Child>;
  Vec& all() { return v_; }  // walks skip the holes (c.gone)
  std::size_t size() const { return v_.size() - holes_; }

  Child& add(Child c) {
    if (index_) index_->emplace(c.pid.id(), c.seq);
    ++(c.type == ChildType::supervisor ? counts_.supervisors : counts_.workers);
    ++counts_.specs;
    if (c.pid) ++counts_.active;
    v_.push_back(std::move(c));
    if (!index_ && size() > index_from) build_index();
    return v_.back();
  }
  // The child with sequence number `seq`, or nullptr.
  Child* at_seq(std::uint64_t seq) {
    auto it = std::lower_bound(v_.begin(), v_.end(), seq,
                               [](const Child& c, std::uint64_t s) { return c.seq < s; });
    return it == v_.end() || it->seq != seq || it->gone ? nullptr : &*it;
  }
  Child* by_pid(const Pid& pid) {
    if (!pid) return nullptr;
    if (index_) {
      auto it = index_->find(pid.id());
      return it == index_->end() ? nullptr : at_seq(it->second);
    }
    for (auto& c : v_)
      if (!c.gone && c.pid == pid) return &c;
    return nullptr;
  }
  Child* by_id(const std::string& id) {
    for (auto& c : v_)
      if (!c.gone && c.id.str() == id) return &c;
    return nullptr;
  }
  // Records that `c` runs as `pid` (or, with an empty pid, runs no more).
  void set_pid(Child& c, Pid pid) {
    if (index_ && c.pid) index_->erase(c.pid.id());
    if (c.pid && !pid) --counts_.active;
    if (!c.pid && pid) ++counts_.active;
    c.pid = pid;
    if (index_ && pid) index_->emplace(pid.id(), c.seq);
  }
  // Forgets `c`, leaving a hole; references to children stay valid until compact().
  void forget(Child& c) {
    set_pid(c, Pid{});
    --(c.type == ChildType::supervisor ? counts_.supervisors : counts_.workers);
    --counts_.specs;
    c.gone = true;
    c.id = ChildId();
    c.start = nullptr;
    ++holes_;
  }
  // Drops the holes once they are half the vector (references to children become invalid).
  void compact() {
    if (holes_ == 0 || 2 * holes_ < v_.size()) return;
    std::erase_if(v_, [](const Child& c) { return c.gone; });
    holes_ = 0;
    if (v_.capacity() > 2 * v_.size() + 8)
      Vec(std::make_move_iterator(v_.begin()), std::make_move_iterator(v_.end())).swap(v_);
  }
  void reserve(std::size_t n) { v_.reserve(n); }
  // Kept as children come and go, so that count_children costs the same for ten children as
  // for a million (a /metrics scrape asks it for every session).
  const ChildCounts& counts() const { return counts_; }

 private:
  static constexpr std::size_t index_from = 16;
  void build_index() {
    index_ = std::make_unique<std::unordered_map<std::uint64_t, std::uint64_t>>();
    for (auto& c : v_)
      if (!c.gone && c.pid) index_->emplace(c.pid.id(), c.seq);
  }
  Vec v_;
  std::size_t holes_ = 0;
  ChildCounts counts_;
  std::unique_ptr<std::unordered_map<std::uint64_t, std::uint64_t>>
      index_;  // pid id -> seq, for many children
};

struct SupState {
  SupFlags flags;
  bool dynamic = false;
  std::uint64_t next_seq = 0;
  Children children;
  // Dynamic children waiting for a retry of their restart, by the pid they had (which is how a
  // DynamicSupervisor's terminate_child names them): pid id -> sequence number. Usually empty.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> waiting;
  std::vector<Duration>
      restarts;  // restart times; those before `first_restart` are out of the window
  std::size_t first_restart = 0;
};

std::string reason_text(const char* what, const std::string& id, const Reason& r) {
  return fmt::format("{{{}, {}, {}}}", what, id, r);
}

// A period as the flags' error shows it: in seconds, as Erlang's, when it is whole seconds.
std::string period_text(Duration d) {
  if (d % std::chrono::seconds(1) == Duration::zero())
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count());
  return fmt::format("{}ms", std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

std::string_view auto_shutdown_text(AutoShutdown a) {
  switch (a) {
    case AutoShutdown::any_significant:
      return "any_significant";
    case AutoShutdown::all_significant:
      return "all_significant";
    case AutoShutdown::never:
      break;
  }
  return "never";
}

// Why the flags are refused, as supervisor:init's {supervisor_data, _}, or nothing. A dynamic
// supervisor has no auto_shutdown but never, as Elixir's DynamicSupervisor.init refuses it;
// only a DynamicSupervisor has extra arguments.
std::optional<Reason> check_flags(const SupFlags& f, SupKind kind) {
  const bool dynamic = kind != SupKind::plain;
  if (f.max_restarts < 0)
    return Reason::other(
        fmt::format("{{supervisor_data, {{invalid_intensity, {}}}}}", f.max_restarts));
  if (f.max_seconds <= Duration::zero())
    return Reason::other(
        fmt::format("{{supervisor_data, {{invalid_period, {}}}}}", period_text(f.max_seconds)));
  if (dynamic && f.auto_shutdown != AutoShutdown::never)
    return Reason::other(fmt::format("{{supervisor_data, {{invalid_auto_shutdown, {}}}}}",
                                     auto_shutdown_text(f.auto_shutdown)));
  if (kind != SupKind::dynamic && !f.extra_arguments.empty())
    return Reason::other(fmt::format("{{supervisor_data, {{invalid_extra_arguments, {}}}}}",
                                     f.extra_arguments.types()));
  return std::nullopt;
}

// Gives `spec` the start it runs under a supervisor with these extra arguments: a
// start_with_extra receives them; a plain start is refused when there are some (it would
// start the child without them). Why it is refused, or nothing.
std::optional<std::string> bind_extra(ChildSpec& spec, const ExtraArguments& extra) {
  if (spec.start_with_extra) {
    spec.start = [f = std::exchange(spec.start_with_extra, nullptr), extra] { return f(extra); };
    return std::nullopt;
  }
  if (!extra.empty())
    return fmt::format("{{extra_arguments_not_taken, {}, {}}}", spec.id, extra.types());
  return std::nullopt;
}

// Why a child may not be significant here, as supervisor's check_childspec (or Elixir's
// DynamicSupervisor, which has no significant children) says it, or nothing.
std::optional<std::string> check_significant(const ChildSpec& spec, AutoShutdown a, bool dynamic) {
  if (!spec.significant) return std::nullopt;
  if (dynamic) return "{invalid_significant, true}";
  if (a == AutoShutdown::never)
    return "{bad_combination, [{auto_shutdown, never}, {significant, true}]}";
  if (spec.restart == Restart::permanent)
    return "{bad_combination, [{restart, permanent}, {significant, true}]}";
  return std::nullopt;
}

// Why a child list is refused, as supervisor:init's {start_spec, _}, or nothing.
std::optional<Reason> check_specs(const std::vector<ChildSpec>& specs, AutoShutdown a) {
  std::unordered_set<std::string_view> ids;
  for (const auto& spec : specs) {
    if (auto bad = check_significant(spec, a, false))
      return Reason::other(fmt::format("{{start_spec, {}}}", *bad));
    if (!ids.insert(spec.id).second)
      return Reason::other(fmt::format("{{start_spec, {{duplicate_child_name, {}}}}}", spec.id));
  }
  return std::nullopt;
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
  struct GetChildSpec {
    std::string id;
  };
  // Sent to itself after a failed restart of child `seq`.
  struct TryAgainRestart {
    std::uint64_t seq;
  };
  using Info = Messages<TryAgainRestart>;

  std::string observer_behaviour() const {
    switch (kind_) {
      case SupKind::dynamic:
        return "DynamicSupervisor";
      case SupKind::task:
        return "TaskSupervisor";
      case SupKind::plain:
        break;
    }
    return "Supervisor";
  }
  std::string observer_module() const { return ""; }
  std::string format_state() const {
    return fmt::format("{} children, {} restarts in the window", state().children.size(),
                       state().restarts.size() - state().first_restart);
  }

  Co<SupState> init(SupFlags& flags, std::vector<ChildSpec>& specs, SupKind kind,
                    std::function<SupSpec()>& module_init) {
    kind_ = kind;
    if (module_init) {
      // Erlang's Module:init, in this process; its ignore() (or a throw) ends the start here.
      SupSpec given = std::exchange(module_init, nullptr)();
      flags = std::move(given.flags);
      specs = std::move(given.children);
    }
    const bool dynamic = kind != SupKind::plain;
    // Refused before anything starts, as supervisor:init and DynamicSupervisor.init do.
    if (auto bad = check_flags(flags, kind)) otp::exit(std::move(*bad));
    if (auto bad = check_specs(specs, flags.auto_shutdown)) otp::exit(std::move(*bad));
    trap_exit(true);
    detail::tls.current->supervisor = true;  // see RuntimeImpl::fate
    SupState st;
    st.flags = flags;
    st.dynamic = dynamic;
    st.children.reserve(specs.size());
    for (auto& spec : specs) {
      bind_extra(spec, flags.extra_arguments);  // none here: a start_with_extra fails clearly
      st.children.add(make_child(st.next_seq++, std::move(spec)));
    }
    std::vector<ChildSpec>().swap(
        specs);  // the argument lives as long as the process; the specs moved out
    // Start in order; on a failure stop what was started, in reverse, and fail.
    auto& all = st.children.all();
    for (std::size_t i = 0; i < all.size(); ++i) {
      Child& c = all[i];
      StartResult r = co_await c.start();
      if (r.kind() == StartResult::Kind::ok) {
        st.children.set_pid(c, r.pid());
      } else if (r.kind() == StartResult::Kind::ignore) {
        // Kept without a process, unless temporary: that one would never run.
        if (c.restart == Restart::temporary) st.children.forget(c);
      } else {
        report(SupervisorReport{describe_self(), c.id.str(), r.reason(), "start_error",
                                "shutting down"});
        std::string why = reason_text("failed_to_start_child", c.id.str(), r.reason());
        for (std::size_t j = i; j-- > 0;)
          if (!all[j].gone && all[j].pid) co_await shutdown_child(all[j]);
        otp::exit(Reason::shutdown(std::move(why)));
      }
    }
    st.children.compact();
    co_return st;
  }

  std::vector<ChildInfo> handle_call(WhichChildren) {
    std::vector<ChildInfo> out;
    out.reserve(state().children.size());
    for (auto& c : state().children.all())
      if (!c.gone) out.push_back(ChildInfo{c.id.str(), c.pid, c.type, c.restart});
    return out;
  }

  ChildCounts handle_call(CountChildren) { return state().children.counts(); }

  std::optional<ChildSpec> handle_call(const GetChildSpec& req) {
    const Child* c = state().children.by_id(req.id);
    if (c == nullptr) return std::nullopt;
    return ChildSpec{.id = c->id.str(),
                     .start = c->start,
                     .restart = c->restart,
                     .shutdown = c->shutdown(),
                     .type = c->type,
                     .significant = c->significant};
  }

  Start handle_call(StartChild req) {
    auto& st = state();
    ChildSpec& spec = req.spec;
    if (auto bad = check_significant(spec, st.flags.auto_shutdown, st.dynamic))
      co_return StartResult::error(Reason::other(*bad));
    if (auto bad = bind_extra(spec, st.flags.extra_arguments))
      co_return StartResult::error(Reason::other(*bad));
    if (st.dynamic) {
      if (st.flags.max_children != 0 && st.children.size() >= st.flags.max_children)
        co_return StartResult::error(Reason::other("max_children"));
    } else if (auto* c = st.children.by_id(spec.id)) {
      if (c->pid) co_return StartResult::already_started(c->pid);
      co_return StartResult::error(Reason::other(fmt::format("{{already_present, {}}}", spec.id)));
    }
    StartResult r = co_await spec.start();
    if (r.kind() == StartResult::Kind::ok) {
      Child c = make_child(st.next_seq++, std::move(spec));
      c.pid = r.pid();
      st.children.add(std::move(c));
    } else if (r.kind() == StartResult::Kind::ignore && !st.dynamic &&
               spec.restart != Restart::temporary) {
      st.children.add(make_child(st.next_seq++, std::move(spec)));
    }
    co_return r;
  }

  Co<bool> handle_call(TerminateChild req) {
    auto& st = state();
    Child* c = st.children.by_id(req.id);
    if (c == nullptr) co_return false;
    if (c->pid) {
      co_await shutdown_child(*c);
      st.children.set_pid(*c, Pid{});
    }
    c->restarting = false;  // a pending retry finds nothing to do
    if (c->restart == Restart::temporary) {
      st.children.forget(*c);
      st.children.compact();
    }
    co_return true;
  }

  Co<bool> handle_call(TerminatePid req) {
    auto& st = state();
    Child* c = st.children.by_pid(req.pid);
    if (c == nullptr) {
      // A child whose restart waits for a retry is still known by the pid it had (Elixir keeps
      // it under that pid as {:restarting, _}): it is forgotten, and the retry finds nothing.
      auto w = std::find_if(st.waiting.begin(), st.waiting.end(),
                            [&](const auto& e) { return e.first == req.pid.id(); });
      if (w == st.waiting.end()) co_return false;
      Child* waiting = st.children.at_seq(w->second);
      st.waiting.erase(w);
      if (waiting == nullptr) co_return false;
      waiting->restarting = false;
      st.children.forget(*waiting);
      st.children.compact();
      co_return true;
    }
    co_await shutdown_child(*c);
    st.children.forget(*c);
    st.children.compact();
    co_return true;
  }

  Start handle_call(RestartChild req) {
    Child* c = state().children.by_id(req.id);
    if (c == nullptr) co_return StartResult::error(Reason::other("not_found"));
    if (c->restarting) co_return StartResult::error(Reason::other("restarting"));
    if (c->pid) co_return StartResult::error(Reason::other("running"));
    co_return co_await start_one(*c);
  }

  Result<void> handle_call(const DeleteChild& req) {
    Child* c = state().children.by_id(req.id);
    if (c == nullptr) return Reason::other("not_found");
    if (c->restarting) return Reason::other("restarting");
    if (c->pid) return Reason::other("running");
    state().children.forget(*c);
    state().children.compact();
    return {};
  }

  Co<void> handle_info(Exit e) {
    auto& st = state();
    Child* found = st.children.by_pid(e.from);
    if (found == nullptr) co_return;  // not (or no longer) a child
    Child& c = *found;
    st.children.set_pid(c, Pid{});
    const bool restart = c.restart == Restart::permanent ||
                         (c.restart == Restart::transient && !e.reason.is_orderly());
    const bool auto_shutdown = !restart && c.significant && significant_ones_ended();
    // As Erlang's supervisor: every exit of a permanent child is reported (it is restarted, even
    // after `normal` or `shutdown`), those of transient and temporary ones only when abnormal.
    // The exit that is one restart too many says so: the supervisor shuts down, it does not
    // restart (the report after this one gives the reason, reached_max_restart_intensity).
    if (c.restart == Restart::permanent || !e.reason.is_orderly())
      report(SupervisorReport{describe_self(), child_text(c, e.from), e.reason, "child_terminated",
                              auto_shutdown ? "shutting down"
                              : !restart
                                  ? "not restarting"
                                  : (next_restart_exceeds() ? "shutting down" : "restarting")});
    if (!restart) {
      if (c.restart == Restart::temporary || st.dynamic) {
        st.children.forget(c);
        st.children.compact();
      }
      // A significant child ended by itself: the supervisor stops the others and exits with
      // `shutdown` (Erlang's auto_shutdown); its own supervisor decides what follows.
      if (auto_shutdown) otp::exit(Reason::shutdown());
      co_return;
    }
    const std::uint64_t seq = c.seq;
    co_await restart_child(seq);
    if (st.dynamic) {
      Child* again = st.children.at_seq(seq);
      if (again != nullptr && again->restarting) st.waiting.emplace_back(e.from.id(), seq);
    }
  }

  Co<void> handle_info(TryAgainRestart t) {
    Child* c = state().children.at_seq(t.seq);
    if (c == nullptr || !c->restarting) co_return;  // stopped or restarted meanwhile
    co_await restart_child(t.seq);
    c = state().children.at_seq(t.seq);
    if (c == nullptr || !c->restarting)
      std::erase_if(state().waiting, [&](const auto& e) { return e.second == t.seq; });
  }

  Co<void> terminate(const Reason&) {
    auto& all = state().children.all();
    for (std::size_t i = all.size(); i-- > 0;)
      if (!all[i].gone && all[i].pid) co_await shutdown_child(all[i]);
  }

 private:
  SupKind kind_ = SupKind::plain;

  // As the tree names it: "<0.5.0> eric_sup".
  std::string describe_self() { return process_label(self(), server_name()); }
  static std::string child_text(const Child& c, const Pid& pid) {
    if (!pid) return c.id.str();
    return c.id.str().empty() ? pid.to_string() : fmt::format("{} ({})", c.id.str(), pid);
  }

  // Whether the exit of a significant child (no longer running) shuts the supervisor down, as
  // the flags' auto_shutdown says: any_significant at once, all_significant when no other
  // significant child runs or waits for a restart.
  bool significant_ones_ended() {
    switch (state().flags.auto_shutdown) {
      case AutoShutdown::never:
        return false;
      case AutoShutdown::any_significant:
        return true;
      case AutoShutdown::all_significant:
        break;
    }
    for (const auto& other : state().children.all())
      if (!other.gone && other.significant && (other.pid || other.restarting)) return false;
    return true;
  }

  // Whether one more restart now would be one too many for the intensity (add_restart's
  // answer, without counting it).
  bool next_restart_exceeds() {
    const auto& st = state();
    const Duration since = otp::now() - st.flags.max_seconds;
    std::size_t in_window = 1;
    for (std::size_t i = st.first_restart; i < st.restarts.size(); ++i)
      if (st.restarts[i] >= since) ++in_window;
    return static_cast<int>(in_window) > st.flags.max_restarts;
  }

  // Counts a restart; false when that is one too many for the intensity.
  bool add_restart() {
    auto& st = state();
    Duration t = otp::now();
    restarts_total.fetch_add(1, std::memory_order_relaxed);
    st.restarts.push_back(t);
    while (st.restarts[st.first_restart] < t - st.flags.max_seconds) ++st.first_restart;
    if (2 * st.first_restart >= st.restarts.size()) {
      st.restarts.erase(st.restarts.begin(),
                        st.restarts.begin() + static_cast<std::ptrdiff_t>(st.first_restart));
      st.first_restart = 0;
    }
    return static_cast<int>(st.restarts.size() - st.first_restart) <= st.flags.max_restarts;
  }

  Start start_one(Child& c) {
    StartResult r = co_await c.start();
    if (r.kind() == StartResult::Kind::ok) {
      state().children.set_pid(c, r.pid());
      c.restarting = false;
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
      report(SupervisorReport{describe_self(), child_text(*st.children.at_seq(seq), Pid{}),
                              Reason::shutdown(), "reached_max_restart_intensity",
                              "shutting down"});
      otp::exit(Reason::shutdown());
    }
    st.children.at_seq(seq)->restarting = false;
    if (st.flags.strategy == Strategy::one_for_one || st.dynamic) {
      Child& c = *st.children.at_seq(seq);
      StartResult r = co_await start_one(c);
      if (r.kind() == StartResult::Kind::ignore && st.dynamic) {
        st.children.forget(
            c);  // Elixir's DynamicSupervisor forgets a child whose restart is ignored
        st.children.compact();
      } else if (!r.ok() && r.kind() != StartResult::Kind::ignore) {
        try_again_later(c, r.reason());
      }
      co_return;
    }
    // one_for_all: every child; rest_for_one: this one and those after it. Stop
    // those still running (some restarted by a previous, failed attempt), in reverse.
    auto& all = st.children.all();
    std::size_t first = 0;
    if (st.flags.strategy == Strategy::rest_for_one)
      first = static_cast<std::size_t>(st.children.at_seq(seq) - all.data());
    for (std::size_t i = all.size(); i-- > first;) {
      if (!all[i].gone && all[i].pid) {
        co_await shutdown_child(all[i]);
        st.children.set_pid(all[i], Pid{});
      }
    }
    // Temporary children stopped for a sibling are not restarted.
    for (std::size_t i = first; i < all.size(); ++i)
      if (!all[i].gone && all[i].seq != seq && all[i].restart == Restart::temporary)
        st.children.forget(all[i]);
    for (std::size_t i = first; i < all.size(); ++i) {
      if (all[i].gone) continue;
      StartResult r = co_await start_one(all[i]);
      if (!r.ok() && r.kind() != StartResult::Kind::ignore) {
        try_again_later(all[i], r.reason());
        co_return;
      }
    }
    st.children.compact();
  }

  void try_again_later(Child& c, const Reason& why) {
    report(SupervisorReport{describe_self(), c.id.str(), why, "start_error", "restarting"});
    c.restarting = true;
    otp::send(self(), TryAgainRestart{c.seq});
  }

  // Stops a running child as its shutdown says (Erlang's supervisor:shutdown/2).
  // The caller forgets the pid (Children::set_pid or forget): this also runs in init, before there is a state.
  // A child that ends with another reason than the one it was asked to end with (another
  // process killed it meanwhile, it had crashed already, it ran past its shutdown time) is
  // reported as a shutdown_error, as Erlang's supervisor does; `normal` is no error for a child
  // that is not permanent.
  Co<void> shutdown_child(Child& c) {
    Pid pid = c.pid;
    Ref ref = monitor(pid);
    unlink(pid);
    const Shutdown how = c.shutdown();
    const bool brutal = how.kind() == Shutdown::Kind::brutal_kill;
    std::optional<Reason> ended;  // the reason it ended with, when not the one asked for
    // Already exited: its Exit is in the mailbox, with the reason (the Down says noproc).
    auto gone =
        co_await receive<Exit>([pid](const Exit& e) { return e.from == pid; }, Duration::zero());
    if (gone) {
      ended = gone->reason;
    } else {
      otp::exit(pid, brutal ? Reason::kill() : Reason::shutdown());
      auto down =
          co_await receive<Down>([ref](const Down& d) { return d.ref == ref; },
                                 how.kind() == Shutdown::Kind::timeout ? how.timeout() : infinity);
      if (!down) {
        otp::exit(pid, Reason::kill());
        down = co_await receive<Down>([ref](const Down& d) { return d.ref == ref; });
        ended = down->reason;
      } else if (brutal ? down->reason != Reason::killed() : !down->reason.is_shutdown()) {
        ended = down->reason;
      }
    }
    if (gone) co_await receive<Down>([ref](const Down& d) { return d.ref == ref; });
    if (ended && !(ended->is_normal() && c.restart != Restart::permanent))
      report(SupervisorReport{describe_self(), child_text(c, pid), *ended, "shutdown_error",
                              "not restarting"});
  }
};

template <class Op>
auto as_co(Op op) -> Co<decltype(op.await_resume())> {
  co_return co_await std::move(op);
}

}  // namespace

namespace detail {
Start failed_start(Reason reason) { co_return StartResult::error(reason); }

Start start_sup(bool link, Name name, SupFlags flags, std::vector<ChildSpec> specs, SupKind kind) {
  std::function<SupSpec()> none;
  if (link)
    return SupervisorServer::start_link(std::move(name), std::move(flags), std::move(specs), kind,
                                        std::move(none));
  return SupervisorServer::start(std::move(name), std::move(flags), std::move(specs), kind,
                                 std::move(none));
}
Start start_sup_init(Name name, std::function<SupSpec()> init, SupKind kind) {
  return SupervisorServer::start_link(std::move(name), SupFlags{}, std::vector<ChildSpec>{}, kind,
                                      std::move(init));
}
}  // namespace detail

Start Supervisor::start_link(std::vector<ChildSpec> children, SupFlags flags) {
  return detail::start_sup(true, Name{}, std::move(flags), std::move(children), SupKind::plain);
}
Start Supervisor::start_link(Name name, std::vector<ChildSpec> children, SupFlags flags) {
  return detail::start_sup(true, std::move(name), std::move(flags), std::move(children),
                           SupKind::plain);
}
Start Supervisor::start_child(ServerRef sup, ChildSpec spec) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::StartChild{std::move(spec)},
                                      infinity));
}
Co<bool> Supervisor::terminate_child(ServerRef sup, std::string id) {
  return as_co(SupervisorServer::call(std::move(sup),
                                      SupervisorServer::TerminateChild{std::move(id)}, infinity));
}
Start Supervisor::restart_child(ServerRef sup, std::string id) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::RestartChild{std::move(id)},
                                      infinity));
}
Co<Result<void>> Supervisor::delete_child(ServerRef sup, std::string id) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::DeleteChild{std::move(id)},
                                      infinity));
}
Co<std::vector<ChildInfo>> Supervisor::which_children(ServerRef sup) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::WhichChildren{}, infinity));
}
Co<ChildCounts> Supervisor::count_children(ServerRef sup) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::CountChildren{}, infinity));
}
Co<std::optional<ChildSpec>> Supervisor::get_childspec(ServerRef sup, std::string id) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::GetChildSpec{std::move(id)},
                                      infinity));
}

Start DynamicSupervisor::start_link(SupFlags flags) {
  return detail::start_sup(true, Name{}, std::move(flags), {}, SupKind::dynamic);
}
Start DynamicSupervisor::start_link(Name name, SupFlags flags) {
  return detail::start_sup(true, std::move(name), std::move(flags), {}, SupKind::dynamic);
}
Start DynamicSupervisor::start_child(ServerRef sup, ChildSpec spec) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::StartChild{std::move(spec)},
                                      infinity));
}
Co<bool> DynamicSupervisor::terminate_child(ServerRef sup, Pid child) {
  return as_co(
      SupervisorServer::call(std::move(sup), SupervisorServer::TerminatePid{child}, infinity));
}
Co<std::vector<ChildInfo>> DynamicSupervisor::which_children(ServerRef sup) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::WhichChildren{}, infinity));
}
Co<ChildCounts> DynamicSupervisor::count_children(ServerRef sup) {
  return as_co(SupervisorServer::call(std::move(sup), SupervisorServer::CountChildren{}, infinity));
}

std::uint64_t Supervisor::restarts() { return restarts_total.load(std::memory_order_relaxed); }

}  // namespace otp
