// Task (async, await, yield, shutdown, async_stream) and TaskSupervisor.
#include "otp/task.hpp"

#include <algorithm>
#include <atomic>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using otp_test::await_down;
using otp_test::Go;
using otp_test::kWait;
using otp_test::Never;

struct Done {};
struct Caught {
  otp::Reason reason;
};

TEST(Task, AwaitReturnsTheTasksValue) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto t = otp::Task<int>::async([]() -> otp::Co<int> { co_return 42; });
  EXPECT_EQ(me.await(t.await()), 42);
  EXPECT_EQ(t.owner(), me.pid());
}

TEST(Task, PlainFunctionsAndVoidTasksWork) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  std::string word = "tasks";
  auto size = otp::Task<std::size_t>::async([word] { return word.size(); });
  EXPECT_EQ(me.await(size.await()), 5u);
  std::atomic<bool> ran{false};
  auto nothing = otp::Task<void>::async([&ran] { ran = true; });
  me.await(nothing.await());
  EXPECT_TRUE(ran);
}

TEST(Task, AwaitOfACrashedTaskExitsWithItsReason) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);  // traps exits: the link brings an Exit message, not death
  otp::LogCapture logs;
  auto t = otp::Task<int>::async([]() -> int { throw std::runtime_error("boom"); });
  try {
    me.await(t.await());
    FAIL() << "await returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::exception("boom"));
    EXPECT_EQ(std::string(e.what()).rfind("** (exit) exited in: Task.await(%Task{", 0), 0u)
        << e.what();
  }
  auto exit = me.receive<otp::Exit>(kWait);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->from, t.pid());
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::crash_report), 1u);
}

TEST(Task, CrashTakesDownAnOwnerThatDoesNotTrapExits) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto [owner, ref] = otp_test::spawn_monitored(me, []() -> otp::Co<void> {
    auto t = otp::Task<int>::async([]() -> int { otp::exit(otp::Reason::other("boom")); });
    co_await t.await();
  });
  auto down = await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::other("boom"));
}

TEST(Task, AwaitTimesOutWithAnExit) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto t = otp::Task<int>::async([]() -> otp::Co<int> {
    co_await otp::receive<Never>();
    co_return 0;
  });
  try {
    me.await(t.await(20ms));
    FAIL() << "await returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::timeout());
    std::string what = e.what();
    EXPECT_NE(what.find("Task.await("), std::string::npos) << what;
    EXPECT_NE(what.find("** (EXIT) time out"), std::string::npos) << what;
  }
}

TEST(Task, YieldGivesNulloptThenTheValue) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto t = otp::Task<int>::async([]() -> otp::Co<int> {
    co_await otp::receive<Go>();
    co_return 7;
  });
  EXPECT_EQ(me.await(t.yield(10ms)), std::nullopt);
  EXPECT_TRUE(otp::is_alive(t.pid())) << "yield must leave the task running";
  otp::send(t.pid(), Go{});
  EXPECT_EQ(me.await(t.yield(kWait)), 7);
}

TEST(Task, ShutdownStopsARunningTask) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto t = otp::Task<int>::async([]() -> otp::Co<int> {
    co_await otp::receive<Never>();
    co_return 0;
  });
  otp::Ref watch = me.monitor(t.pid());
  EXPECT_EQ(me.await(t.shutdown()), std::nullopt);
  auto down = await_down(me, watch);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
  EXPECT_FALSE(me.receive<otp::Exit>(0ms)) << "shutdown unlinks the task first";
}

TEST(Task, ShutdownReturnsAReplyThatHadArrived) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto t = otp::Task<int>::async([] { return 3; });
  otp::Ref watch = me.monitor(t.pid());
  ASSERT_TRUE(await_down(me, watch));  // the reply came before this Down
  EXPECT_EQ(me.await(t.shutdown()), 3);
}

TEST(Task, BrutalKillShutdownKillsATaskThatTrapsExits) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto t = otp::Task<int>::async([]() -> otp::Co<int> {
    otp::trap_exit(true);
    co_await otp::receive<Never>();
    co_return 0;
  });
  otp::Ref watch = me.monitor(t.pid());
  EXPECT_EQ(me.await(t.shutdown(otp::brutal_kill)), std::nullopt);
  auto down = await_down(me, watch);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::killed());
}

