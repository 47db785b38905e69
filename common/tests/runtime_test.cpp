// otp::Runtime: shutdown, process lifetimes and counts, deterministic mode.
#include <algorithm>
#include <atomic>
#include <memory>
#include <stdexcept>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using otp_test::await_down;
using otp_test::DtorCounter;
using otp_test::Go;
using otp_test::kWait;
using otp_test::Never;

namespace {

struct Ready {};
struct Activity {};
struct TimedOut {
  otp::Duration at;
};
struct Stopping {
  otp::Reason reason;
};

otp::Co<void> hold_in_nested_frame(std::atomic<int>* count) {
  DtorCounter inner{count};
  co_await otp::receive<Never>();
}

TEST(Runtime, ReportsItsOptions) {
  otp::Runtime rt{otp::Options{.threads = 3}};
  EXPECT_EQ(rt.threads(), 3u);
  otp::Runtime det{otp::Options::deterministic()};
  EXPECT_EQ(det.threads(), 1u);
  EXPECT_TRUE(det.deterministic());
  otp::Runtime dflt;
  EXPECT_GE(dflt.threads(), 1u);
}

TEST(Runtime, ShutdownEndsEveryProcessIncludingBlockedAndTrappingOnes) {
  std::atomic<int> destroyed{0};
  otp::Runtime rt{otp::Options{.threads = 2, .shutdown_grace = 100ms}};
  otp::Scoped me{rt};
  const std::size_t baseline = rt.process_count();
  const otp::Pid to = me.pid();
  constexpr int blocked = 20, trapping = 5;
  for (int i = 0; i < blocked; ++i) {
    rt.spawn([to, &destroyed]() -> otp::Co<void> {
      DtorCounter held{&destroyed};
      otp::send(to, Ready{});
      co_await otp::receive<Never>();
    });
  }
  for (int i = 0; i < trapping; ++i) {
    rt.spawn([to, &destroyed]() -> otp::Co<void> {
      otp::trap_exit(true);
      DtorCounter held{&destroyed};
      otp::send(to, Ready{});
      for (;;) (void)co_await otp::receive<otp::Exit>();  // ignores `shutdown`
    });
  }
  for (int i = 0; i < blocked + trapping; ++i) ASSERT_TRUE(me.receive<Ready>(kWait).has_value());
  EXPECT_EQ(rt.process_count(), baseline + blocked + trapping);
  rt.shutdown();
  EXPECT_EQ(destroyed.load(), blocked + trapping);
  EXPECT_EQ(rt.process_count(), baseline);
  rt.shutdown();  // idempotent
}

TEST(Runtime, ShutdownSendsShutdownToTrappingProcessesFirst) {
  otp::Runtime rt{otp::Options{.threads = 2, .shutdown_grace = 2s}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    otp::trap_exit(true);
    otp::send(to, Ready{});
    auto e = co_await otp::receive<otp::Exit>();
    otp::send(to, Stopping{e.reason});  // then ends on its own, well within the grace period
  });
  ASSERT_TRUE(me.receive<Ready>(kWait).has_value());
  rt.shutdown();
  auto s = me.receive<Stopping>(0ms);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->reason, otp::Reason::shutdown());
}

TEST(Runtime, ShutdownStopsLinkedProcessTrees) {
  std::atomic<int> destroyed{0};
  otp::Runtime rt{otp::Options{.threads = 2, .shutdown_grace = 100ms}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to, &destroyed]() -> otp::Co<void> {
    DtorCounter held{&destroyed};
    for (int i = 0; i < 10; ++i) {
      otp::spawn_link([&destroyed]() -> otp::Co<void> {
        DtorCounter child_held{&destroyed};
        co_await otp::receive<Never>();
      });
    }
    otp::send(to, Ready{});
    co_await otp::receive<Never>();
  });
  ASSERT_TRUE(me.receive<Ready>(kWait).has_value());
  rt.shutdown();
  EXPECT_EQ(destroyed.load(), 11);
  EXPECT_EQ(rt.process_count(), 1u);  // just `me`
}

