#include <algorithm>
#include <cctype>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using otp_test::kWait;

struct Started {
  std::string id;
  otp::Pid pid;
};
struct Stopped {
  std::string id;
  otp::Reason reason;
};

struct WorkerState {
  std::string id;
  otp::Pid observer;
};

// A child that tells an observer when it starts and stops, and exits on request.
struct Worker : otp::GenServer<Worker, WorkerState> {
  struct Ping {};
  struct ExitWith {
    otp::Reason reason;
  };

  WorkerState init(const std::string& id, otp::Pid observer, bool fail, bool trap) {
    if (fail) throw std::runtime_error("init failed");
    if (trap) otp::trap_exit(true);
    otp::send(observer, Started{id, otp::self()});
    return {id, observer};
  }
  otp::Pid handle_call(Ping) { return otp::self(); }
  void handle_cast(const ExitWith& e) { stop(e.reason); }
  void terminate(const otp::Reason& r) { otp::send(state().observer, Stopped{state().id, r}); }
};

// A child that ignores `shutdown` for an hour, and says so when it begins.
struct Stopping {};
struct Stubborn : otp::GenServer<Stubborn, otp::Pid> {
  otp::Pid init(otp::Pid observer) {
    otp::trap_exit(true);
    otp::send(observer, Started{"stubborn", otp::self()});
    return observer;
  }
  otp::Co<void> terminate(const otp::Reason&) {
    otp::send(state(), Stopping{});
    co_await otp::sleep(1h);
  }
};

otp::ChildSpec worker(const std::string& id, otp::Pid observer,
                      otp::Restart restart = otp::Restart::permanent, bool fail = false,
                      bool trap = false) {
  return {.id = id,
          .start = [=] { return Worker::start_link(id, observer, fail, trap); },
          .restart = restart};
}

otp::ChildSpec stubborn(otp::Pid observer, otp::Duration shutdown) {
  return {.id = "stubborn",
          .start = [observer] { return Stubborn::start_link(observer); },
          .shutdown = otp::Shutdown::after(shutdown)};
}

Started await_started(otp::Scoped& me, const std::string& id) {
  auto s = me.receive<Started>([&](const Started& s) { return s.id == id; }, kWait);
  if (!s) throw std::runtime_error("no start of " + id);
  return *s;
}

// Makes child `pid` exit with `reason` and waits until it is gone.
void exit_child(otp::Scoped& me, otp::Pid pid, otp::Reason reason) {
  auto ref = me.monitor(pid);
  Worker::cast(pid, Worker::ExitWith{std::move(reason)});
  ASSERT_TRUE(otp_test::await_down(me, ref));
}

otp::Pid child_pid(otp::Scoped& me, otp::Pid sup, const std::string& id) {
  for (auto& c : me.await(otp::Supervisor::which_children(sup)))
    if (c.id == id) return c.pid;
  return {};
}

// A child whose start follows a script, one outcome per attempt (past the end: ok),
// and tells an observer of every attempt. The start runs in the supervisor, so the
// attempts arrive in the order the supervisor made them.
struct Attempt {
  std::string id;
  int n;
};
enum class Outcome { ok, fail, ignore, wait_for_go_then_fail };
struct Script {
  std::vector<Outcome> outcomes;
  int attempts = 0;  // touched only by the supervisor
};

otp::Start scripted_start(std::string id, otp::Pid observer, std::shared_ptr<Script> script) {
  const int n = ++script->attempts;
  otp::send(observer, Attempt{id, n});
  const auto at = static_cast<std::size_t>(n - 1);
  const Outcome outcome = at < script->outcomes.size() ? script->outcomes[at] : Outcome::ok;
  switch (outcome) {
    case Outcome::ok:
      co_return co_await Worker::start_link(id, observer, false, true);
    case Outcome::ignore:
      co_return otp::StartResult::ignore();
    case Outcome::wait_for_go_then_fail:
      co_await otp::receive<otp_test::Go>();
      [[fallthrough]];
    case Outcome::fail:
      break;
  }
  co_return otp::StartResult::error(otp::Reason::other("busy"));
}

otp::ChildSpec scripted(const std::string& id, otp::Pid observer, std::vector<Outcome> outcomes,
                        otp::Restart restart = otp::Restart::permanent) {
  auto script = std::make_shared<Script>();
  script->outcomes = std::move(outcomes);
  return {
      .id = id, .start = [=] { return scripted_start(id, observer, script); }, .restart = restart};
}

// The next start attempt, as "<id><n>".
std::string next_attempt(otp::Scoped& me) {
  auto a = me.receive<Attempt>(kWait);
  return a ? a->id + std::to_string(a->n) : "none";
}

TEST(Supervisor, StartsChildrenInOrder) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::Supervisor::start_link(
      {worker("a", me.pid()), worker("b", me.pid()), worker("c", me.pid())}));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  std::vector<std::string> order;
  order.reserve(3);
  for (int i = 0; i < 3; ++i) order.push_back(me.receive<Started>(kWait)->id);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Supervisor, StopsChildrenInReverseOrder) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(
      otp::Supervisor::start_link({worker("a", me.pid(), otp::Restart::permanent, false, true),
                                   worker("b", me.pid(), otp::Restart::permanent, false, true),
                                   worker("c", me.pid(), otp::Restart::permanent, false, true)}));
  ASSERT_TRUE(sup.ok());
  me.await(otp::stop(sup.pid(), otp::Reason::shutdown()));
  std::vector<std::string> order;
  order.reserve(3);
  for (int i = 0; i < 3; ++i) {
    auto s = me.receive<Stopped>(kWait);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->reason, otp::Reason::shutdown());
    order.push_back(s->id);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"c", "b", "a"}));
}

struct RestartCase {
  otp::Restart restart;
  otp::Reason reason;
  bool restarted;
};
// How ctest and gtest show a case (instead of its bytes).
// NOLINTNEXTLINE(readability-identifier-naming): the name GoogleTest looks for.
void PrintTo(const RestartCase& c, std::ostream* os) {
  *os << (c.restart == otp::Restart::permanent   ? "permanent"
          : c.restart == otp::Restart::transient ? "transient"
                                                 : "temporary")
      << " child, exit " << c.reason.to_string()
      << (c.restarted ? ": restarted" : ": not restarted");
}

class SupervisorRestart : public testing::TestWithParam<RestartCase> {};