// What is left in the mailbox once `pid` is killed and seen to end: a Down of a monitor that
// await_many or yield_many should have given up would come before our own.
bool stray_down_after_killing(otp::Scoped& me, const otp::Pid& pid) {
  const otp::Ref watch = me.monitor(pid);
  otp::exit(pid, otp::Reason::kill());
  if (!await_down(me, watch)) return true;
  return me.receive<otp::Down>(0ms).has_value();
}

otp::Task<int> waiting_task(int value) {
  return otp::Task<int>::async([value]() -> otp::Co<int> {
    co_await otp::receive<Go>();
    co_return value;
  });
}

TEST(Task, AwaitManyGivesTheValuesInTheTasksOrder) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  std::vector<otp::Task<int>> tasks{waiting_task(0), waiting_task(10), waiting_task(20)};
  std::vector<otp::Ref> watches;
  watches.reserve(tasks.size());
  for (const auto& t : tasks) watches.push_back(me.monitor(t.pid()));
  for (int i = 2; i >= 0; --i) otp::send(tasks[i].pid(), Go{});  // the last one first
  EXPECT_EQ(me.await(otp::await_many(tasks)), (std::vector<int>{0, 10, 20}));
  for (const otp::Ref& w : watches) ASSERT_TRUE(await_down(me, w));
  EXPECT_FALSE(me.receive<otp::Down>(0ms)) << "each task's monitor goes with its reply";
}

// Not one after the other: a task that exits ends the wait at once, whatever comes before it.
TEST(Task, AwaitManyExitsWithTheFirstTaskToExitAndGivesUpTheOthers) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto slow = waiting_task(1);
  auto crash = otp::Task<int>::async([]() -> int { throw std::runtime_error("boom"); });
  try {
    me.await(otp::await_many(std::vector{slow, crash}, otp::infinity));
    FAIL() << "await_many returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::exception("boom"));
    EXPECT_EQ(std::string(e.what()).rfind("** (exit) exited in: Task.await_many([%Task{", 0), 0u)
        << e.what();
  }
  EXPECT_FALSE(stray_down_after_killing(me, slow.pid()));
}

TEST(Task, AwaitManyTimesOutOnceForAllAndGivesUpEveryTask) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  std::vector<otp::Task<int>> tasks{waiting_task(1), waiting_task(2)};
  try {
    me.await(otp::await_many(tasks, 20ms));
    FAIL() << "await_many returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::timeout());
    EXPECT_NE(std::string(e.what()).find("Task.await_many(["), std::string::npos) << e.what();
  }
  for (const auto& t : tasks) EXPECT_FALSE(stray_down_after_killing(me, t.pid()));
}

// Elixir's Task.yield_many: per task {:ok, value}, {:exit, reason} or nil, in the tasks' order.
TEST(Task, YieldManyGivesEachTasksValueExitOrNothingYet) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto quick = otp::Task<int>::async([] { return 1; });
  auto crash = otp::Task<int>::async([]() -> int { throw std::runtime_error("boom"); });
  auto slow = waiting_task(3);
  auto got = me.await(otp::yield_many(std::vector{quick, crash, slow}, 100ms));
  ASSERT_EQ(got.size(), 3u);
  ASSERT_TRUE(got[0] && got[0]->ok());
  EXPECT_EQ(got[0]->value(), 1);
  ASSERT_TRUE(got[1]);
  EXPECT_FALSE(got[1]->ok());
  EXPECT_EQ(got[1]->reason(), otp::Reason::exception("boom"));
  EXPECT_FALSE(got[2]) << "still running";
  otp::send(slow.pid(), Go{});  // it was not given up: awaiting it still works
  EXPECT_EQ(me.await(slow.await()), 3);
}

