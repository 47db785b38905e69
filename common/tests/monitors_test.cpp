// Monitors: Down messages, noproc, demonitor (with and without flush), spawn_monitor.
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using otp_test::await_down;
using otp_test::Go;
using otp_test::kWait;
using otp_test::Never;

namespace {

struct Target {
  otp::Pid pid;
};
struct Report {
  otp::Ref ref;
  otp::Pid pid;
  otp::Reason reason;
  bool matches;
};
struct Count {
  int n;
};
struct Flags {
  bool got_down;
  bool got_marker;
};
struct Marker {};

TEST(Monitors, DownCarriesRefPidAndReason) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = rt.spawn([]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::exit(otp::Reason::other("finished_badly"));
  });
  otp::Ref ref = me.monitor(pid);
  EXPECT_TRUE(static_cast<bool>(ref));
  otp::send(pid, Go{});
  auto down = me.receive<otp::Down>(kWait);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->ref, ref);
  EXPECT_EQ(down->pid, pid);
  EXPECT_EQ(down->reason, otp::Reason::other("finished_badly"));
}

TEST(Monitors, DownForANormalExitHasReasonNormal) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Go>(); });
  otp::Ref ref = me.monitor(pid);
  otp::send(pid, Go{});
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_TRUE(down->reason.is_normal());
}

TEST(Monitors, MonitoringFromInsideAProcessDeliversDown) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid target = rt.spawn([]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    throw std::runtime_error("target failed");
  });
  rt.spawn([to, target]() -> otp::Co<void> {
    otp::Ref ref = otp::monitor(target);
    otp::send(target, Go{});
    auto d = co_await otp::receive<otp::Down>();
    otp::send(to, Report{d.ref, d.pid, d.reason, d.ref == ref && d.pid == target});
  });
  auto r = me.receive<Report>(kWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->matches);
  EXPECT_EQ(r->reason, otp::Reason::exception("target failed"));
}

TEST(Monitors, MonitoringADeadPidGivesDownWithNoproc) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Go>(); });
  otp::Ref first = me.monitor(pid);
  otp::send(pid, Go{});
  ASSERT_TRUE(await_down(me, first).has_value());

  otp::Ref ref = me.monitor(pid);
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->pid, pid);
  EXPECT_EQ(down->reason, otp::Reason::noproc());
}

TEST(Monitors, MonitoringADeadPidFromAProcessGivesDownWithNoproc) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid dead = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Go>(); });
  otp::Ref r0 = me.monitor(dead);
  otp::send(dead, Go{});
  ASSERT_TRUE(await_down(me, r0).has_value());
  rt.spawn([to, dead]() -> otp::Co<void> {
    otp::Ref ref = otp::monitor(dead);
    auto d = co_await otp::receive<otp::Down>();
    otp::send(to, Report{d.ref, d.pid, d.reason, d.ref == ref && d.pid == dead});
  });
  auto r = me.receive<Report>(kWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->matches);
  EXPECT_EQ(r->reason, otp::Reason::noproc());
}

TEST(Monitors, EachMonitorGetsItsOwnDown) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Go>(); });
  otp::Ref a = me.monitor(pid);
  otp::Ref b = me.monitor(pid);
  EXPECT_NE(a, b);
  otp::send(pid, Go{});
  std::set<otp::Ref> refs;
  for (int i = 0; i < 2; ++i) {
    auto d = me.receive<otp::Down>(kWait);
    ASSERT_TRUE(d.has_value());
    refs.insert(d->ref);
  }
  EXPECT_EQ(refs, (std::set<otp::Ref>{a, b}));
  EXPECT_FALSE(me.receive<otp::Down>(0ms).has_value());
}

TEST(Monitors, DemonitorMeansNoDownArrives) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid target = rt.spawn([]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::exit(otp::Reason::other("gone"));
  });
  rt.spawn([to, target]() -> otp::Co<void> {
    otp::Ref ref = otp::monitor(target);
    otp::demonitor(ref);
    otp::Ref sync = otp::monitor(target);  // tells us when the target is gone
    otp::send(target, Go{});
    auto d = co_await otp::receive<otp::Down>([sync](const otp::Down& d) { return d.ref == sync; });
    (void)d;
    otp::send(otp::self(), Marker{});
    // Anything for `ref` would be in the mailbox before the marker.
    bool got_down = false;
    for (;;) {
      bool marker = co_await otp::receive(
          [&](otp::Down) {
            got_down = true;
            return false;
          },
          [](Marker) { return true; });
      if (marker) break;
    }
    otp::send(to, Flags{got_down, true});
  });
  auto f = me.receive<Flags>(kWait);
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->got_down);
}

TEST(Monitors, DemonitorFromOutsideMeansNoDownArrives) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid target = rt.spawn([]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::exit(otp::Reason::other("gone"));
  });
  otp::Ref ref = me.monitor(target);
  me.demonitor(ref);
  otp::Ref sync = me.monitor(target);
  otp::send(target, Go{});
  ASSERT_TRUE(await_down(me, sync).has_value());
  EXPECT_FALSE(me.receive<otp::Down>(0ms).has_value());
}