TEST_P(SupervisorRestart, RestartTypeDecidesOnEachExitReason) {
  const RestartCase& tc = GetParam();
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::Supervisor::start_link({worker("w", me.pid(), tc.restart)}));
  ASSERT_TRUE(sup.ok());
  otp::Pid first = await_started(me, "w").pid;
  exit_child(me, first, tc.reason);
  otp::Pid now = child_pid(me, sup.pid(), "w");
  if (tc.restarted) {
    EXPECT_TRUE(now);
    EXPECT_NE(now, first);
  } else {
    EXPECT_FALSE(now);
  }
  auto counts = me.await(otp::Supervisor::count_children(sup.pid()));
  // A temporary child is forgotten; the others keep their spec.
  EXPECT_EQ(counts.specs, tc.restart == otp::Restart::temporary ? 0u : 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Supervisor, SupervisorRestart,
    testing::Values(RestartCase{otp::Restart::permanent, otp::Reason::normal(), true},
                    RestartCase{otp::Restart::permanent, otp::Reason::shutdown(), true},
                    RestartCase{otp::Restart::permanent, otp::Reason::other("boom"), true},
                    RestartCase{otp::Restart::transient, otp::Reason::normal(), false},
                    RestartCase{otp::Restart::transient, otp::Reason::shutdown("bye"), false},
                    RestartCase{otp::Restart::transient, otp::Reason::other("boom"), true},
                    RestartCase{otp::Restart::temporary, otp::Reason::normal(), false},
                    RestartCase{otp::Restart::temporary, otp::Reason::shutdown(), false},
                    RestartCase{otp::Restart::temporary, otp::Reason::other("boom"), false}),
    // Readable names: Supervisor/SupervisorRestart.TransientAfterShutdownBye, ...
    [](const testing::TestParamInfo<RestartCase>& info) {
      const char* restart = info.param.restart == otp::Restart::permanent   ? "Permanent"
                            : info.param.restart == otp::Restart::transient ? "Transient"
                                                                            : "Temporary";
      std::string reason = otp::module_name(info.param.reason.to_string());
      std::string name = std::string(restart) + "After";
      bool up = true;
      for (char c : reason) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0) {
          up = true;
          continue;
        }
        name += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        up = false;
      }
      return name;
    });

TEST(Supervisor, OneForOneRestartsOnlyTheFailedChild) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::Supervisor::start_link(
      {worker("a", me.pid()), worker("b", me.pid()), worker("c", me.pid())}));
  otp::Pid a = await_started(me, "a").pid, b = await_started(me, "b").pid,
           c = await_started(me, "c").pid;
  exit_child(me, b, otp::Reason::other("boom"));
  EXPECT_EQ(child_pid(me, sup.pid(), "a"), a);
  EXPECT_NE(child_pid(me, sup.pid(), "b"), b);
  EXPECT_EQ(child_pid(me, sup.pid(), "c"), c);
}

TEST(Supervisor, OneForAllRestartsEveryChild) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::Supervisor::start_link(
      {worker("a", me.pid()), worker("b", me.pid()), worker("c", me.pid())},
      {.strategy = otp::Strategy::one_for_all}));
  otp::Pid a = await_started(me, "a").pid, b = await_started(me, "b").pid,
           c = await_started(me, "c").pid;
  exit_child(me, b, otp::Reason::other("boom"));
  EXPECT_NE(child_pid(me, sup.pid(), "a"), a);
  EXPECT_NE(child_pid(me, sup.pid(), "b"), b);
  EXPECT_NE(child_pid(me, sup.pid(), "c"), c);
  EXPECT_FALSE(otp::is_alive(a));
  EXPECT_FALSE(otp::is_alive(c));
}

TEST(Supervisor, RestForOneRestartsOnlyLaterChildren) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::Supervisor::start_link(
      {worker("a", me.pid()), worker("b", me.pid()), worker("c", me.pid())},
      {.strategy = otp::Strategy::rest_for_one}));
  otp::Pid a = await_started(me, "a").pid, b = await_started(me, "b").pid,
           c = await_started(me, "c").pid;
  exit_child(me, b, otp::Reason::other("boom"));
  EXPECT_EQ(child_pid(me, sup.pid(), "a"), a);
  EXPECT_NE(child_pid(me, sup.pid(), "b"), b);
  EXPECT_NE(child_pid(me, sup.pid(), "c"), c);
  EXPECT_FALSE(otp::is_alive(c));
}

TEST(Supervisor, ExceedingIntensityExitsWithShutdown) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(
      otp::Supervisor::start_link({worker("w", me.pid())}, {.max_restarts = 3, .max_seconds = 1h}));
  auto ref = me.monitor(sup.pid());
  for (int i = 0; i < 4; ++i)
    exit_child(me, await_started(me, "w").pid, otp::Reason::other("boom"));
  auto down = otp_test::await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
  EXPECT_TRUE(logs.contains("reached_max_restart_intensity"));
}

TEST(Supervisor, RestartsOutsideTheWindowDoNotCount) {
  otp::Runtime rt(otp::Options::deterministic());
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(
      otp::Supervisor::start_link({worker("w", me.pid())}, {.max_restarts = 1, .max_seconds = 5s}));
  for (int i = 0; i < 5; ++i) {
    exit_child(me, await_started(me, "w").pid, otp::Reason::other("boom"));
    rt.advance(6s);
  }
  EXPECT_TRUE(otp::is_alive(sup.pid()));
  EXPECT_TRUE(child_pid(me, sup.pid(), "w"));
}

TEST(Supervisor, ParentDecidesWhenAChildSupervisorGivesUp) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  otp::Pid observer = me.pid();
  otp::ChildSpec inner{.id = "inner",
                       .start =
                           [observer] {
                             return otp::Supervisor::start_link({worker("w", observer)},
                                                                {.max_restarts = 0});
                           },
                       .type = otp::ChildType::supervisor};
  auto top = me.await(otp::Supervisor::start_link({inner}));
  ASSERT_TRUE(top.ok());
  otp::Pid inner1 = child_pid(me, top.pid(), "inner");
  exit_child(me, await_started(me, "w").pid, otp::Reason::other("boom"));
  await_started(me, "w");  // the top supervisor started a new inner one, which started w
  otp::Pid inner2 = child_pid(me, top.pid(), "inner");
  EXPECT_TRUE(inner2);
  EXPECT_NE(inner1, inner2);
  EXPECT_FALSE(otp::is_alive(inner1));
}

TEST(Supervisor, ChildFailingInInitFailsTheSupervisorStart) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(
      otp::Supervisor::start_link({worker("a", me.pid(), otp::Restart::permanent, false, true),
                                   worker("b", me.pid(), otp::Restart::permanent, true)}));
  ASSERT_FALSE(sup.ok());
  EXPECT_TRUE(sup.reason().is_shutdown());
  EXPECT_NE(sup.reason().detail().find("failed_to_start_child, b"), std::string::npos)
      << sup.reason().to_string();
  auto stopped = me.receive<Stopped>(kWait);  // a was started, then stopped again
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->id, "a");
}

TEST(Supervisor, ShutdownTimeoutEscalatesToKill) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::Supervisor::start_link({stubborn(me.pid(), 50ms)}));
  otp::Pid pid = await_started(me, "stubborn").pid;
  auto ref = me.monitor(pid);
  EXPECT_TRUE(me.await(otp::Supervisor::terminate_child(sup.pid(), "stubborn")));
  auto down = otp_test::await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::killed());
  EXPECT_TRUE(logs.contains("shutdown_error"));
}

// Erlang's supervisor reports a child that, asked to stop, ended with another reason: here
// another process kills it while its terminate runs. A child that stops as asked is no error.
TEST(Supervisor, AChildKilledWhileItIsBeingStoppedIsAShutdownError) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  const otp::Pid observer = me.pid();
  auto sup = me.await(otp::Supervisor::start_link({stubborn(observer, 1h), worker("w", observer)}));
  otp::Pid pid = await_started(me, "stubborn").pid;
  await_started(me, "w");
  ASSERT_TRUE(me.await(otp::Supervisor::terminate_child(sup.pid(), "w")));
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::supervisor_report), 0u);

  const otp::Pid sup_pid = sup.pid();
  me.spawn([sup_pid, observer]() -> otp::Co<void> {
    const bool stopped = co_await otp::Supervisor::terminate_child(sup_pid, "stubborn");
    otp::send(observer, Stopped{stopped ? "stubborn" : "", otp::Reason::normal()});
  });
  ASSERT_TRUE(me.receive<Stopping>(kWait));  // in its terminate, for an hour
  otp::exit(pid, otp::Reason::kill());
  auto stopped = me.receive<Stopped>(kWait);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->id, "stubborn");
  ASSERT_EQ(logs.count(otp::LogRecord::Kind::supervisor_report), 1u);
  EXPECT_TRUE(logs.contains("shutdown_error"));
  EXPECT_TRUE(logs.contains(fmt::format("stubborn ({})", pid)));
  EXPECT_TRUE(logs.contains("killed"));
}

