// Links and exit signals, by Erlang's rules.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using otp_test::await_down;
using otp_test::Go;
using otp_test::kWait;
using otp_test::Never;
using otp_test::spawn_monitored;

namespace {

struct Linked {
  otp::Pid partner;
};
struct Ping {
  otp::Pid from;
};
struct Pong {};
struct Trapped {
  otp::Pid from;
  otp::Reason reason;
};
struct Done {};

// A process that answers Pings forever: shows that it is still alive.
otp::Co<void> pinger() {
  for (;;) {
    auto p = co_await otp::receive<Ping>();
    otp::send(p.from, Pong{});
  }
}

// Spawns a process (plain) that spawn_links `child_body`, reports the child's
// pid to `to`, and then does `after_link` (blocking forever by default).
template <class F>
otp::Pid spawn_parent_of(otp::Runtime& rt, otp::Pid to, F child_body, bool trap = false) {
  return rt.spawn([to, child_body, trap]() mutable -> otp::Co<void> {
    if (trap) otp::trap_exit(true);
    otp::Pid child = otp::spawn_link(std::move(child_body));
    otp::send(to, Linked{child});
    for (bool stop = false; !stop;) {
      co_await otp::receive(
          [&](otp::Exit e) {
            if (e.from == child)
              otp::send(to, Trapped{e.from, e.reason});
            else
              stop = true;  // the runtime's shutdown: leave at once
          },
          [](Ping p) { otp::send(p.from, Pong{}); });
    }
  });
}

// A child that waits for Go, then ends the way `how` says.
auto child_ending_with(otp::Reason reason) {
  return [reason]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::exit(reason);
  };
}

bool answers_ping(otp::Scoped& me, const otp::Pid& pid) {
  otp::send(pid, Ping{me.pid()});
  return me.receive<Pong>(kWait).has_value();
}

TEST(Links, CrashOfALinkedProcessKillsANonTrappingPartnerWithTheSameReason) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid parent = spawn_parent_of(rt, me.pid(), child_ending_with(otp::Reason::other("boom")));
  auto linked = me.receive<Linked>(kWait);
  ASSERT_TRUE(linked.has_value());
  otp::Ref ref = me.monitor(parent);
  otp::send(linked->partner, Go{});
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::other("boom"));
  EXPECT_FALSE(otp::is_alive(parent));
}

TEST(Links, ExceptionInALinkedProcessKillsThePartnerWithTheExceptionReason) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid parent = spawn_parent_of(rt, me.pid(), []() -> otp::Co<void> {
    co_await otp::receive<Go>();
    throw std::runtime_error("kaput");
  });
  auto linked = me.receive<Linked>(kWait);
  ASSERT_TRUE(linked.has_value());
  otp::Ref ref = me.monitor(parent);
  otp::send(linked->partner, Go{});
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::exception("kaput"));
}

TEST(Links, CrashPropagatesAlongAChainOfLinks) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  // a -- b -- c ; c crashes; a and b die with c's reason.
  otp::Pid a = rt.spawn([to]() -> otp::Co<void> {
    otp::Pid b = otp::spawn_link([to]() -> otp::Co<void> {
      otp::Pid c = otp::spawn_link(child_ending_with(otp::Reason::other("chain")));
      otp::send(to, Linked{c});
      co_await otp::receive<Never>();
    });
    otp::send(to, Linked{b});
    co_await otp::receive<Never>();
  });
  auto first = me.receive<Linked>(kWait);
  auto second = me.receive<Linked>(kWait);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  // The two reports (b's pid, c's pid) may arrive in either order. Only c acts
  // on Go (b waits for Never), so both get one.
  otp::Ref ra = me.monitor(a);
  otp::Ref r1 = me.monitor(first->partner);
  otp::Ref r2 = me.monitor(second->partner);
  otp::send(first->partner, Go{});
  otp::send(second->partner, Go{});
  for (otp::Ref r : {ra, r1, r2}) {
    auto d = await_down(me, r);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->reason, otp::Reason::other("chain"));
  }
}