TEST(Monitors, DemonitorWithFlushRemovesADownAlreadyInTheMailbox) {
  // Deterministic: one scheduler thread, so both Downs of the target are in the
  // watcher's mailbox by the time it receives the first.
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid target = rt.spawn([]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::exit(otp::Reason::other("gone"));
  });
  rt.spawn([to, target]() -> otp::Co<void> {
    otp::Ref flushed = otp::monitor(target);
    otp::Ref sync = otp::monitor(target);
    otp::send(target, Go{});
    (void)co_await otp::receive<otp::Down>([sync](const otp::Down& d) { return d.ref == sync; });
    otp::demonitor(flushed, /*flush=*/true);
    auto left = co_await otp::receive<otp::Down>(0ms);
    otp::send(to, Flags{left.has_value(), false});
  });
  rt.run_until_idle();
  auto f = me.receive<Flags>(0ms);
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->got_down);
}

TEST(Monitors, DemonitorWithFlushFromOutsideRemovesAQueuedDown) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid target = rt.spawn([]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::exit(otp::Reason::other("gone"));
  });
  otp::Ref ref = me.monitor(target);
  otp::send(target, Go{});
  rt.run_until_idle();  // the target has exited and its Down is waiting for us
  EXPECT_FALSE(otp::is_alive(target));
  me.demonitor(ref, /*flush=*/true);
  EXPECT_FALSE(me.receive<otp::Down>(0ms).has_value());
}

TEST(Monitors, DemonitorWithoutFlushLeavesADeliveredDownInTheMailbox) {
  // Erlang: demonitor/1 after the 'DOWN' was delivered does not remove it.
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid target = rt.spawn([]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::exit(otp::Reason::other("gone"));
  });
  rt.spawn([to, target]() -> otp::Co<void> {
    otp::Ref kept = otp::monitor(target);
    otp::Ref sync = otp::monitor(target);
    otp::send(target, Go{});
    (void)co_await otp::receive<otp::Down>([sync](const otp::Down& d) { return d.ref == sync; });
    otp::demonitor(kept);
    auto left = co_await otp::receive<otp::Down>(0ms);
    otp::send(to, Flags{left.has_value() && left->ref == kept, false});
  });
  rt.run_until_idle();
  auto f = me.receive<Flags>(0ms);
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(f->got_down);
}

TEST(Monitors, SpawnMonitorGivesDownForTheChild) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    auto [child, ref] = otp::spawn_monitor([]() -> otp::Co<void> {
      otp::exit(otp::Reason::shutdown("done"));
      co_return;
    });
    auto d = co_await otp::receive<otp::Down>();
    otp::send(to, Report{d.ref, d.pid, d.reason, d.ref == ref && d.pid == child});
  });
  auto r = me.receive<Report>(kWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->matches);
  EXPECT_EQ(r->reason, otp::Reason::shutdown("done"));
}

TEST(Monitors, SpawnMonitorDoesNotLink) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid parent = rt.spawn([to]() -> otp::Co<void> {
    auto [child, ref] = otp::spawn_monitor([]() -> otp::Co<void> {
      throw std::runtime_error("child crash");
      co_return;
    });
    (void)co_await otp::receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
    otp::send(to, Count{1});
    co_await otp::receive<Never>();
  });
  ASSERT_TRUE(me.receive<Count>(kWait).has_value());
  EXPECT_TRUE(otp::is_alive(parent));
}

TEST(Monitors, MonitorDoesNotKillTheWatcher) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid target = rt.spawn([]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::exit(otp::Reason::kill());
  });
  otp::Pid watcher = rt.spawn([to, target]() -> otp::Co<void> {
    otp::Ref ref = otp::monitor(target);
    otp::send(target, Go{});
    (void)co_await otp::receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
    otp::send(to, Count{2});
    co_await otp::receive<Never>();
  });
  ASSERT_TRUE(me.receive<Count>(kWait).has_value());
  EXPECT_TRUE(otp::is_alive(watcher));
}

// Erlang's monitor(process, RegName) (erlang:monitor/2's documentation; process_SUITE's
// monitor cases in spirit): the Down names what was monitored, and a name no process has gets
// its noproc Down at once.
TEST(Monitors, AMonitorByNameNamesItInTheDown) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  const otp::Pid worker = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Never>(); });
  ASSERT_TRUE(rt.register_name("worker", worker));
  const otp::Ref ref = me.monitor("worker");
  otp::exit(worker, otp::Reason::kill());
  auto down = await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->name, "worker");
  EXPECT_EQ(down->pid, worker);
  EXPECT_EQ(down->reason, otp::Reason::killed());

  const otp::Ref none = me.monitor("nobody");
  auto noproc = await_down(me, none);
  ASSERT_TRUE(noproc);
  EXPECT_EQ(noproc->reason, otp::Reason::noproc());
  EXPECT_EQ(noproc->name, "nobody");
  EXPECT_FALSE(noproc->pid);

  const otp::Pid plain = rt.spawn([]() -> otp::Co<void> { co_return; });
  auto by_pid = await_down(me, me.monitor(plain));
  ASSERT_TRUE(by_pid);
  EXPECT_TRUE(by_pid->name.empty());
}

// erlang:demonitor(Ref, [info]): true while the monitor was active (no Down will come), false
// once its Down has been taken in.
TEST(Monitors, DemonitorSaysWhetherTheMonitorWasActive) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  const otp::Pid p = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Never>(); });
  const otp::Ref first = me.monitor(p);
  EXPECT_TRUE(me.demonitor(first));
  EXPECT_FALSE(me.demonitor(first)) << "already removed";
  const otp::Ref second = me.monitor(p);
  otp::exit(p, otp::Reason::kill());
  ASSERT_TRUE(await_down(me, second));
  EXPECT_FALSE(me.demonitor(second, true)) << "its Down was taken";
}

}  // namespace