TEST(Runtime, DestructorWithoutExplicitShutdownStopsEverything) {
  std::atomic<int> destroyed{0};
  {
    otp::Runtime rt{otp::Options{.threads = 2, .shutdown_grace = 100ms}};
    otp::Scoped me{rt};
    const otp::Pid to = me.pid();
    for (int i = 0; i < 5; ++i) {
      rt.spawn([to, &destroyed]() -> otp::Co<void> {
        otp::trap_exit(true);
        DtorCounter held{&destroyed};
        otp::send(to, Ready{});
        for (;;) (void)co_await otp::receive<otp::Exit>();
      });
    }
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(me.receive<Ready>(kWait).has_value());
  }
  EXPECT_EQ(destroyed.load(), 5);
}

TEST(Runtime, ObjectsInAProcessFrameAreDestroyedWhenItIsKilled) {
  std::atomic<int> destroyed{0};
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to, &destroyed]() -> otp::Co<void> {
    DtorCounter outer{&destroyed};
    otp::trap_exit(true);
    otp::send(to, Ready{});
    co_await hold_in_nested_frame(&destroyed);
  });
  ASSERT_TRUE(me.receive<Ready>(kWait).has_value());
  otp::Ref ref = me.monitor(pid);
  EXPECT_EQ(destroyed.load(), 0);
  otp::exit(pid, otp::Reason::kill());
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::killed());
  EXPECT_EQ(destroyed.load(), 2);  // both frames, before the Down
}

TEST(Runtime, ObjectsInAProcessFrameAreDestroyedOnNormalExitAndOnCrash) {
  std::atomic<int> destroyed{0};
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto [p1, r1] = otp_test::spawn_monitored(me, [&destroyed]() -> otp::Co<void> {
    DtorCounter held{&destroyed};
    co_return;
  });
  ASSERT_TRUE(await_down(me, r1).has_value());
  EXPECT_EQ(destroyed.load(), 1);
  auto [p2, r2] = otp_test::spawn_monitored(me, [&destroyed]() -> otp::Co<void> {
    DtorCounter held{&destroyed};
    throw std::runtime_error("crash");
    co_return;
  });
  ASSERT_TRUE(await_down(me, r2).has_value());
  EXPECT_EQ(destroyed.load(), 2);
}

TEST(Runtime, ProcessCountFollowsSpawnsAndExits) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  rt.run_until_idle();
  const std::size_t baseline = rt.process_count();
  std::vector<otp::Pid> pids;
  for (int i = 0; i < 3; ++i)
    pids.push_back(rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Go>(); }));
  rt.run_until_idle();
  EXPECT_EQ(rt.process_count(), baseline + 3);
  auto all = rt.processes();
  for (const auto& p : pids) EXPECT_NE(std::find(all.begin(), all.end(), p), all.end());
  EXPECT_NE(std::find(all.begin(), all.end(), me.pid()), all.end());

  otp::send(pids[0], Go{});
  otp::exit(pids[1], otp::Reason::kill());
  rt.run_until_idle();
  EXPECT_EQ(rt.process_count(), baseline + 1);
  all = rt.processes();
  EXPECT_EQ(std::find(all.begin(), all.end(), pids[0]), all.end());
  EXPECT_EQ(std::find(all.begin(), all.end(), pids[1]), all.end());
  EXPECT_NE(std::find(all.begin(), all.end(), pids[2]), all.end());
}

TEST(Runtime, SpawnAfterShutdownThrows) {
  otp::Runtime rt{otp::Options{.threads = 1}};
  rt.shutdown();
  EXPECT_THROW(rt.spawn([]() -> otp::Co<void> { co_return; }), std::logic_error);
}

TEST(Runtime, SeparateRuntimesAreIndependent) {
  otp::Runtime a{otp::Options{.threads = 1}};
  otp::Runtime b{otp::Options{.threads = 1}};
  otp::Scoped me_a{a};
  otp::Pid pa = a.spawn([]() -> otp::Co<void> { co_await otp::receive<Never>(); });
  ASSERT_TRUE(a.register_name("svc", pa));
  EXPECT_FALSE(b.whereis("svc").has_value());
  b.shutdown();
  EXPECT_TRUE(otp::is_alive(pa));
  EXPECT_TRUE(otp::is_alive(me_a.pid()));
}