TEST(Links, NormalExitDoesNotKillALinkedNonTrappingProcess) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid parent =
      spawn_parent_of(rt, me.pid(), []() -> otp::Co<void> { co_await otp::receive<Go>(); });
  auto linked = me.receive<Linked>(kWait);
  ASSERT_TRUE(linked.has_value());
  otp::Ref child_ref = me.monitor(linked->partner);
  otp::send(linked->partner, Go{});
  auto down = await_down(me, child_ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::normal());
  EXPECT_TRUE(answers_ping(me, parent));
  EXPECT_TRUE(otp::is_alive(parent));
}

TEST(Links, TrapExitTurnsACrashSignalIntoAnExitMessage) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid parent =
      spawn_parent_of(rt, me.pid(), child_ending_with(otp::Reason::other("boom")), /*trap=*/true);
  auto linked = me.receive<Linked>(kWait);
  ASSERT_TRUE(linked.has_value());
  otp::send(linked->partner, Go{});
  auto t = me.receive<Trapped>(kWait);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, linked->partner);
  EXPECT_EQ(t->reason, otp::Reason::other("boom"));
  EXPECT_TRUE(answers_ping(me, parent));
}

TEST(Links, TrapExitDeliversAnExitMessageForANormalExitToo) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  spawn_parent_of(rt, me.pid(), child_ending_with(otp::Reason::normal()), /*trap=*/true);
  auto linked = me.receive<Linked>(kWait);
  ASSERT_TRUE(linked.has_value());
  otp::send(linked->partner, Go{});
  auto t = me.receive<Trapped>(kWait);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, linked->partner);
  EXPECT_EQ(t->reason, otp::Reason::normal());
}

TEST(Links, TrapExitReturnsThePreviousValue) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  struct Flags {
    bool first, second, third;
  };
  rt.spawn([to]() -> otp::Co<void> {
    bool a = otp::trap_exit(true);
    bool b = otp::trap_exit(false);
    bool c = otp::trap_exit(false);
    otp::send(to, Flags{a, b, c});
    co_return;
  });
  auto f = me.receive<Flags>(kWait);
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->first);
  EXPECT_TRUE(f->second);
  EXPECT_FALSE(f->third);
}

TEST(Links, ExitKillKillsATrappingProcessAndOthersSeeKilled) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  // `victim` traps exits and is linked to `watcher`, which traps too and reports.
  rt.spawn([to]() -> otp::Co<void> {
    otp::trap_exit(true);
    otp::Pid victim = otp::spawn_link([]() -> otp::Co<void> {
      otp::trap_exit(true);
      for (;;) (void)co_await otp::receive<otp::Exit>();
    });
    otp::send(to, Linked{victim});
    auto e = co_await otp::receive<otp::Exit>();
    otp::send(to, Trapped{e.from, e.reason});
  });
  auto linked = me.receive<Linked>(kWait);
  ASSERT_TRUE(linked.has_value());
  otp::Ref ref = me.monitor(linked->partner);
  otp::exit(linked->partner, otp::Reason::kill());
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::killed());
  auto t = me.receive<Trapped>(kWait);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, linked->partner);
  EXPECT_EQ(t->reason, otp::Reason::killed());
}

TEST(Links, KilledReasonPropagatesToNonTrappingLinkedProcess) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid parent =
      spawn_parent_of(rt, me.pid(), []() -> otp::Co<void> { co_await otp::receive<Never>(); });
  auto linked = me.receive<Linked>(kWait);
  ASSERT_TRUE(linked.has_value());
  otp::Ref ref = me.monitor(parent);
  otp::exit(linked->partner, otp::Reason::kill());
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::killed());
}

TEST(Links, ExitNormalToAnotherNonTrappingProcessDoesNothing) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid target = rt.spawn(pinger);
  otp::Ref ref = me.monitor(target);
  // From the test thread and from another process.
  otp::exit(target, otp::Reason::normal());
  const otp::Pid to = me.pid();
  rt.spawn([target, to]() -> otp::Co<void> {
    otp::exit(target, otp::Reason::normal());
    otp::send(to, Done{});
    co_return;
  });
  ASSERT_TRUE(me.receive<Done>(kWait).has_value());
  EXPECT_TRUE(answers_ping(me, target));
  EXPECT_FALSE(me.receive<otp::Down>(0ms).has_value());
  me.demonitor(ref, true);
}

