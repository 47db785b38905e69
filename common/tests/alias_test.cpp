// Process aliases (Erlang's alias/unalias and monitor's alias option), and the
// late replies they keep out of a caller's mailbox.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using otp_test::Go;
using otp_test::kWait;
using otp_test::Never;

using otp_test::Gate;

// Times out a call to `gate`, then has the reply sent; a call made after it
// returns once the late reply has reached the caller (one sender's order).
template <class Await>
void time_out_then_release(Await await, const otp::Pid& gate) {
  try {
    await(Gate::call(gate, Gate::Wait{}, 10ms));
    ADD_FAILURE() << "the call returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::timeout());
  }
  Gate::cast(gate, Gate::Release{1});
  EXPECT_EQ(await(Gate::call(gate, Gate::Count{})), 0u);
}

TEST(Alias, LateReplyOfATimedOutCallNeverReachesTheMailbox) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto gate = me.await(Gate::start_link()).pid();
  time_out_then_release([&](auto call) { return me.await(std::move(call)); }, gate);
  EXPECT_EQ(me.mailbox_size(), 0u) << "the late reply was delivered";
}

// A GenServer that calls the Gate from a handler: a late reply would reach its
// handle_info and be logged as unexpected.
struct Caller : otp::GenServer<Caller, otp::Pid> {
  struct TimeOutACall {};
  struct Ping {};
  otp::Pid init(otp::Pid gate) { return gate; }
  otp::Co<bool> handle_call(TimeOutACall) {
    auto r = co_await Gate::try_call(state(), Gate::Wait{}, 10ms);
    Gate::cast(state(), Gate::Release{1});
    co_await Gate::call(state(), Gate::Count{});  // the late reply is in our mailbox by now
    co_return !r.ok();
  }
  bool handle_call(Ping) { return true; }
};

TEST(Alias, LateReplyNeverReachesAGenServerThatCalled) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto gate = me.await(Gate::start_link()).pid();
  auto caller = me.await(Caller::start_link(gate)).pid();
  EXPECT_TRUE(me.await(Caller::call(caller, Caller::TimeOutACall{})));
  EXPECT_TRUE(me.await(Caller::call(caller, Caller::Ping{})));  // handled after anything left over
  EXPECT_FALSE(logs.contains("unexpected message")) << "the late reply reached the caller";
}

TEST(Alias, KilledCalleeLeavesNoDownAfterTheCallFailed) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto gate = me.await(Gate::start()).pid();
  otp::Ref watch = me.monitor(gate);
  auto [client, ref] = otp_test::spawn_monitored(me, [gate]() -> otp::Co<void> {
    auto r = co_await Gate::try_call(gate, Gate::Wait{}, otp::infinity);
    if (r.ok() || !(r.reason() == otp::Reason::killed()))
      otp::exit(otp::Reason::other("wrong outcome"));
    // Anything left from the call would be here now: the Down came with the failure.
    auto stray = co_await otp::receive<otp::Down>(0ms);
    if (stray) otp::exit(otp::Reason::other("stray Down"));
  });
  while (me.await(Gate::call(gate, Gate::Count{})) == 0) (void)me.receive<Never>(1ms);
  otp::exit(gate, otp::Reason::kill());
  ASSERT_TRUE(otp_test::await_down(me, watch));
  (void)client;
  auto down = otp_test::await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::normal());
}

TEST(Alias, TaskYieldedThenIgnoredLeavesNothingInTheMailbox) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto t = otp::Task<int>::async([]() -> otp::Co<int> {
    co_await otp::receive<Go>();
    co_return 7;
  });
  EXPECT_EQ(me.await(t.yield(10ms)), std::nullopt);
  EXPECT_EQ(t.ignore(), std::nullopt);
  otp::Ref watch = me.monitor(t.pid());
  otp::send(t.pid(), Go{});
  auto down = otp_test::await_down(me, watch);  // after the task's reply, if it sent one
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::normal());
  EXPECT_EQ(me.mailbox_size(), 0u) << "the ignored task's reply or Down was delivered";
}

TEST(Alias, IgnoreGivesAReplyThatHadArrived) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto t = otp::Task<int>::async([] { return 3; });
  otp::Ref watch = me.monitor(t.pid());
  ASSERT_TRUE(otp_test::await_down(me, watch));
  EXPECT_EQ(t.ignore(), 3);
  EXPECT_TRUE(me.receive<otp::Exit>(0ms)) << "the task was linked when it ended";
  EXPECT_EQ(me.mailbox_size(), 0u);
}

struct Text {
  std::string s;
};