// Elixir's Task.start_link/1, as a supervisor's child: run for what it does, restarted on a crash.
TEST(Task, StartLinkRunsTheFunctionAsASupervisedChild) {
  std::atomic<int> runs{0};
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  const otp::Pid to = me.pid();
  otp::ChildSpec warmer{.id = "warmer",
                        .start =
                            [to, &runs] {
                              return otp::Task<>::start_link([to, &runs]() -> otp::Co<void> {
                                otp::send(to, Done{});
                                if (runs.fetch_add(1) == 0) throw std::runtime_error("cold");
                                co_await otp::receive<Never>();
                              });
                            },
                        .restart = otp::Restart::transient};
  auto sup = me.await(otp::Supervisor::start_link({warmer}));
  ASSERT_TRUE(sup.ok());
  ASSERT_TRUE(me.receive<Done>(kWait));
  ASSERT_TRUE(me.receive<Done>(kWait)) << "the crashed task was started again";
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::crash_report), 1u);
  auto started = me.await(otp::Task<>::start([to] { otp::send(to, Done{}); }));
  ASSERT_TRUE(started.ok());
  EXPECT_TRUE(me.receive<Done>(kWait));
}

TEST(Task, AwaitFromAnotherProcessThanTheOwnerIsAnError) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto t = otp::Task<int>::async([] { return 1; });
  auto [other, ref] = otp_test::spawn_monitored(me, [t]() -> otp::Co<void> { co_await t.await(); });
  auto down = await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason.kind(), otp::Reason::Kind::exception);
  EXPECT_EQ(me.await(t.await()), 1);
}

TEST(Task, AsyncStreamReturnsResultsInTheItemsOrder) {
  otp::Runtime rt({.threads = 4});
  otp::Scoped me(rt);
  std::vector<int> items(20);
  std::iota(items.begin(), items.end(), 0);
  // Later items finish first.
  auto square = [](int x) -> otp::Co<int> {
    co_await otp::sleep(std::chrono::milliseconds(20 - x));
    co_return x* x;
  };
  std::vector<int> out = me.await(otp::async_stream(items, square, {.max_concurrency = 8}));
  std::vector<int> expected;
  expected.reserve(items.size());
  for (int x : items) expected.push_back(x * x);
  EXPECT_EQ(out, expected);
}

TEST(Task, AsyncStreamRunsAtMostMaxConcurrencyTasksAtOnce) {
  otp::Runtime rt({.threads = 4});
  otp::Scoped me(rt);
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  auto job = [&running, &most](int x) -> otp::Co<int> {
    int now = ++running;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    co_await otp::sleep(1ms);
    --running;
    co_return x + 1;
  };
  std::vector<int> items(40, 1);
  std::vector<int> out = me.await(otp::async_stream(items, job, {.max_concurrency = 3}));
  EXPECT_EQ(out, std::vector<int>(40, 2));
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 1);
  EXPECT_EQ(running.load(), 0);
}

TEST(Task, AsyncStreamExitsWhenATaskTakesTooLong) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto job = [](int x) -> otp::Co<int> {
    if (x == 2) co_await otp::receive<Never>();
    co_return x;
  };
  try {
    me.await(
        otp::async_stream(std::vector<int>{1, 2, 3}, job, {.max_concurrency = 2, .timeout = 30ms}));
    FAIL() << "async_stream returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::timeout());
    EXPECT_NE(std::string(e.what()).find("Task.async_stream("), std::string::npos) << e.what();
  }
}

TEST(TaskSupervisor, AsyncNolinkAwaitGivesTheValue) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::TaskSupervisor::start_link());
  ASSERT_TRUE(sup.ok()) << sup.to_string();
  auto t =
      me.await(otp::TaskSupervisor::async_nolink(sup.pid(), [] { return std::string("done"); }));
  EXPECT_EQ(me.await(t.await()), "done");
}

TEST(TaskSupervisor, AsyncNolinkCrashGivesAnExitErrorAndTheCallerSurvives) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::TaskSupervisor::start_link()).pid();
  const otp::Pid to = me.pid();
  // The caller does not trap exits: were it linked to the task, it would die.
  auto [caller, ref] = otp_test::spawn_monitored(me, [sup, to]() -> otp::Co<void> {
    auto t = co_await otp::TaskSupervisor::async_nolink(
        sup, []() -> int { throw std::runtime_error("bad job"); });
    try {
      co_await t.await();
    } catch (const otp::ExitError& e) {
      otp::send(to, Caught{e.reason});
    }
    co_await otp::receive<Go>();
  });
  auto caught = me.receive<Caught>(kWait);
  ASSERT_TRUE(caught);
  EXPECT_EQ(caught->reason, otp::Reason::exception("bad job"));
  EXPECT_TRUE(otp::is_alive(caller));
  otp::send(caller, Go{});
  auto down = await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::normal());
  EXPECT_TRUE(otp::is_alive(sup))
      << "children are temporary and their crashes do not stop the supervisor";
}