TEST(Supervisor, BrutalKillSkipsTerminate) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto spec = worker("w", me.pid(), otp::Restart::permanent, false, true);
  spec.shutdown = otp::Shutdown::brutal_kill();
  auto sup = me.await(otp::Supervisor::start_link({spec}));
  otp::Pid pid = await_started(me, "w").pid;
  auto ref = me.monitor(pid);
  EXPECT_TRUE(me.await(otp::Supervisor::terminate_child(sup.pid(), "w")));
  auto down = otp_test::await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::killed());
  EXPECT_FALSE(me.receive<Stopped>(0ms));
}

TEST(Supervisor, TerminateRestartAndDeleteChild) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::Supervisor::start_link({worker("a", me.pid()), worker("b", me.pid())}));
  otp::Pid a = await_started(me, "a").pid;
  EXPECT_FALSE(me.await(otp::Supervisor::terminate_child(sup.pid(), "nope")));
  EXPECT_TRUE(me.await(otp::Supervisor::terminate_child(sup.pid(), "a")));
  EXPECT_FALSE(otp::is_alive(a));
  auto counts = me.await(otp::Supervisor::count_children(sup.pid()));
  EXPECT_EQ(counts.specs, 2u);
  EXPECT_EQ(counts.active, 1u);
  EXPECT_EQ(counts.workers, 2u);
  EXPECT_EQ(me.await(otp::Supervisor::delete_child(sup.pid(), "b")).reason(),
            otp::Reason::other("running"));
  auto again = me.await(otp::Supervisor::restart_child(sup.pid(), "a"));
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again.pid(), a);
  EXPECT_EQ(me.await(otp::Supervisor::restart_child(sup.pid(), "a")).reason(),
            otp::Reason::other("running"));
  EXPECT_TRUE(me.await(otp::Supervisor::terminate_child(sup.pid(), "b")));
  EXPECT_TRUE(me.await(otp::Supervisor::delete_child(sup.pid(), "b")));
  EXPECT_EQ(me.await(otp::Supervisor::restart_child(sup.pid(), "b")).reason(),
            otp::Reason::other("not_found"));
  auto children = me.await(otp::Supervisor::which_children(sup.pid()));
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].id, "a");
}

TEST(Supervisor, StartChildAddsAChildAndRefusesADuplicateId) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::Supervisor::start_link({}));
  auto first = me.await(otp::Supervisor::start_child(sup.pid(), worker("x", me.pid())));
  ASSERT_TRUE(first.ok());
  auto second = me.await(otp::Supervisor::start_child(sup.pid(), worker("x", me.pid())));
  EXPECT_EQ(second.kind(), otp::StartResult::Kind::already_started);
  EXPECT_EQ(second.pid(), first.pid());
}

TEST(Supervisor, SupervisorReportNamesChildReasonAndAction) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::Supervisor::start_link({worker("w", me.pid())}));
  exit_child(me, await_started(me, "w").pid, otp::Reason::other("boom"));
  await_started(me, "w");
  ASSERT_EQ(logs.count(otp::LogRecord::Kind::supervisor_report), 1u);
  EXPECT_TRUE(logs.contains("child_terminated"));
  EXPECT_TRUE(logs.contains("boom"));
  EXPECT_TRUE(logs.contains("restarting"));
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::crash_report), 1u);  // the worker's own
}

TEST(Supervisor, RetriesAFailedRestartAfterOtherMessagesAndGivesUpPastTheIntensity) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  const otp::Pid observer = me.pid();
  using enum Outcome;
  auto sup = me.await(otp::Supervisor::start_link(
      {scripted("f", observer, {ok, wait_for_go_then_fail, fail, fail, fail}),
       scripted("o", observer, {})},
      {.max_restarts = 3, .max_seconds = 1h}));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  auto sup_ref = me.monitor(sup.pid());
  EXPECT_EQ(next_attempt(me), "f1");
  EXPECT_EQ(next_attempt(me), "o1");
  otp::Pid f = await_started(me, "f").pid;
  otp::Pid o = await_started(me, "o").pid;

  Worker::cast(f, Worker::ExitWith{otp::Reason::other("boom")});  // restart 1: f2, which waits
  EXPECT_EQ(next_attempt(me), "f2");
  // While f2 runs, o dies: its Exit waits in the supervisor's mailbox, then f2 fails.
  auto o_ref = me.monitor(o);
  otp::exit(o, otp::Reason::kill());
  ASSERT_TRUE(otp_test::await_down(me, o_ref));
  otp::send(sup.pid(), otp_test::Go{});

  EXPECT_EQ(next_attempt(me), "o2")
      << "the Exit of o is handled before f is tried again";  // restart 2
  EXPECT_EQ(next_attempt(me), "f3");                          // restart 3
  auto down = otp_test::await_down(me, sup_ref);              // a 4th restart is one too many
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
  EXPECT_FALSE(me.receive<Attempt>(0ms)) << "no attempt past the intensity";
  EXPECT_TRUE(logs.contains("reached_max_restart_intensity"));
}

TEST(Supervisor, TemporaryChildWhoseStartIsIgnoredIsNotKept) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  using enum Outcome;
  auto sup = me.await(
      otp::Supervisor::start_link({scripted("t", me.pid(), {ignore}, otp::Restart::temporary),
                                   scripted("p", me.pid(), {ignore})}));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  auto r = me.await(otp::Supervisor::start_child(
      sup.pid(), scripted("t2", me.pid(), {ignore}, otp::Restart::temporary)));
  EXPECT_EQ(r.kind(), otp::StartResult::Kind::ignore);
  // A permanent (or transient) child whose start is ignored is kept, without a process.
  auto children = me.await(otp::Supervisor::which_children(sup.pid()));
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].id, "p");
  EXPECT_FALSE(children[0].pid);
  auto counts = me.await(otp::Supervisor::count_children(sup.pid()));
  EXPECT_EQ(counts.specs, 1u);
  EXPECT_EQ(counts.active, 0u);
}

TEST(Supervisor, OneForAllStopsTheRestartedChildrenAndRetriesWhenALaterStartFails) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  const otp::Pid observer = me.pid();
  using enum Outcome;
  auto sup = me.await(
      otp::Supervisor::start_link({scripted("a", observer, {}), scripted("b", observer, {ok, fail}),
                                   scripted("c", observer, {})},
                                  {.strategy = otp::Strategy::one_for_all, .max_seconds = 1h}));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  for (const char* id : {"a1", "b1", "c1"}) EXPECT_EQ(next_attempt(me), id);
  await_started(me, "a");
  await_started(me, "b");
  otp::Pid c = await_started(me, "c").pid;

  Worker::cast(c, Worker::ExitWith{otp::Reason::other("boom")});
  std::vector<std::string> attempts;
  attempts.reserve(5);
  for (int i = 0; i < 5; ++i) attempts.push_back(next_attempt(me));
  // b2 fails after a2 started: a2 is stopped and the whole restart is made again.
  EXPECT_EQ(attempts, (std::vector<std::string>{"a2", "b2", "a3", "b3", "c2"}));
  auto a2 = await_started(me, "a");
  auto stopped = me.receive<Stopped>([&](const Stopped& s) { return s.id == "a"; }, kWait);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->reason, otp::Reason::shutdown());
  otp::Pid a3 = await_started(me, "a").pid;
  EXPECT_FALSE(otp::is_alive(a2.pid));
  EXPECT_EQ(child_pid(me, sup.pid(), "a"), a3);
  EXPECT_TRUE(child_pid(me, sup.pid(), "b"));
  EXPECT_TRUE(child_pid(me, sup.pid(), "c"));
}