TEST(Links, ExitNormalToATrappingProcessArrivesAsAnExitMessage) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid target = rt.spawn([to]() -> otp::Co<void> {
    otp::trap_exit(true);
    otp::send(to, Done{});
    auto e = co_await otp::receive<otp::Exit>();
    otp::send(to, Trapped{e.from, e.reason});
  });
  ASSERT_TRUE(me.receive<Done>(kWait).has_value());
  otp::Pid sender = rt.spawn([target]() -> otp::Co<void> {
    otp::exit(target, otp::Reason::normal());
    co_await otp::receive<Never>();
  });
  auto t = me.receive<Trapped>(kWait);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, sender);
  EXPECT_EQ(t->reason, otp::Reason::normal());
}

TEST(Links, ExitSelfNormalEndsTheCaller) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  auto [pid, ref] = spawn_monitored(me, [to]() -> otp::Co<void> {
    otp::exit(otp::self(), otp::Reason::normal());
    // The signal takes effect at the next wait point.
    co_await otp::yield();
    otp::send(to, Done{});  // not reached
    co_await otp::receive<Never>();
  });
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::normal());
  EXPECT_FALSE(me.receive<Done>(0ms).has_value());
}

TEST(Links, ExitSelfIsNotLostWhenTheBodyReturnsBeforeItsNextWait) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid parent = spawn_parent_of(
      rt, me.pid(),
      []() -> otp::Co<void> {
        otp::exit(otp::self(), otp::Reason::other("bye"));
        co_return;  // no wait point between the signal and the end
      },
      true);
  auto linked = me.receive<Linked>(kWait);
  ASSERT_TRUE(linked.has_value());
  auto trapped = me.receive<Trapped>(kWait);
  ASSERT_TRUE(trapped.has_value());
  EXPECT_EQ(trapped->from, linked->partner);
  EXPECT_EQ(trapped->reason, otp::Reason::other("bye"));
  otp::exit(parent, otp::Reason::kill());
}

TEST(Links, ExitShutdownKillsANonTrappingProcess) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid target = rt.spawn(pinger);
  otp::Ref ref = me.monitor(target);
  otp::exit(target, otp::Reason::shutdown());
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
  EXPECT_TRUE(down->reason.is_shutdown());
}

TEST(Links, ExitShutdownWithTermKillsWithThatReasonAndPropagatesOverLinks) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid parent =
      spawn_parent_of(rt, me.pid(), []() -> otp::Co<void> { co_await otp::receive<Never>(); });
  auto linked = me.receive<Linked>(kWait);
  ASSERT_TRUE(linked.has_value());
  otp::Ref child_ref = me.monitor(linked->partner);
  otp::Ref parent_ref = me.monitor(parent);
  otp::exit(linked->partner, otp::Reason::shutdown("maintenance"));
  auto child_down = await_down(me, child_ref);
  ASSERT_TRUE(child_down.has_value());
  EXPECT_EQ(child_down->reason, otp::Reason::shutdown("maintenance"));
  EXPECT_EQ(child_down->reason.to_string(), "{shutdown, maintenance}");
  auto parent_down = await_down(me, parent_ref);
  ASSERT_TRUE(parent_down.has_value());
  EXPECT_EQ(parent_down->reason, otp::Reason::shutdown("maintenance"));
}

TEST(Links, ExitWithACustomReasonKillsANonTrappingProcess) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid target = rt.spawn(pinger);
  otp::Ref ref = me.monitor(target);
  otp::exit(target, otp::Reason::other("{timeout, 5000}"));
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::other("{timeout, 5000}"));
}

TEST(Links, ExceptionEscapingAProcessGivesExceptionReason) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto [pid, ref] = spawn_monitored(me, []() -> otp::Co<void> {
    throw std::out_of_range("index 7");
    co_return;
  });
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::exception("index 7"));
  EXPECT_EQ(down->reason.kind(), otp::Reason::Kind::exception);
}