TEST(TaskSupervisor, StartChildRunsTheFunctionAndChildrenListsIt) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::TaskSupervisor::start_link()).pid();
  const otp::Pid to = me.pid();
  auto started = me.await(otp::TaskSupervisor::start_child(sup, [to]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::send(to, Done{});
  }));
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(me.await(otp::TaskSupervisor::children(sup)), std::vector<otp::Pid>{started.pid()});
  otp::Ref watch = me.monitor(started.pid());
  otp::send(started.pid(), Go{});
  EXPECT_TRUE(me.receive<Done>(kWait));
  ASSERT_TRUE(await_down(me, watch));
  // The supervisor hears of the exit through its link, independently of our monitor.
  std::vector<otp::Pid> left{started.pid()};
  for (int i = 0; i < 10000 && !left.empty(); ++i)
    left = me.await(otp::TaskSupervisor::children(sup));
  EXPECT_TRUE(left.empty());
}

TEST(TaskSupervisor, StoppingTheSupervisorShutsDownItsChildren) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::TaskSupervisor::start()).pid();
  auto started = me.await(otp::TaskSupervisor::start_child(
      sup, []() -> otp::Co<void> { co_await otp::receive<Never>(); }));
  otp::Ref watch = me.monitor(started.pid());
  me.await(otp::stop(sup, otp::Reason::shutdown()));
  auto down = await_down(me, watch);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
}

// Elixir's Task.shutdown monitors the task afresh, so a task already awaited answers at once
// (nil) instead of waiting out the shutdown time on a monitor that await removed.
TEST(Task, ShutdownOfAnAwaitedTaskReturnsAtOnce) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  const otp::Pid to = me.pid();
  auto [owner, ref] = otp_test::spawn_monitored(me, [to]() -> otp::Co<void> {
    auto t = otp::Task<int>::async([] { return 7; });
    int v = co_await t.await();
    std::optional<int> after = co_await t.shutdown();
    otp::send(to, Caught{otp::Reason::other(fmt::format("{} {}", v, after ? "value" : "none"))});
  });
  // The bound guards against the old behaviour: 5 s, a kill, then a wait forever.
  auto caught = me.receive<Caught>(kWait);
  ASSERT_TRUE(caught);
  EXPECT_EQ(caught->reason, otp::Reason::other("7 none"));
  ASSERT_TRUE(await_down(me, ref));
}

// In Elixir a Task.Supervisor is a DynamicSupervisor: count_children, which_children and
// terminate_child work on it (Task.SupervisorTest's children/terminate_child cases, in spirit).
TEST(TaskSupervisor, AnswersDynamicSupervisorsRequests) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::TaskSupervisor::start_link()).pid();
  auto started = me.await(otp::TaskSupervisor::start_child(
      sup, []() -> otp::Co<void> { co_await otp::receive<Never>(); }));
  ASSERT_TRUE(started.ok());
  otp::Ref watch = me.monitor(started.pid());
  auto counts = me.await(otp::DynamicSupervisor::count_children(sup));
  EXPECT_EQ(counts.specs, 1u);
  EXPECT_EQ(counts.active, 1u);
  EXPECT_EQ(counts.workers, 1u);
  auto children = me.await(otp::DynamicSupervisor::which_children(sup));
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].pid, started.pid());
  EXPECT_EQ(children[0].restart, otp::Restart::temporary);
  EXPECT_TRUE(otp::is_alive(sup));
  EXPECT_TRUE(otp::is_alive(started.pid()));
  EXPECT_TRUE(me.await(otp::DynamicSupervisor::terminate_child(sup, started.pid())));
  auto down = await_down(me, watch);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
  EXPECT_TRUE(me.await(otp::TaskSupervisor::children(sup)).empty());
  // Task.Supervisor.terminate_child/2 is the same request; a pid that is no task: not found.
  auto another = me.await(otp::TaskSupervisor::start_child(
      sup, []() -> otp::Co<void> { co_await otp::receive<Never>(); }));
  ASSERT_TRUE(another.ok());
  EXPECT_TRUE(me.await(otp::TaskSupervisor::terminate_child(sup, another.pid())));
  EXPECT_TRUE(me.await(otp::TaskSupervisor::children(sup)).empty());
  EXPECT_FALSE(me.await(otp::TaskSupervisor::terminate_child(sup, me.pid())));
}

}  // namespace