TEST(Supervisor, RestForOneRetriesFromTheChildThatFailedToStart) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  const otp::Pid observer = me.pid();
  using enum Outcome;
  auto sup = me.await(
      otp::Supervisor::start_link({scripted("a", observer, {}), scripted("b", observer, {}),
                                   scripted("c", observer, {ok, fail})},
                                  {.strategy = otp::Strategy::rest_for_one, .max_seconds = 1h}));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  for (const char* id : {"a1", "b1", "c1"}) EXPECT_EQ(next_attempt(me), id);
  otp::Pid a = await_started(me, "a").pid;
  otp::Pid b = await_started(me, "b").pid;
  await_started(me, "c");

  Worker::cast(b, Worker::ExitWith{otp::Reason::other("boom")});
  std::vector<std::string> attempts;
  attempts.reserve(3);
  for (int i = 0; i < 3; ++i) attempts.push_back(next_attempt(me));
  // c2 fails after b2 started: the retry restarts c and what follows it; b2 keeps running.
  EXPECT_EQ(attempts, (std::vector<std::string>{"b2", "c2", "c3"}));
  otp::Pid b2 = await_started(me, "b").pid;
  await_started(me, "c");
  EXPECT_EQ(child_pid(me, sup.pid(), "a"), a);
  EXPECT_EQ(child_pid(me, sup.pid(), "b"), b2);
  EXPECT_TRUE(child_pid(me, sup.pid(), "c"));
}

TEST(DynamicSupervisor, StartsAndTerminatesChildren) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::DynamicSupervisor::start_link());
  ASSERT_TRUE(sup.ok());
  auto a = me.await(otp::DynamicSupervisor::start_child(sup.pid(), worker("a", me.pid())));
  auto b = me.await(otp::DynamicSupervisor::start_child(sup.pid(), worker("b", me.pid())));
  ASSERT_TRUE(a.ok() && b.ok());
  auto counts = me.await(otp::DynamicSupervisor::count_children(sup.pid()));
  EXPECT_EQ(counts.active, 2u);
  EXPECT_TRUE(me.await(otp::DynamicSupervisor::terminate_child(sup.pid(), a.pid())));
  EXPECT_FALSE(otp::is_alive(a.pid()));
  EXPECT_FALSE(me.await(otp::DynamicSupervisor::terminate_child(sup.pid(), a.pid())));
  auto children = me.await(otp::DynamicSupervisor::which_children(sup.pid()));
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].pid, b.pid());
}

// Many children (past the size where the supervisor indexes them by pid), most of them
// stopped: the others keep their start order, are still found by pid, and a stop of the
// supervisor stops them in reverse start order.
TEST(DynamicSupervisor, ManyChildrenKeepStartOrderAcrossTerminationsAndRestarts) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::DynamicSupervisor::start_link());
  ASSERT_TRUE(sup.ok());
  me.unlink(sup.pid());
  constexpr int n = 60;
  std::vector<otp::Pid> pids;
  for (int i = 0; i < n; ++i) {
    auto r = me.await(otp::DynamicSupervisor::start_child(
        sup.pid(),
        worker("w" + std::to_string(i), me.pid(), otp::Restart::permanent, false, true)));
    ASSERT_TRUE(r.ok());
    pids.push_back(r.pid());
    await_started(me, "w" + std::to_string(i));
  }
  // Terminate all but every third one, from the front: the holes outgrow the children.
  std::vector<int> kept;
  for (int i = 0; i < n; ++i) {
    if (i % 3 == 2) {
      kept.push_back(i);
      continue;
    }
    EXPECT_TRUE(me.await(otp::DynamicSupervisor::terminate_child(sup.pid(), pids[i])));
    EXPECT_FALSE(me.await(otp::DynamicSupervisor::terminate_child(sup.pid(), pids[i])));
  }
  auto children = me.await(otp::DynamicSupervisor::which_children(sup.pid()));
  ASSERT_EQ(children.size(), kept.size());
  for (std::size_t k = 0; k < kept.size(); ++k) {
    EXPECT_EQ(children[k].id, "w" + std::to_string(kept[k]));
    EXPECT_EQ(children[k].pid, pids[kept[k]]);
  }
  // A crash of a kept child is found by its pid: restarted in its place.
  const int victim = kept[kept.size() / 2];
  exit_child(me, pids[victim], otp::Reason::other("boom"));
  const otp::Pid again = await_started(me, "w" + std::to_string(victim)).pid;
  EXPECT_NE(again, pids[victim]);
  pids[victim] = again;
  children = me.await(otp::DynamicSupervisor::which_children(sup.pid()));
  ASSERT_EQ(children.size(), kept.size());
  for (std::size_t k = 0; k < kept.size(); ++k) EXPECT_EQ(children[k].pid, pids[kept[k]]);
  EXPECT_TRUE(me.await(otp::DynamicSupervisor::terminate_child(sup.pid(), again)));
  std::erase(kept, victim);
  // Stopping the supervisor stops the rest in reverse start order.
  while (me.receive<Stopped>(0ms)) {
  }
  me.await(otp::stop(sup.pid(), otp::Reason::shutdown()));
  std::reverse(kept.begin(), kept.end());
  for (int k : kept) {
    auto s = me.receive<Stopped>(kWait);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->id, "w" + std::to_string(k));
  }
}

TEST(DynamicSupervisor, RefusesChildrenPastMaxChildren) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::DynamicSupervisor::start_link({.max_children = 1}));
  EXPECT_TRUE(me.await(otp::DynamicSupervisor::start_child(sup.pid(), worker("a", me.pid()))).ok());
  auto r = me.await(otp::DynamicSupervisor::start_child(sup.pid(), worker("b", me.pid())));
  EXPECT_EQ(r.reason(), otp::Reason::other("max_children"));
}

TEST(DynamicSupervisor, RestartsAPermanentChildAndForgetsATemporaryOne) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::DynamicSupervisor::start_link());
  auto p = me.await(otp::DynamicSupervisor::start_child(sup.pid(), worker("p", me.pid())));
  auto t = me.await(otp::DynamicSupervisor::start_child(
      sup.pid(), worker("t", me.pid(), otp::Restart::temporary)));
  await_started(me, "p");
  await_started(me, "t");
  exit_child(me, p.pid(), otp::Reason::other("boom"));
  exit_child(me, t.pid(), otp::Reason::other("boom"));
  EXPECT_NE(await_started(me, "p").pid, p.pid());
  auto counts = me.await(otp::DynamicSupervisor::count_children(sup.pid()));
  EXPECT_EQ(counts.specs, 1u);
  EXPECT_EQ(counts.active, 1u);
}