TEST(Runtime, AdvanceNeedsTheVirtualClock) {
  otp::Runtime rt{otp::Options{.threads = 1}};
  EXPECT_THROW(rt.advance(1s), std::logic_error);
  EXPECT_THROW(rt.run_until_idle(), std::logic_error);
}

TEST(Runtime, VirtualClockMovesOnlyWithAdvance) {
  otp::Runtime rt{otp::Options::deterministic()};
  EXPECT_EQ(rt.now(), otp::Duration(0));
  rt.run_until_idle();
  EXPECT_EQ(rt.now(), otp::Duration(0));
  rt.advance(90s);
  EXPECT_EQ(rt.now(), otp::Duration(90s));
  rt.advance(0s);
  EXPECT_EQ(rt.now(), otp::Duration(90s));
}

TEST(Runtime, VirtualClockWorksOnSeveralThreads) {
  otp::Runtime rt{otp::Options{.threads = 2, .virtual_clock = true}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  constexpr int n = 40;
  for (int i = 0; i < n; ++i) {
    rt.spawn([to]() -> otp::Co<void> {
      // The receive timer lives on the wheel of whichever thread runs this.
      if (!co_await otp::receive<Never>(10s)) otp::send(to, TimedOut{otp::now()});
    });
  }
  rt.advance(10s - 1ms);
  EXPECT_FALSE(me.receive<TimedOut>(0s).has_value());
  rt.advance(1ms);
  for (int i = 0; i < n; ++i) {
    auto t = me.receive<TimedOut>(0s);
    ASSERT_TRUE(t.has_value()) << i;
    EXPECT_EQ(t->at, otp::Duration(10s));
  }
}

TEST(Runtime, FifteenMinuteInactivityTimeoutIsTestedInstantly) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid session = rt.spawn([to, &rt]() -> otp::Co<void> {
    for (;;) {
      auto a = co_await otp::receive<Activity>(15min);
      if (!a) {
        otp::send(to, TimedOut{rt.now()});
        co_return;
      }
    }
  });
  otp::Ref ref = me.monitor(session);
  rt.advance(10min);
  otp::send(session, Activity{});  // resets the inactivity timer
  rt.advance(14min);
  EXPECT_FALSE(me.receive<TimedOut>(0ms).has_value());
  EXPECT_TRUE(otp::is_alive(session));
  rt.advance(1min);
  auto t = me.receive<TimedOut>(0ms);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->at, otp::Duration(25min));
  auto down = me.receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; }, 0ms);
  ASSERT_TRUE(down.has_value());
  EXPECT_TRUE(down->reason.is_normal());
}

TEST(Runtime, DeterministicRunsGiveTheSameOrder) {
  // Same program, same virtual time steps: the same sequence of events.
  auto run_once = [] {
    otp::Runtime rt{otp::Options::deterministic()};
    otp::Scoped me{rt};
    const otp::Pid to = me.pid();
    for (int i = 0; i < 5; ++i) {
      rt.spawn([to, i]() -> otp::Co<void> {
        co_await otp::sleep(std::chrono::milliseconds(100 * (5 - i)));
        otp::send(to, i);
      });
    }
    rt.advance(1s);
    std::vector<int> order;
    while (auto n = me.receive<int>(0ms)) order.push_back(*n);
    return order;
  };
  auto first = run_once();
  EXPECT_EQ(first, (std::vector<int>{4, 3, 2, 1, 0}));
  EXPECT_EQ(run_once(), first);
}

TEST(Runtime, ShutdownFromOneOfItsOwnProcessesIsRefused) {
  // Waiting for every process to stop from inside one of them would wait for itself.
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Runtime* runtime = &rt;
  rt.spawn([to, runtime]() -> otp::Co<void> {
    bool refused = false;
    try {
      runtime->shutdown();
    } catch (const std::logic_error&) {
      refused = true;
    }
    otp::send(to, refused);
    co_return;
  });
  auto refused = me.receive<bool>(kWait);
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(*refused);
}

}  // namespace