namespace {
struct StreamSummary {
  std::vector<otp::StreamResult<int>> results;
};
struct TaskPid {
  otp::Pid pid;
};
// Item 2 crashes; the others wait forever.
otp::Co<int> crash_on_two_else_wait(int x) {
  if (x == 2) throw std::runtime_error("bad item");
  co_await otp::receive<Never>();
  co_return x;
}
// Item 2 crashes; the others give ten times themselves.
int crash_on_two(int x) {
  if (x == 2) throw std::runtime_error("bad item");
  return x * 10;
}
}  // namespace

// In the spirit of Elixir's task/supervisor_test.exs, "async_stream": the tasks are children
// of the supervisor and the results come in the items' order.
TEST(TaskSupervisor, AsyncStreamRunsEachItemAsAChildAndKeepsTheItemsOrder) {
  otp::Runtime rt({.threads = 4});
  otp::Scoped me(rt);
  auto sup = me.await(otp::TaskSupervisor::start_link()).pid();
  auto job = [sup](int x) -> otp::Co<int> {
    co_await otp::sleep(std::chrono::milliseconds(10 - x));  // later items finish first
    auto kids = co_await otp::TaskSupervisor::children(sup);
    co_return std::ranges::find(kids, otp::self()) != kids.end() ? x* x : -1;
  };
  std::vector<int> items(10);
  std::iota(items.begin(), items.end(), 0);
  auto out = me.await(otp::TaskSupervisor::async_stream(sup, items, job, {.max_concurrency = 4}));
  std::vector<int> expected;
  for (int x : items) expected.push_back(x * x);
  EXPECT_EQ(out, expected);
}

// task/supervisor_test.exs, "async_stream" with a failing function: the tasks are linked to
// the caller, so a crash takes it down; the supervisor lives on.
TEST(TaskSupervisor, AsyncStreamCrashTakesTheLinkedCallerDown) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::TaskSupervisor::start_link()).pid();
  auto [caller, ref] = otp_test::spawn_monitored(me, [sup]() -> otp::Co<void> {
    std::vector<int> items(3);
    std::iota(items.begin(), items.end(), 1);
    co_await otp::TaskSupervisor::async_stream(sup, items, &crash_on_two_else_wait);
  });
  auto down = await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::exception("bad item"));
  EXPECT_TRUE(otp::is_alive(sup));
}

// task/supervisor_test.exs, "async_stream_nolink" with exits: a crashed task is an exit
// element, the caller is not linked to it and carries on.
TEST(TaskSupervisor, AsyncStreamNolinkGivesACrashAsAnExitElement) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::TaskSupervisor::start_link()).pid();
  // The caller does not trap exits: were it linked to the crashed task, it would die.
  auto [caller, ref] = otp_test::spawn_monitored(me, [sup, to = me.pid()]() -> otp::Co<void> {
    std::vector<int> items(4);
    std::iota(items.begin(), items.end(), 1);
    auto results = co_await otp::TaskSupervisor::async_stream_nolink(sup, items, &crash_on_two);
    otp::send(to, StreamSummary{std::move(results)});
    co_await otp::receive<Go>();
  });
  auto summary = me.receive<StreamSummary>(kWait);
  ASSERT_TRUE(summary);
  ASSERT_EQ(summary->results.size(), 4u);
  EXPECT_EQ(summary->results[0].value, 10);
  EXPECT_FALSE(summary->results[1].ok());
  EXPECT_EQ(summary->results[1].reason, otp::Reason::exception("bad item"));
  EXPECT_EQ(summary->results[2].value, 30);
  EXPECT_EQ(summary->results[3].value, 40);
  EXPECT_TRUE(otp::is_alive(caller));
  otp::send(caller, Go{});
  auto down = await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::normal());
}