TEST(DynamicSupervisor, ChildWhoseRestartIsIgnoredIsRemoved) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  using enum Outcome;
  auto sup = me.await(otp::DynamicSupervisor::start_link());
  auto d = me.await(
      otp::DynamicSupervisor::start_child(sup.pid(), scripted("d", me.pid(), {ok, ignore})));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(next_attempt(me), "d1");
  exit_child(me, d.pid(), otp::Reason::other("boom"));
  EXPECT_EQ(next_attempt(me), "d2");
  auto counts = me.await(otp::DynamicSupervisor::count_children(sup.pid()));
  EXPECT_EQ(counts.specs, 0u);
  EXPECT_EQ(counts.active, 0u);
  EXPECT_TRUE(me.await(otp::DynamicSupervisor::which_children(sup.pid())).empty());
}

TEST(DynamicSupervisor, ChildStartErrorIsReturned) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::DynamicSupervisor::start_link());
  auto r = me.await(otp::DynamicSupervisor::start_child(
      sup.pid(), worker("x", me.pid(), otp::Restart::permanent, true)));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.reason(), otp::Reason::exception("init failed"));
  EXPECT_TRUE(otp::is_alive(sup.pid()));
}

}  // namespace

namespace {

// supervisor_SUITE's get_childspec case, in spirit: the spec as the supervisor holds it, with
// its shutdown filled in, running or stopped; nothing for an unknown id.
TEST(Supervisor, GetChildspecGivesTheSpecItHolds) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::ChildSpec spec = worker("a", me.pid());
  spec.restart = otp::Restart::transient;
  auto sup = me.await(otp::Supervisor::start_link({spec}));
  ASSERT_TRUE(sup.ok());
  auto got = me.await(otp::Supervisor::get_childspec(sup.pid(), "a"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, "a");
  EXPECT_EQ(got->restart, otp::Restart::transient);
  EXPECT_EQ(got->type, otp::ChildType::worker);
  ASSERT_TRUE(got->shutdown);
  EXPECT_EQ(got->shutdown->kind(), otp::Shutdown::Kind::timeout);
  EXPECT_EQ(got->shutdown->timeout(), std::chrono::seconds(5));
  EXPECT_TRUE(got->start);
  EXPECT_FALSE(me.await(otp::Supervisor::get_childspec(sup.pid(), "b")));
  ASSERT_TRUE(me.await(otp::Supervisor::terminate_child(sup.pid(), "a")));
  EXPECT_TRUE(me.await(otp::Supervisor::get_childspec(sup.pid(), "a"))) << "kept while stopped";
}

TEST(Supervisor, FunctionsTakeANameAsWellAsAPid) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup =
      me.await(otp::Supervisor::start_link(otp::Name::local("sup"), {worker("a", me.pid())}));
  ASSERT_TRUE(sup.ok());
  EXPECT_EQ(me.await(otp::Supervisor::count_children("sup")).active, 1u);
  auto dyn = me.await(otp::DynamicSupervisor::start_link(otp::Name::local("dyn")));
  ASSERT_TRUE(me.await(otp::DynamicSupervisor::start_child("dyn", worker("b", me.pid()))).ok());
  EXPECT_EQ(me.await(otp::DynamicSupervisor::which_children(otp::Name::local("dyn"))).size(), 1u);
  EXPECT_THROW(me.await(otp::Supervisor::which_children("nobody")), otp::ExitError);
}

}  // namespace

// As Erlang's supervisor: every exit of a permanent child is reported (it is restarted), a
// transient or temporary child's orderly exit is not.
TEST(Supervisor, ReportsEveryExitOfAPermanentChildButOnlyAbnormalOnesOfOthers) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::Supervisor::start_link(
      {worker("p", me.pid()), worker("t", me.pid(), otp::Restart::transient),
       worker("q", me.pid(), otp::Restart::temporary)}));
  const otp::Pid p = await_started(me, "p").pid;
  const otp::Pid t = await_started(me, "t").pid;
  const otp::Pid q = await_started(me, "q").pid;
  exit_child(me, t, otp::Reason::shutdown("idle"));
  exit_child(me, q, otp::Reason::normal());
  exit_child(me, p, otp::Reason::normal());
  await_started(me, "p");
  ASSERT_EQ(logs.count(otp::LogRecord::Kind::supervisor_report), 1u);
  EXPECT_TRUE(logs.contains("child_terminated of child p"));
  EXPECT_TRUE(logs.contains("reason: normal"));
}

// The exit that is one restart too many is reported with what happens: the supervisor shuts
// down. Each exit before it is restarted and says so; a report that said "restarting" for the
// last one told the reader something that did not happen.
TEST(Supervisor, TheExitPastTheIntensityIsReportedAsShuttingDownNotRestarting) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::Supervisor::start_link({worker("w", me.pid())},
                                                  {.max_restarts = 1, .max_seconds = 3600s}));
  auto ref = me.monitor(sup.pid());
  exit_child(me, await_started(me, "w").pid, otp::Reason::other("boom"));
  exit_child(me, await_started(me, "w").pid, otp::Reason::other("boom"));
  ASSERT_TRUE(otp_test::await_down(me, ref));
  std::string all;
  for (const auto& record : logs.records()) all += record.text + "\n";
  const auto first = all.find("child_terminated of child w");
  ASSERT_NE(first, std::string::npos) << all;
  const auto second = all.find("child_terminated of child w", first + 1);
  ASSERT_NE(second, std::string::npos) << all;
  EXPECT_NE(all.substr(first, second - first).find("action: restarting"), std::string::npos) << all;
  const auto last = all.find("reached_max_restart_intensity", second);
  ASSERT_NE(last, std::string::npos) << all;
  EXPECT_NE(all.substr(second, last - second).find("action: shutting down"), std::string::npos)
      << all;
  EXPECT_EQ(all.substr(second).find("action: restarting"), std::string::npos) << all;
}

// A supervisor names itself the way the tree does, a via name included, and no "<0.0.0>".
TEST(Supervisor, ReportsNameAViaNamedSupervisorAsTheTreeDoes) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  otp::Registry<> registry{otp::Keys::unique, "Users"};
  auto sup = me.await(otp::Supervisor::start_link(otp::Via{&registry, "eric_sup"},
                                                  {worker("w", me.pid())}, {.max_restarts = 0}));
  auto ref = me.monitor(sup.pid());
  exit_child(me, await_started(me, "w").pid, otp::Reason::other("boom"));
  ASSERT_TRUE(otp_test::await_down(me, ref));
  EXPECT_TRUE(logs.contains(
      fmt::format("supervisor {} eric_sup: child_terminated of child w (", sup.pid())));
  EXPECT_TRUE(logs.contains(fmt::format(
      "supervisor {} eric_sup: reached_max_restart_intensity of child w\n", sup.pid())));
  EXPECT_FALSE(logs.contains("<0.0.0>"));
}

namespace {

// Ported in spirit from supervisor_SUITE's sup_flags checks and Elixir's DynamicSupervisorTest
// ("init/1" with invalid options): an intensity below 0 or a period not above 0 is refused, and
// no child starts.
TEST(Supervisor, RefusesAnInvalidIntensityOrPeriod) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto bad_intensity =
      me.await(otp::Supervisor::start_link({worker("a", me.pid())}, {.max_restarts = -1}));
  ASSERT_FALSE(bad_intensity.ok());
  EXPECT_EQ(bad_intensity.reason(),
            otp::Reason::other("{supervisor_data, {invalid_intensity, -1}}"));
  auto bad_period = me.await(
      otp::Supervisor::start_link({worker("a", me.pid())}, {.max_seconds = otp::Duration::zero()}));
  ASSERT_FALSE(bad_period.ok());
  EXPECT_EQ(bad_period.reason(), otp::Reason::other("{supervisor_data, {invalid_period, 0}}"));
  EXPECT_FALSE(me.receive<Started>(0ms).has_value());
}