TEST(Alias, MessagesToAnUnaliasedAliasAreDropped) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto [pid, ref] = otp_test::spawn_monitored(me, [me = me.pid()]() -> otp::Co<void> {
    otp::Alias a = otp::alias();
    otp::send(me, a);
    Text first = co_await otp::receive<Text>();
    if (first.s != "via alias") otp::exit(otp::Reason::other(first.s));
    if (!otp::unalias(a)) otp::exit(otp::Reason::other("the alias was not active"));
    if (otp::unalias(a)) otp::exit(otp::Reason::other("unalias twice"));
    otp::send(me, Go{});
    Text next = co_await otp::receive<Text>();  // the dropped one never comes
    otp::send(me, next);
  });
  auto a = me.receive<otp::Alias>(kWait);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->pid, pid);
  otp::send(*a, Text{"via alias"});
  ASSERT_TRUE(me.receive<Go>(kWait));
  otp::send(*a, Text{"after unalias"});
  otp::send(pid, Text{"via pid"});
  auto echoed = me.receive<Text>(kWait);
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->s, "via pid");
  EXPECT_TRUE(otp_test::await_down(me, ref));
}

TEST(Alias, ReplyAliasTakesOneMessage) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Alias a = me.alias(otp::AliasOption::reply);
  otp::send(a, 1);
  otp::send(a, 2);
  otp::send(me.pid(), 3);
  EXPECT_EQ(me.receive<int>(kWait), 1);
  EXPECT_EQ(me.receive<int>(kWait), 3);
  EXPECT_EQ(me.mailbox_size(), 0u);
  EXPECT_FALSE(me.unalias(a));
}

TEST(Alias, ScopedAliasWorksUntilUnaliased) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Alias a = me.alias();
  EXPECT_EQ(a.pid, me.pid());
  otp::Pid sender = me.spawn([a]() -> otp::Co<void> {
    otp::send(a, Text{"one"});
    co_return;
  });
  (void)sender;
  auto got = me.receive<Text>(kWait);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->s, "one");
  EXPECT_TRUE(me.unalias(a));
  otp::send(a, Text{"two"});
  otp::send(me.pid(), Text{"three"});
  EXPECT_EQ(me.receive<Text>(kWait)->s, "three");
  EXPECT_EQ(me.mailbox_size(), 0u);
}

TEST(Alias, MonitorAliasWithDemonitorEndsWithTheMonitor) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Pid target = me.spawn([]() -> otp::Co<void> { co_await otp::receive<Go>(); });
  otp::Alias a = me.monitor(target, otp::MonitorAlias::demonitor);
  otp::send(a, 1);
  EXPECT_EQ(me.receive<int>(kWait), 1);
  otp::send(target, Go{});
  auto down = me.receive<otp::Down>([&](const otp::Down& d) { return d.ref == a.ref; }, kWait);
  ASSERT_TRUE(down);
  otp::send(a, 2);
  otp::send(me.pid(), 3);
  EXPECT_EQ(me.receive<int>(kWait), 3);
  EXPECT_EQ(me.mailbox_size(), 0u);

  otp::Pid other = me.spawn([]() -> otp::Co<void> { co_await otp::receive<Never>(); });
  otp::Alias b = me.monitor(other, otp::MonitorAlias::demonitor);
  me.demonitor(b.ref);
  otp::send(b, 4);
  otp::send(me.pid(), 5);
  EXPECT_EQ(me.receive<int>(kWait), 5);
  EXPECT_EQ(me.mailbox_size(), 0u);
  otp::exit(other, otp::Reason::kill());
}

TEST(Alias, MonitorAliasWithReplyDemonitorEndsWithTheFirstMessage) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Pid target = me.spawn([]() -> otp::Co<void> { co_await otp::receive<Go>(); });
  otp::Alias a = me.monitor(target, otp::MonitorAlias::reply_demonitor);
  otp::send(a, 1);
  otp::send(a, 2);
  EXPECT_EQ(me.receive<int>(kWait), 1);
  otp::send(target, Go{});  // its Down would come now, but the monitor is gone
  otp::Ref watch = me.monitor(target);
  ASSERT_TRUE(otp_test::await_down(me, watch));
  EXPECT_EQ(me.mailbox_size(), 0u) << "a second message or the first monitor's Down arrived";
}

TEST(Alias, ExplicitUnaliasMonitorAliasOutlivesTheMonitor) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Pid target = me.spawn([]() -> otp::Co<void> { co_return; });
  otp::Alias a = me.monitor(target, otp::MonitorAlias::explicit_unalias);
  auto down = me.receive<otp::Down>([&](const otp::Down& d) { return d.ref == a.ref; }, kWait);
  ASSERT_TRUE(down);
  otp::send(a, 1);
  EXPECT_EQ(me.receive<int>(kWait), 1);
  EXPECT_TRUE(me.unalias(a));
}

}  // namespace