// task_test.exs / supervisor_test.exs, "async_stream ... on_timeout: :kill_task": the late
// task is killed and its element is {exit, timeout}; the others are kept.
TEST(TaskSupervisor, AsyncStreamNolinkKillsALateTaskWhenOnTimeoutIsKillTask) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;  // the killed task's report
  auto sup = me.await(otp::TaskSupervisor::start_link()).pid();
  auto job = [to = me.pid()](int x) -> otp::Co<int> {
    if (x == 2) {
      otp::send(to, TaskPid{otp::self()});
      co_await otp::receive<Never>();
    }
    co_return x;
  };
  auto results = me.await(otp::TaskSupervisor::async_stream_nolink(
      sup, std::vector<int>{1, 2, 3}, job,
      {.timeout = 50ms, .on_timeout = otp::OnTimeout::kill_task}));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].value, 1);
  EXPECT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].reason, otp::Reason::timeout());
  EXPECT_EQ(results[2].value, 3);
  auto late = me.receive<TaskPid>(kWait);
  ASSERT_TRUE(late);
  auto ref = me.monitor(late->pid);
  auto down = await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_NE(down->reason, otp::Reason::normal());
}

// With on_timeout left at exit, a late task fails the whole stream, as in Elixir.
TEST(TaskSupervisor, AsyncStreamNolinkExitsOnATimeoutByDefault) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::TaskSupervisor::start_link()).pid();
  auto job = [](int x) -> otp::Co<int> {
    if (x == 2) co_await otp::receive<Never>();
    co_return x;
  };
  try {
    me.await(otp::TaskSupervisor::async_stream_nolink(sup, std::vector<int>{1, 2, 3}, job,
                                                      {.timeout = 30ms}));
    FAIL() << "async_stream_nolink returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::timeout());
    EXPECT_NE(std::string(e.what()).find("Task.Supervisor.async_stream_nolink("), std::string::npos)
        << e.what();
  }
}

// Elixir's ordered: false: the results as their tasks end. Item 0 ends only after item 1's
// task has exited, so item 1 comes first.
TEST(TaskSupervisor, AsyncStreamUnorderedGivesResultsAsTheyCome) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::TaskSupervisor::start_link()).pid();
  auto job = [](int x) -> otp::Co<int> {
    if (x == 0) {
      otp::register_name("stream_slow", otp::self());
      auto other = co_await otp::receive<TaskPid>();
      auto ref = otp::monitor(other.pid);
      co_await otp::receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
    } else {
      std::optional<otp::Pid> slow;
      while (!(slow = otp::whereis("stream_slow"))) co_await otp::sleep(1ms);
      otp::send(*slow, TaskPid{otp::self()});
    }
    co_return x;
  };
  auto out = me.await(otp::TaskSupervisor::async_stream(sup, std::vector<int>{0, 1}, job,
                                                        {.max_concurrency = 2, .ordered = false}));
  EXPECT_EQ(out, (std::vector<int>{1, 0}));
}

// A supervisor that refuses a child (max_children) fails the stream; the tasks it had started
// are not left running.
TEST(TaskSupervisor, AsyncStreamThatCannotStartATaskKillsTheOthersAndThrows) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto sup = me.await(otp::TaskSupervisor::start_link({}, {.max_children = 1})).pid();
  auto job = [to = me.pid()](int x) -> otp::Co<int> {
    otp::send(to, TaskPid{otp::self()});
    co_await otp::receive<Never>();
    co_return x;
  };
  EXPECT_THROW(me.await(otp::TaskSupervisor::async_stream_nolink(sup, std::vector<int>{1, 2}, job,
                                                                 {.max_concurrency = 2})),
               otp::ExitError);
  auto first = me.receive<TaskPid>(kWait);
  ASSERT_TRUE(first);
  auto down = await_down(me, me.monitor(first->pid));
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::killed());
}