TEST(DynamicSupervisor, RefusesAnInvalidIntensityOrPeriod) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto bad_intensity = me.await(otp::DynamicSupervisor::start_link({.max_restarts = -1}));
  ASSERT_FALSE(bad_intensity.ok());
  EXPECT_EQ(bad_intensity.reason(),
            otp::Reason::other("{supervisor_data, {invalid_intensity, -1}}"));
  auto bad_period = me.await(otp::DynamicSupervisor::start_link({.max_seconds = -1s}));
  ASSERT_FALSE(bad_period.ok());
  EXPECT_EQ(bad_period.reason(), otp::Reason::other("{supervisor_data, {invalid_period, -1}}"));
}

// Ported in spirit from supervisor_SUITE's duplicate child id check (check_startspec): two
// children with one id are refused before either starts.
TEST(Supervisor, RefusesDuplicateChildIds) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::Supervisor::start_link(
      {worker("a", me.pid()), worker("b", me.pid()), worker("a", me.pid())}));
  ASSERT_FALSE(sup.ok());
  EXPECT_EQ(sup.reason(), otp::Reason::other("{start_spec, {duplicate_child_name, a}}"));
  EXPECT_FALSE(me.receive<Started>(0ms).has_value());
}

// As Elixir's DynamicSupervisor, which keeps a child whose restart waits for a retry under the
// pid it had: terminate_child finds it, forgets it, and the retries stop.
TEST(DynamicSupervisor, TerminateChildStopsTheRetriesOfAChildBeingRestarted) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  using enum Outcome;
  auto sup = me.await(otp::DynamicSupervisor::start_link({.max_restarts = 1'000'000}));
  std::vector<Outcome> outcomes(10'000, fail);
  outcomes.front() = ok;
  auto d =
      me.await(otp::DynamicSupervisor::start_child(sup.pid(), scripted("d", me.pid(), outcomes)));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(next_attempt(me), "d1");
  exit_child(me, d.pid(), otp::Reason::other("boom"));
  EXPECT_EQ(next_attempt(me), "d2");  // failed: a retry is on its way
  EXPECT_TRUE(me.await(otp::DynamicSupervisor::terminate_child(sup.pid(), d.pid())));
  while (me.receive<Attempt>(0ms)) {
  }
  // Whatever retry was queued before the terminate has been handled by now.
  auto counts = me.await(otp::DynamicSupervisor::count_children(sup.pid()));
  EXPECT_EQ(counts.specs, 0u);
  EXPECT_FALSE(me.receive<Attempt>(0ms).has_value());
  EXPECT_TRUE(otp::is_alive(sup.pid()));
}

}  // namespace

namespace {

// Significant children and auto_shutdown (OTP 24).

otp::ChildSpec significant(otp::ChildSpec spec) {
  spec.significant = true;
  return spec;
}

// The supervisor answers (so it has handled every exit sent to it before this) and still runs.
bool still_supervising(otp::Scoped& me, otp::Pid sup) {
  me.await(otp::Supervisor::which_children(sup));
  return otp::is_alive(sup);
}

// Ported in spirit from supervisor_SUITE:significant_temporary. A temporary significant child
// that the supervisor stops does not shut it down; one that ends by itself, normally or not,
// does, with reason shutdown, and the other children are stopped.
TEST(Supervisor, TemporarySignificantChildEndingByItselfShutsTheSupervisorDown) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  for (const otp::Reason& why : {otp::Reason::normal(), otp::Reason::other("boom")}) {
    auto sup = me.await(otp::Supervisor::start_link(
        {significant(worker("a", me.pid(), otp::Restart::temporary)),
         significant(worker("b", me.pid(), otp::Restart::temporary)),
         worker("c", me.pid(), otp::Restart::temporary, false, true)},
        {.max_restarts = 5, .auto_shutdown = otp::AutoShutdown::any_significant}));
    ASSERT_TRUE(sup.ok()) << sup.to_string();
    auto ref = me.monitor(sup.pid());
    await_started(me, "a");
    const otp::Pid b = await_started(me, "b").pid;
    await_started(me, "c");
    EXPECT_TRUE(me.await(otp::Supervisor::terminate_child(sup.pid(), "a")));
    EXPECT_TRUE(still_supervising(me, sup.pid()));
    exit_child(me, b, why);
    auto down = otp_test::await_down(me, ref);
    ASSERT_TRUE(down) << why.to_string();
    EXPECT_EQ(down->reason, otp::Reason::shutdown());
    auto stopped = me.receive<Stopped>([](const Stopped& s) { return s.id == "c"; }, kWait);
    ASSERT_TRUE(stopped);
    EXPECT_EQ(stopped->reason, otp::Reason::shutdown());
  }
}

// Ported in spirit from supervisor_SUITE:significant_transient. A transient significant child
// that crashes is restarted; one that ends normally shuts the supervisor down.
TEST(Supervisor, TransientSignificantChildShutsTheSupervisorDownOnlyWhenItEndsNormally) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::Supervisor::start_link(
      {significant(worker("t", me.pid(), otp::Restart::transient)), worker("p", me.pid())},
      {.max_restarts = 5, .auto_shutdown = otp::AutoShutdown::any_significant}));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  auto ref = me.monitor(sup.pid());
  const otp::Pid t1 = await_started(me, "t").pid;
  exit_child(me, t1, otp::Reason::other("boom"));
  const otp::Pid t2 = await_started(me, "t").pid;
  EXPECT_NE(t1, t2);
  EXPECT_TRUE(still_supervising(me, sup.pid()));
  exit_child(me, t2, otp::Reason::normal());
  auto down = otp_test::await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
}

// Ported in spirit from supervisor_SUITE:significant_temporary (its all_significant half): the
// supervisor goes when the last running significant child has ended, not before.
TEST(Supervisor, AllSignificantShutsDownWhenTheLastSignificantChildEnds) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::Supervisor::start_link(
      {significant(worker("a", me.pid(), otp::Restart::transient)),
       significant(worker("b", me.pid(), otp::Restart::temporary)), worker("c", me.pid())},
      {.max_restarts = 5, .auto_shutdown = otp::AutoShutdown::all_significant}));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  auto ref = me.monitor(sup.pid());
  const otp::Pid a = await_started(me, "a").pid;
  const otp::Pid b = await_started(me, "b").pid;
  await_started(me, "c");
  exit_child(me, a, otp::Reason::normal());
  EXPECT_TRUE(still_supervising(me, sup.pid()));
  exit_child(me, b, otp::Reason::shutdown());
  auto down = otp_test::await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
}

