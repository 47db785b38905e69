// otp::Scoped: a process handle for plain threads.
#include <algorithm>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using otp_test::await_down;
using otp_test::Go;
using otp_test::kWait;
using otp_test::Never;

namespace {

struct Ping {
  otp::Pid from;
  int n;
};
struct Pong {
  int n;
};
struct Note {
  int n;
};
struct Other {
  int n;
};

otp::Co<void> ponger() {
  for (;;) {
    auto p = co_await otp::receive<Ping>();
    otp::send(p.from, Pong{p.n + 1});
  }
}

TEST(Scoped, SendAndReceiveFromTheMainThread) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = rt.spawn(ponger);
  for (int i = 0; i < 100; ++i) {
    me.send(pid, Ping{me.pid(), i});
    EXPECT_EQ(me.receive<Pong>().n, i + 1);
  }
}

TEST(Scoped, ReceiveWithTimeoutReturnsNulloptWhenNothingArrives) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  EXPECT_FALSE(me.receive<Note>(20ms).has_value());
  EXPECT_FALSE(me.receive<Note>(0ms).has_value());
}

TEST(Scoped, ReceiveWithTimeoutUsesTheRealClockInDeterministicMode) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  EXPECT_FALSE(me.receive<Note>(20ms).has_value());
  EXPECT_EQ(rt.now(), otp::Duration(0));
}

TEST(Scoped, ReceiveByTypeLeavesOtherMessagesInTheMailbox) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  me.send(me.pid(), Other{1});
  me.send(me.pid(), Note{2});
  me.send(me.pid(), Other{3});
  auto n = me.receive<Note>(kWait);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->n, 2);
  EXPECT_EQ(me.mailbox_size(), 2u);
  EXPECT_FALSE(me.receive<Note>(0ms).has_value());
  EXPECT_EQ(me.receive<Other>().n, 1);
  EXPECT_EQ(me.receive<Other>().n, 3);
  EXPECT_EQ(me.mailbox_size(), 0u);
}

TEST(Scoped, ReceiveWithPredicateTakesTheFirstMatch) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  for (int i = 0; i < 5; ++i) me.send(me.pid(), Note{i});
  EXPECT_EQ(me.receive<Note>([](const Note& n) { return n.n == 3; }).n, 3);
  auto none = me.receive<Note>([](const Note& n) { return n.n == 3; }, 0ms);
  EXPECT_FALSE(none.has_value());
  EXPECT_EQ(me.receive<Note>().n, 0);
}

TEST(Scoped, MonitorFromOutsideDeliversDown) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = rt.spawn([]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::exit(otp::Reason::other("stopped"));
  });
  otp::Ref ref = me.monitor(pid);
  me.send(pid, Go{});
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->pid, pid);
  EXPECT_EQ(down->reason, otp::Reason::other("stopped"));
}

TEST(Scoped, LinkedCrashArrivesAsAnExitMessageBecauseScopedTrapsExits) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = rt.spawn([]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    throw std::runtime_error("linked crash");
  });
  me.link(pid);
  me.send(pid, Go{});
  auto e = me.receive<otp::Exit>(kWait);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->from, pid);
  EXPECT_EQ(e->reason, otp::Reason::exception("linked crash"));
  EXPECT_TRUE(otp::is_alive(me.pid()));
}

TEST(Scoped, SpawnLinkFromScopedLinksTheChild) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = me.spawn_link([]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::exit(otp::Reason::shutdown("bye"));
  });
  me.send(pid, Go{});
  auto e = me.receive<otp::Exit>(kWait);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->from, pid);
  EXPECT_EQ(e->reason, otp::Reason::shutdown("bye"));
}

TEST(Scoped, UnlinkFromScopedStopsExitMessages) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = rt.spawn([]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::exit(otp::Reason::other("x"));
  });
  me.link(pid);
  me.unlink(pid);
  otp::Ref ref = me.monitor(pid);
  me.send(pid, Go{});
  ASSERT_TRUE(await_down(me, ref).has_value());
  EXPECT_FALSE(me.receive<otp::Exit>(0ms).has_value());
}

TEST(Scoped, LinkToADeadPidGivesAnExitMessageWithNoproc) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Go>(); });
  otp::Ref ref = me.monitor(pid);
  me.send(pid, Go{});
  ASSERT_TRUE(await_down(me, ref).has_value());
  me.link(pid);
  auto e = me.receive<otp::Exit>(kWait);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->from, pid);
  EXPECT_EQ(e->reason, otp::Reason::noproc());
}

TEST(Scoped, ExitSignalToScopedArrivesAsAnExitMessage) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::exit(me.pid(), otp::Reason::shutdown());
  auto e = me.receive<otp::Exit>(kWait);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->reason, otp::Reason::shutdown());
  EXPECT_TRUE(otp::is_alive(me.pid()));
}

TEST(Scoped, KilledScopedThrowsExitErrorFromReceive) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped watcher{rt};
  otp::Scoped me{rt};
  otp::Ref ref = watcher.monitor(me.pid());
  otp::exit(me.pid(), otp::Reason::kill());
  try {
    (void)me.receive<Note>(kWait);
    FAIL() << "receive returned in a killed Scoped";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::killed());
  }
  EXPECT_FALSE(otp::is_alive(me.pid()));
  auto down = await_down(watcher, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::killed());
}

TEST(Scoped, ProcessesCanMonitorAScopedAndSeeItsNormalEnd) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Ref ref;
  otp::Pid inner_pid;
  {
    otp::Scoped inner{rt};
    inner_pid = inner.pid();
    ref = me.monitor(inner.pid());
  }
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->pid, inner_pid);
  EXPECT_EQ(down->reason, otp::Reason::normal());
  EXPECT_FALSE(otp::is_alive(inner_pid));
}

TEST(Scoped, ScopedHandlesOnTwoThreadsExchangeMessages) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid echo = rt.spawn(ponger);
  std::optional<otp::Pid> other_pid;
  std::thread t([&rt, &other_pid, echo] {
    otp::Scoped other{rt};
    // Ask the echo process to answer the other thread; the handshake goes through messages.
    otp::send(echo, Ping{other.pid(), 100});
    auto p = other.receive<Pong>(kWait);
    if (p) other_pid = other.pid();
  });
  me.send(echo, Ping{me.pid(), 1});
  EXPECT_EQ(me.receive<Pong>().n, 2);
  t.join();
  EXPECT_TRUE(other_pid.has_value());
}

TEST(Scoped, ScopedCountsAsALiveProcess) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  const std::size_t before = rt.process_count();
  {
    otp::Scoped me{rt};
    EXPECT_EQ(rt.process_count(), before + 1);
    auto all = rt.processes();
    EXPECT_NE(std::find(all.begin(), all.end(), me.pid()), all.end());
  }
  EXPECT_EQ(rt.process_count(), before);
}

}  // namespace