TEST(Links, ExceptionFromANestedCoroutineEndsTheProcessWithItsReason) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  struct Inner {
    static otp::Co<int> fails() {
      co_await otp::yield();
      throw std::runtime_error("deep");
      co_return 0;
    }
  };
  auto [pid, ref] = spawn_monitored(me, []() -> otp::Co<void> { (void)co_await Inner::fails(); });
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::exception("deep"));
}

TEST(Links, ExceptionCaughtInsideTheProcessDoesNotEndIt) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  struct Inner {
    static otp::Co<int> fails() {
      throw std::runtime_error("handled");
      co_return 0;
    }
  };
  auto [pid, ref] = spawn_monitored(me, [to]() -> otp::Co<void> {
    try {
      (void)co_await Inner::fails();
    } catch (const std::runtime_error&) {
      otp::send(to, Done{});
    }
  });
  EXPECT_TRUE(me.receive<Done>(kWait).has_value());
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::normal());
}

TEST(Links, ExitWithReasonInsideAProcessEndsItWithThatReason) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto [pid, ref] = spawn_monitored(me, []() -> otp::Co<void> {
    otp::exit(otp::Reason::other("bye"));
    co_return;
  });
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::other("bye"));
}

TEST(Links, UnlinkPreventsTheExitSignal) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid parent = rt.spawn([to]() -> otp::Co<void> {
    otp::Pid child = otp::spawn_link(child_ending_with(otp::Reason::other("boom")));
    otp::unlink(child);
    otp::send(to, Linked{child});
    for (;;) {
      auto p = co_await otp::receive<Ping>();
      otp::send(p.from, Pong{});
    }
  });
  auto linked = me.receive<Linked>(kWait);
  ASSERT_TRUE(linked.has_value());
  otp::Ref ref = me.monitor(linked->partner);
  otp::send(linked->partner, Go{});
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::other("boom"));
  EXPECT_TRUE(answers_ping(me, parent));
}

TEST(Links, LinkCallMakesALinkInBothDirections) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  // `a` links to an existing process `b`; then `a` crashes and b dies with it.
  otp::Pid b = rt.spawn(pinger);
  otp::Ref b_ref = me.monitor(b);
  otp::Pid a = rt.spawn([b, to]() -> otp::Co<void> {
    otp::link(b);
    otp::link(b);  // linking twice is one link
    otp::send(to, Done{});
    co_await otp::receive<Go>();
    throw std::runtime_error("a failed");
  });
  ASSERT_TRUE(me.receive<Done>(kWait).has_value());
  otp::send(a, Go{});
  auto down = await_down(me, b_ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::exception("a failed"));
}

TEST(Links, LinkToADeadPidKillsANonTrappingCallerWithNoproc) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto [dead, dead_ref] = spawn_monitored(me, []() -> otp::Co<void> { co_return; });
  ASSERT_TRUE(await_down(me, dead_ref).has_value());
  auto [pid, ref] = spawn_monitored(me, [dead]() -> otp::Co<void> {
    otp::link(dead);
    co_await otp::receive<Never>();
  });
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::noproc());
}

TEST(Links, LinkToADeadPidGivesATrappingCallerAnExitMessageWithNoproc) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  auto [dead, dead_ref] = spawn_monitored(me, []() -> otp::Co<void> { co_return; });
  ASSERT_TRUE(await_down(me, dead_ref).has_value());
  rt.spawn([dead, to]() -> otp::Co<void> {
    otp::trap_exit(true);
    otp::link(dead);
    auto e = co_await otp::receive<otp::Exit>();
    otp::send(to, Trapped{e.from, e.reason});
  });
  auto t = me.receive<Trapped>(kWait);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, dead);
  EXPECT_EQ(t->reason, otp::Reason::noproc());
}

TEST(Links, KillSignalTakesEffectWhileTheProcessIsBlockedInReceive) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    otp::send(to, Done{});
    co_await otp::receive<Never>();
  });
  ASSERT_TRUE(me.receive<Done>(kWait).has_value());
  otp::Ref ref = me.monitor(pid);
  otp::exit(pid, otp::Reason::kill());
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::killed());
}

}  // namespace