// Ported in spirit from supervisor_SUITE:significant_bystander: significant children that the
// supervisor stops to restart a sibling (one_for_all) do not shut it down.
TEST(Supervisor, SignificantChildrenStoppedForASiblingsRestartDoNotShutItDown) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(
      otp::Supervisor::start_link({significant(worker("a", me.pid(), otp::Restart::transient)),
                                   worker("b", me.pid(), otp::Restart::transient),
                                   significant(worker("c", me.pid(), otp::Restart::transient))},
                                  {.strategy = otp::Strategy::one_for_all,
                                   .max_restarts = 5,
                                   .auto_shutdown = otp::AutoShutdown::any_significant}));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  const otp::Pid a = await_started(me, "a").pid;
  const otp::Pid b = await_started(me, "b").pid;
  await_started(me, "c");
  exit_child(me, b, otp::Reason::other("boom"));
  EXPECT_NE(await_started(me, "a").pid, a);
  await_started(me, "b");
  await_started(me, "c");
  EXPECT_TRUE(still_supervising(me, sup.pid()));
}

// Ported in spirit from supervisor_SUITE:significant_escalation: an inner supervisor shut down
// by its significant child is itself a significant child, and shuts the outer one down.
TEST(Supervisor, AnAutoShutdownEscalatesThroughASignificantChildSupervisor) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  const otp::Pid observer = me.pid();
  otp::ChildSpec inner{.id = "inner",
                       .start =
                           [observer] {
                             return otp::Supervisor::start_link(
                                 {significant(worker("w", observer, otp::Restart::transient))},
                                 {.auto_shutdown = otp::AutoShutdown::any_significant});
                           },
                       .restart = otp::Restart::transient,
                       .type = otp::ChildType::supervisor,
                       .significant = true};
  auto outer = me.await(
      otp::Supervisor::start_link({inner}, {.auto_shutdown = otp::AutoShutdown::any_significant}));
  ASSERT_TRUE(outer.ok()) << outer.to_string();
  auto ref = me.monitor(outer.pid());
  exit_child(me, await_started(me, "w").pid, otp::Reason::normal());
  auto down = otp_test::await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
}

// Ported in spirit from supervisor_SUITE's child spec checks (validSignificant): a significant
// child is refused under auto_shutdown never, and when it is permanent.
TEST(Supervisor, RefusesASignificantChildThatIsPermanentOrWithoutAutoShutdown) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto never = me.await(
      otp::Supervisor::start_link({significant(worker("a", me.pid(), otp::Restart::temporary))}));
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(never.reason(),
            otp::Reason::other(
                "{start_spec, {bad_combination, [{auto_shutdown, never}, {significant, true}]}}"));
  auto permanent = me.await(otp::Supervisor::start_link(
      {significant(worker("a", me.pid()))}, {.auto_shutdown = otp::AutoShutdown::any_significant}));
  ASSERT_FALSE(permanent.ok());
  EXPECT_EQ(permanent.reason(),
            otp::Reason::other(
                "{start_spec, {bad_combination, [{restart, permanent}, {significant, true}]}}"));
  EXPECT_FALSE(me.receive<Started>(0ms).has_value());

  auto sup = me.await(
      otp::Supervisor::start_link({}, {.auto_shutdown = otp::AutoShutdown::all_significant}));
  ASSERT_TRUE(sup.ok());
  auto added =
      me.await(otp::Supervisor::start_child(sup.pid(), significant(worker("p", me.pid()))));
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.reason(),
            otp::Reason::other("{bad_combination, [{restart, permanent}, {significant, true}]}"));
  auto plain = me.await(otp::Supervisor::start_link({}));
  ASSERT_TRUE(plain.ok());
  added = me.await(otp::Supervisor::start_child(
      plain.pid(), significant(worker("t", me.pid(), otp::Restart::transient))));
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.reason(),
            otp::Reason::other("{bad_combination, [{auto_shutdown, never}, {significant, true}]}"));
  EXPECT_FALSE(me.receive<Started>(0ms).has_value());
  auto spec = me.await(otp::Supervisor::get_childspec(sup.pid(), "p"));
  EXPECT_FALSE(spec.has_value());
}

// Ported in spirit from Elixir's DynamicSupervisorTest ("start_link/3 with non-ok init" and
// "start_child/2 with invalid child spec"): a DynamicSupervisor has no auto_shutdown and takes
// no significant child.
TEST(DynamicSupervisor, RefusesAutoShutdownAndSignificantChildren) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto bad = me.await(
      otp::DynamicSupervisor::start_link({.auto_shutdown = otp::AutoShutdown::any_significant}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.reason(),
            otp::Reason::other("{supervisor_data, {invalid_auto_shutdown, any_significant}}"));
  auto sup = me.await(otp::DynamicSupervisor::start_link());
  ASSERT_TRUE(sup.ok());
  auto r = me.await(otp::DynamicSupervisor::start_child(
      sup.pid(), significant(worker("t", me.pid(), otp::Restart::temporary))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason(), otp::Reason::other("{invalid_significant, true}"));
  EXPECT_FALSE(me.receive<Started>(0ms).has_value());
}

// get_childspec gives the significant flag back (supervisor_SUITE:sup_start_map, in spirit).
TEST(Supervisor, GetChildspecKeepsTheSignificantFlag) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::Supervisor::start_link(
      {significant(worker("s", me.pid(), otp::Restart::transient)), worker("n", me.pid())},
      {.auto_shutdown = otp::AutoShutdown::any_significant}));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  auto s = me.await(otp::Supervisor::get_childspec(sup.pid(), "s"));
  auto n = me.await(otp::Supervisor::get_childspec(sup.pid(), "n"));
  ASSERT_TRUE(s && n);
  EXPECT_TRUE(s->significant);
  EXPECT_FALSE(n->significant);
}

}  // namespace

namespace {

// A supervisor whose init function runs in the new process.

struct InitRanIn {
  otp::Pid pid;
};

// A reusable supervisor that declines to start when it is not enabled.
struct MaybeSupervisor : otp::Supervisor {
  static inline const std::string child_id = "maybe";
  static otp::Start start_link(bool enabled, otp::Pid observer) {
    return Supervisor::start_link([=]() -> otp::SupSpec {
      otp::send(observer, InitRanIn{otp::self()});
      if (!enabled) ignore();
      return {{worker("inside", observer)}, {.strategy = otp::Strategy::one_for_all}};
    });
  }
};

// Ported in spirit from supervisor_SUITE:sup_start_normal and sup_start_ignore_init: the init
// function runs in the supervisor it starts; when it calls ignore(), the start returns ignore,
// the name is free again and the process ends normally, with no child started.
TEST(Supervisor, InitFunctionRunsInTheSupervisorAndMayIgnoreTheStart) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(MaybeSupervisor::start_link(true, me.pid()));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  auto ran = me.receive<InitRanIn>(kWait);
  ASSERT_TRUE(ran);
  EXPECT_EQ(ran->pid, sup.pid());
  EXPECT_EQ(await_started(me, "inside").pid, child_pid(me, sup.pid(), "inside"));

  const otp::Pid observer = me.pid();
  auto ignored = me.await(
      otp::Supervisor::start_link(otp::Name::local("declines"), [observer]() -> otp::SupSpec {
        otp::send(observer, InitRanIn{otp::self()});
        otp::Supervisor::ignore();
      }));
  EXPECT_EQ(ignored.kind(), otp::StartResult::Kind::ignore) << ignored.to_string();
  ran = me.receive<InitRanIn>(kWait);
  ASSERT_TRUE(ran);
  auto exited =
      me.receive<otp::Exit>([&](const otp::Exit& e) { return e.from == ran->pid; }, kWait);
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->reason, otp::Reason::normal());
  EXPECT_FALSE(otp::whereis("declines").has_value());
  EXPECT_FALSE(me.receive<Started>(0ms).has_value());
  EXPECT_FALSE(logs.contains("crash"));
}

// Ported in spirit from supervisor_SUITE:sup_start_fail: an init function that throws fails the
// start with the exception as the reason.
TEST(Supervisor, InitFunctionThatThrowsFailsTheStart) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto r = me.await(
      otp::Supervisor::start_link([]() -> otp::SupSpec { throw std::runtime_error("no config"); }));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason(), otp::Reason::exception("no config"));
}

// Ported in spirit from supervisor_SUITE:sup_start_ignore_child: a child supervisor whose init
// ignores the start is kept by its parent as a child that is not running, and can be started
// later with restart_child.
TEST(Supervisor, ChildSupervisorWhoseInitIgnoresIsKeptWithoutAProcess) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto top = me.await(otp::Supervisor::start_link(
      {otp::child<MaybeSupervisor>(false, me.pid()), worker("w", me.pid())}));
  ASSERT_TRUE(top.ok()) << top.to_string();
  auto children = me.await(otp::Supervisor::which_children(top.pid()));
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].id, "maybe");
  EXPECT_FALSE(children[0].pid);
  EXPECT_EQ(children[0].type, otp::ChildType::supervisor);
  EXPECT_TRUE(children[1].pid);
  auto counts = me.await(otp::Supervisor::count_children(top.pid()));
  EXPECT_EQ(counts.specs, 2u);
  EXPECT_EQ(counts.active, 1u);
  EXPECT_EQ(counts.supervisors, 1u);
  EXPECT_EQ(counts.workers, 1u);
  // Its start is ignored again: still kept, still not running.
  auto again = me.await(otp::Supervisor::restart_child(top.pid(), "maybe"));
  EXPECT_EQ(again.kind(), otp::StartResult::Kind::ignore) << again.to_string();
  EXPECT_FALSE(child_pid(me, top.pid(), "maybe"));
  EXPECT_EQ(me.await(otp::Supervisor::count_children(top.pid())).specs, 2u);
}

// Ported in spirit from Elixir's DynamicSupervisorTest ("start_link/3 with non-ok init"): a
// DynamicSupervisor's init function gives its flags, or ignores the start.
TEST(DynamicSupervisor, InitFunctionGivesTheFlagsOrIgnoresTheStart) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto ignored = me.await(otp::DynamicSupervisor::start_link(
      []() -> otp::SupFlags { otp::DynamicSupervisor::ignore(); }));
  EXPECT_EQ(ignored.kind(), otp::StartResult::Kind::ignore) << ignored.to_string();
  auto sup = me.await(
      otp::DynamicSupervisor::start_link([]() -> otp::SupFlags { return {.max_children = 1}; }));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  EXPECT_TRUE(me.await(otp::DynamicSupervisor::start_child(sup.pid(), worker("a", me.pid()))).ok());
  auto full = me.await(otp::DynamicSupervisor::start_child(sup.pid(), worker("b", me.pid())));
  EXPECT_EQ(full.reason(), otp::Reason::other("max_children"));
}

}  // namespace

namespace {

// DynamicSupervisor's extra arguments.

struct Pool {
  otp::Pid observer;
};

// A connection whose start takes the pool and a port from its supervisor, then its own name.
struct Conn : otp::GenServer<Conn, std::string> {
  static constexpr otp::Restart restart = otp::Restart::transient;
  static otp::Start start_link(const Pool* pool, int port, const std::string& name) {
    return GenServer::start_link(pool->observer, port, name);
  }
  std::string init(otp::Pid observer, int port, const std::string& name) {
    otp::send(observer, Started{name + ":" + std::to_string(port), otp::self()});
    return name;
  }
  void handle_cast(const Worker::ExitWith& e) { stop(e.reason); }
};

// Ported in spirit from Elixir's DynamicSupervisorTest ("start_child/2 supports extra
// arguments" and "restarting a child with extra_arguments successfully restarts child"): the
// supervisor's extra arguments come first in every start, restarts included.
TEST(DynamicSupervisor, ExtraArgumentsComeBeforeEachChildsOwnInEveryStart) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  Pool pool{me.pid()};
  auto sup = me.await(otp::DynamicSupervisor::start_link(
      {.extra_arguments = otp::extra_arguments(static_cast<const Pool*>(&pool), 6379)}));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  auto a = me.await(otp::DynamicSupervisor::start_child(
      sup.pid(), otp::child_with_extra<Conn, const Pool*, int>(std::string("a"))));
  ASSERT_TRUE(a.ok()) << a.to_string();
  EXPECT_EQ(await_started(me, "a:6379").pid, a.pid());
  auto b = me.await(otp::DynamicSupervisor::start_child(
      sup.pid(), otp::child_with_extra<Conn, const Pool*, int>(std::string("b"))));
  ASSERT_TRUE(b.ok()) << b.to_string();
  await_started(me, "b:6379");
  auto ref = me.monitor(a.pid());
  Conn::cast(a.pid(), Worker::ExitWith{otp::Reason::other("oops")});
  ASSERT_TRUE(otp_test::await_down(me, ref));
  EXPECT_NE(await_started(me, "a:6379").pid, a.pid());
  auto counts = me.await(otp::DynamicSupervisor::count_children(sup.pid()));
  EXPECT_EQ(counts.active, 2u);
}

// Extra arguments of other types than the child's spec expects fail its start with a reason
// that names both; a child that takes none is refused by a supervisor that has some; a
// Supervisor has none.
TEST(DynamicSupervisor, ExtraArgumentsOfTheWrongTypesFailTheStartClearly) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  Pool pool{me.pid()};
  auto sup = me.await(
      otp::DynamicSupervisor::start_link({.extra_arguments = otp::extra_arguments(
                                              static_cast<const Pool*>(&pool), std::string("x"))}));
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  auto wrong = me.await(otp::DynamicSupervisor::start_child(
      sup.pid(), otp::child_with_extra<Conn, const Pool*, int>(std::string("a"))));
  ASSERT_FALSE(wrong.ok());
  const std::string why = wrong.reason().to_string();
  EXPECT_NE(why.find("{bad_extra_arguments, {expected, ("), std::string::npos) << why;
  EXPECT_NE(why.find("Pool*, int)}, {given, ("), std::string::npos) << why;
  EXPECT_NE(why.find("Pool*, std::string)}}"), std::string::npos) << why;
  auto plain = me.await(otp::DynamicSupervisor::start_child(sup.pid(), worker("w", me.pid())));
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.reason().to_string().find("extra_arguments_not_taken, w"), std::string::npos)
      << plain.reason().to_string();
  EXPECT_FALSE(me.receive<Started>(0ms).has_value());
  EXPECT_EQ(me.await(otp::DynamicSupervisor::count_children(sup.pid())).specs, 0u);

  auto none = me.await(otp::DynamicSupervisor::start_link());
  auto missing = me.await(otp::DynamicSupervisor::start_child(
      none.pid(), otp::child_with_extra<Conn, const Pool*, int>(std::string("a"))));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.reason().to_string().find("{given, ()}"), std::string::npos)
      << missing.reason().to_string();

  auto fixed =
      me.await(otp::Supervisor::start_link({}, {.extra_arguments = otp::extra_arguments(1)}));
  ASSERT_FALSE(fixed.ok());
  EXPECT_EQ(fixed.reason(),
            otp::Reason::other("{supervisor_data, {invalid_extra_arguments, (int)}}"));
}

}  // namespace
