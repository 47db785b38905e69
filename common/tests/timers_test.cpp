// Timers on the virtual clock: send_after, cancel_timer, read_timer, ordering, long timers.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using otp_test::await_down;
using otp_test::Go;
using otp_test::Never;

namespace {

struct Tick {
  int id;
};
struct Fired {
  int id;
  otp::Duration at;
};
struct TimerIs {
  otp::TimerRef ref;
};
struct Left {
  std::optional<otp::Duration> left;
};

std::vector<int> drain_ticks(otp::Scoped& me) {
  std::vector<int> out;
  while (auto t = me.receive<Tick>(0ms)) out.push_back(t->id);
  return out;
}

// A process that forwards every Tick to `to` with the virtual time it arrived at.
otp::Pid spawn_recorder(otp::Runtime& rt, otp::Pid to) {
  return rt.spawn([&rt, to]() -> otp::Co<void> {
    for (;;) {
      auto t = co_await otp::receive<Tick>();
      otp::send(to, Fired{t.id, rt.now()});
    }
  });
}

TEST(Timers, SendAfterDeliversAtTheDueTimeAndNotBefore) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::send_after(1000ms, me.pid(), Tick{1});
  rt.advance(999ms);
  EXPECT_FALSE(me.receive<Tick>(0ms).has_value()) << "fired early";
  rt.advance(1ms);
  auto t = me.receive<Tick>(0ms);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->id, 1);
}

// The virtual clock stops at 2^62 ns (about 146 years): advancing past it is refused and leaves
// the clock where it was, and so is advancing backwards. (Found by the console's fuzz target:
// enough `sleep 36615m` on one runtime overflowed the clock.)
TEST(Timers, TheVirtualClockRefusesToPassItsEndOrToGoBack) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Duration century =
      std::chrono::duration_cast<otp::Duration>(std::chrono::hours(24 * 365 * 100));
  otp::send_after(century, me.pid(), Tick{1});
  rt.advance(century);  // the wheel steps from cascade to cascade of the level the timer is in
  ASSERT_TRUE(me.receive<Tick>(0ms).has_value());
  const otp::Duration at = rt.now();
  EXPECT_EQ(at, century);
  EXPECT_THROW(rt.advance(century), std::overflow_error);
  EXPECT_EQ(rt.now(), at);
  EXPECT_THROW(rt.advance(-1ms), std::invalid_argument);
  EXPECT_EQ(rt.now(), at);
  // Time still moves, and a timer set this late still fires.
  otp::send_after(1h, me.pid(), Tick{2});
  rt.advance(1h);
  auto t = me.receive<Tick>(0ms);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->id, 2);
  EXPECT_EQ(rt.now(), at + 1h);
}

TEST(Timers, SendAfterFromInsideAProcessFiresAtTheDueTime) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid recorder = spawn_recorder(rt, me.pid());
  rt.spawn([recorder]() -> otp::Co<void> {
    otp::send_after(250ms, recorder, Tick{7});
    co_return;
  });
  rt.advance(1s);
  auto f = me.receive<Fired>(0ms);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->id, 7);
  EXPECT_EQ(f->at, otp::Duration(250ms));
}

TEST(Timers, ZeroDelayTimerIsDeliveredWithoutMovingTheClock) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::send_after(0ms, me.pid(), Tick{0});
  rt.run_until_idle();
  EXPECT_TRUE(me.receive<Tick>(0ms).has_value()) << "0 ms timer at t=0";
  // The same once the clock has moved, with another timer pending (so that the
  // wheel has moved with the clock).
  otp::send_after(1h, me.pid(), Tick{99});
  rt.advance(1s);
  otp::send_after(0ms, me.pid(), Tick{1});
  rt.advance(0ms);
  auto t = me.receive<Tick>(0ms);
  ASSERT_TRUE(t.has_value()) << "0 ms timer at t=1s was not delivered without advancing the clock";
  EXPECT_EQ(t->id, 1);
}

TEST(Timers, CancelTimerReturnsTheRemainingTimeAndPreventsDelivery) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::TimerRef ref = otp::send_after(1000ms, me.pid(), Tick{1});
  ASSERT_TRUE(static_cast<bool>(ref));
  rt.advance(300ms);
  auto left = otp::cancel_timer(ref);
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(*left, otp::Duration(700ms));
  rt.advance(2s);
  EXPECT_FALSE(me.receive<Tick>(0ms).has_value());
  // Cancelling again: already cancelled.
  EXPECT_FALSE(otp::cancel_timer(ref).has_value());
}

TEST(Timers, CancelTimerBeforeTheClockMovesPreventsDelivery) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::TimerRef ref = otp::send_after(50ms, me.pid(), Tick{1});
  auto left = otp::cancel_timer(ref);
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(*left, otp::Duration(50ms));
  rt.advance(1s);
  EXPECT_FALSE(me.receive<Tick>(0ms).has_value());
}

TEST(Timers, CancelTimerAfterTheClockMovedLeavesTheWheelIntact) {
  // A 300 ms timer starts in the wheel's second level; 100 ms later it is within
  // level 0's reach but has not been cascaded yet. Cancelling it then must unlink
  // it from where it really is: a timer started afterwards must fire on time.
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid recorder = spawn_recorder(rt, me.pid());
  otp::TimerRef doomed = otp::send_after(300ms, recorder, Tick{1});
  rt.advance(100ms);
  auto left = otp::cancel_timer(doomed);
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(*left, otp::Duration(200ms));
  otp::send_after(1s, recorder, Tick{2});
  rt.advance(2s);
  std::vector<std::pair<int, otp::Duration>> fired;
  while (auto f = me.receive<Fired>(0ms)) fired.emplace_back(f->id, f->at);
  EXPECT_EQ(fired, (std::vector<std::pair<int, otp::Duration>>{{2, 1100ms}}));
}

TEST(Timers, CancelledTimerDoesNotDisturbTheOthersInItsSlot) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid recorder = spawn_recorder(rt, me.pid());
  otp::send_after(400ms, recorder, Tick{2});
  otp::send_after(5s, recorder, Tick{3});
  otp::TimerRef doomed = otp::send_after(300ms, recorder, Tick{1});
  rt.advance(100ms);
  ASSERT_TRUE(otp::cancel_timer(doomed).has_value());
  rt.advance(10s);
  std::vector<std::pair<int, otp::Duration>> fired;
  while (auto f = me.receive<Fired>(0ms)) fired.emplace_back(f->id, f->at);
  EXPECT_EQ(fired, (std::vector<std::pair<int, otp::Duration>>{{2, 400ms}, {3, 5s}}));
}

TEST(Timers, ReceiveTimeoutCancelledAfterTheClockMovedLeavesLaterTimersWorking) {
  // The same through receive: a 300 ms receive timeout is cancelled by a message
  // at 100 ms; a timer started afterwards must still fire at its time.
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid recorder = spawn_recorder(rt, me.pid());
  otp::Pid waiter = rt.spawn([recorder]() -> otp::Co<void> {
    auto t = co_await otp::receive<Tick>(300ms);
    otp::send(recorder, Tick{t ? 10 : 11});
    otp::send_after(2s, recorder, Tick{12});
    co_await otp::receive<Never>();
  });
  rt.advance(100ms);
  otp::send(waiter, Tick{0});
  rt.advance(5s);
  std::vector<std::pair<int, otp::Duration>> fired;
  while (auto f = me.receive<Fired>(0ms)) fired.emplace_back(f->id, f->at);
  EXPECT_EQ(fired, (std::vector<std::pair<int, otp::Duration>>{{10, 100ms}, {12, 2100ms}}));
}

TEST(Timers, ReadTimerReturnsTheRemainingTimeWithoutCancelling) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::TimerRef ref = otp::send_after(5s, me.pid(), Tick{1});
  auto left = otp::read_timer(ref);
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(*left, otp::Duration(5s));
  rt.advance(2s);
  left = otp::read_timer(ref);
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(*left, otp::Duration(3s));
  rt.advance(3s);
  EXPECT_TRUE(me.receive<Tick>(0ms).has_value());
  EXPECT_FALSE(otp::read_timer(ref).has_value());
}

TEST(Timers, CancelAfterTheTimerFiredReturnsNullopt) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::TimerRef ref = otp::send_after(10ms, me.pid(), Tick{1});
  rt.advance(10ms);
  ASSERT_TRUE(me.receive<Tick>(0ms).has_value());
  EXPECT_FALSE(otp::cancel_timer(ref).has_value());
  EXPECT_FALSE(otp::read_timer(ref).has_value());
}

TEST(Timers, StaleTimerRefDoesNotCancelALaterTimer) {
  // Timer entries are recycled; an old ref must not reach the new timer.
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::TimerRef old_ref = otp::send_after(10ms, me.pid(), Tick{1});
  rt.advance(10ms);
  ASSERT_TRUE(me.receive<Tick>(0ms).has_value());
  otp::send_after(10ms, me.pid(), Tick{2});
  EXPECT_FALSE(otp::cancel_timer(old_ref).has_value());
  rt.advance(10ms);
  auto t = me.receive<Tick>(0ms);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->id, 2);
}

TEST(Timers, CancelTimerFromInsideAProcess) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    otp::TimerRef ref = otp::send_after(100ms, otp::self(), Tick{1});
    otp::send(to, Left{otp::cancel_timer(ref)});
    auto t = co_await otp::receive<Tick>(200ms);
    otp::send(to, Tick{t ? 1 : 0});
  });
  rt.advance(1s);
  auto left = me.receive<Left>(0ms);
  ASSERT_TRUE(left.has_value());
  ASSERT_TRUE(left->left.has_value());
  EXPECT_EQ(*left->left, otp::Duration(100ms));
  auto t = me.receive<Tick>(0ms);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->id, 0);
}

TEST(Timers, TimerToADeadProcessIsDropped) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid pid = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Go>(); });
  me.monitor(pid);
  otp::send_after(100ms, pid, Tick{1});
  otp::send(pid, Go{});
  rt.run_until_idle();
  ASSERT_TRUE(me.receive<otp::Down>(0ms).has_value());
  // A fresh process (possibly reusing the dead one's block) must not get it.
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    auto t = co_await otp::receive<Tick>(1s);
    otp::send(to, Fired{t ? t->id : -1, otp::Duration{}});
  });
  otp::send_after(200ms, pid, Tick{2});  // started after the death
  rt.advance(2s);
  auto f = me.receive<Fired>(0ms);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->id, -1);
}

TEST(Timers, TimersFireInDeadlineOrder) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid recorder = spawn_recorder(rt, me.pid());
  // Started out of order, some with equal deadlines.
  const std::vector<std::pair<int, otp::Duration>> timers = {
      {5, 500ms}, {1, 100ms}, {3, 300ms}, {4, 300ms}, {2, 200ms}, {6, 900ms}, {0, 1ms}};
  for (auto [id, after] : timers) otp::send_after(after, recorder, Tick{id});
  rt.advance(1s);
  std::vector<int> ids;
  std::vector<otp::Duration> at;
  while (auto f = me.receive<Fired>(0ms)) {
    ids.push_back(f->id);
    at.push_back(f->at);
  }
  ASSERT_EQ(ids.size(), timers.size());
  EXPECT_EQ(ids[0], 0);
  EXPECT_EQ(ids[1], 1);
  EXPECT_EQ(ids[2], 2);
  EXPECT_TRUE((ids[3] == 3 && ids[4] == 4) || (ids[3] == 4 && ids[4] == 3));
  EXPECT_EQ(ids[5], 5);
  EXPECT_EQ(ids[6], 6);
  EXPECT_EQ(at, (std::vector<otp::Duration>{1ms, 100ms, 200ms, 300ms, 300ms, 500ms, 900ms}));
}

TEST(Timers, LongTimerFiresAfterTwoHours) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::send_after(2h, me.pid(), Tick{1});
  rt.advance(2h - 1ms);
  EXPECT_FALSE(me.receive<Tick>(0ms).has_value());
  rt.advance(1ms);
  EXPECT_TRUE(me.receive<Tick>(0ms).has_value());
}

// Past the wheel's direct range (2^32 ms, about 49 days) and across every level, with the levels
// below empty for long stretches (the wheel then steps from one cascade of the lowest level
// holding a timer to the next): each timer fires at its time.
TEST(Timers, TimersDaysAndYearsAwayFireAtTheirTimesInOrder) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid recorder = spawn_recorder(rt, me.pid());
  const auto days = [](int n) { return std::chrono::duration_cast<otp::Duration>(24h * n); };
  otp::send_after(days(3650), recorder, Tick{5});
  otp::send_after(days(60), recorder, Tick{4});
  otp::send_after(days(1) + 5ms, recorder, Tick{3});
  otp::send_after(5h, recorder, Tick{2});
  otp::send_after(17s, recorder, Tick{1});
  rt.advance(days(4000));
  std::vector<std::pair<int, otp::Duration>> fired;
  while (auto f = me.receive<Fired>(0ms)) fired.emplace_back(f->id, f->at);
  EXPECT_EQ(fired, (std::vector<std::pair<int, otp::Duration>>{{1, otp::Duration(17s)},
                                                               {2, otp::Duration(5h)},
                                                               {3, days(1) + 5ms},
                                                               {4, days(60)},
                                                               {5, days(3650)}}));
}

TEST(Timers, TimersAcrossWheelLevelsFireAtTheirTimesInOrder) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid recorder = spawn_recorder(rt, me.pid());
  otp::send_after(3h, recorder, Tick{4});
  otp::send_after(300ms, recorder, Tick{1});
  otp::send_after(20min, recorder, Tick{3});
  otp::send_after(70s, recorder, Tick{2});
  rt.advance(4h);
  std::vector<std::pair<int, otp::Duration>> fired;
  while (auto f = me.receive<Fired>(0ms)) fired.emplace_back(f->id, f->at);
  EXPECT_EQ(fired, (std::vector<std::pair<int, otp::Duration>>{
                       {1, 300ms}, {2, 70s}, {3, 20min}, {4, 3h}}));
}

TEST(Timers, TimersAcrossWheelLevelsDoNotFireEarlyWhenAdvancedInSteps) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::send_after(300ms, me.pid(), Tick{1});
  otp::send_after(70s, me.pid(), Tick{2});
  otp::send_after(20min, me.pid(), Tick{3});
  otp::send_after(3h, me.pid(), Tick{4});
  const std::vector<otp::Duration> due = {300ms, 70s, 20min, 3h};
  otp::Duration now{0};
  for (int i = 0; i < 4; ++i) {
    rt.advance(due[i] - 1ms - now);
    EXPECT_TRUE(drain_ticks(me).empty()) << "timer " << i + 1 << " fired early";
    rt.advance(1ms);
    EXPECT_EQ(drain_ticks(me), std::vector<int>{i + 1});
    now = due[i];
  }
  EXPECT_EQ(rt.now(), otp::Duration(3h));
}

TEST(Timers, TimerStartedLaterWithAnEarlierDeadlineFiresFirst) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::send_after(10min, me.pid(), Tick{2});
  rt.advance(5min);
  otp::send_after(1min, me.pid(), Tick{1});
  rt.advance(1min);
  EXPECT_EQ(drain_ticks(me), std::vector<int>{1});
  rt.advance(4min);
  EXPECT_EQ(drain_ticks(me), std::vector<int>{2});
}

TEST(Timers, ManyTimersAllFireExactlyOnce) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid recorder = spawn_recorder(rt, me.pid());
  constexpr int n = 1000;
  for (int i = 0; i < n; ++i)
    otp::send_after(std::chrono::milliseconds(1 + (i * 37) % 5000), recorder, Tick{i});
  rt.advance(6s);
  std::vector<int> count(n, 0);
  otp::Duration last{0};
  bool in_order = true;
  while (auto f = me.receive<Fired>(0ms)) {
    ++count[f->id];
    if (f->at != std::chrono::milliseconds(1 + (f->id * 37) % 5000)) in_order = false;
    if (f->at < last) in_order = false;
    last = f->at;
  }
  for (int i = 0; i < n; ++i) EXPECT_EQ(count[i], 1) << "timer " << i;
  EXPECT_TRUE(in_order);
}

// As erlang:send_after/3 documents for a pid destination, the timer is cancelled when the
// process exits: none is pending after the exit.
TEST(Timers, ATimerAimedAtAnExitedProcessIsNoLongerPending) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto [target, ref] =
      otp_test::spawn_monitored(me, []() -> otp::Co<void> { co_await otp::receive<Go>(); });
  otp::TimerRef timer = otp::send_after(1h, target, Tick{1});
  otp::TimerRef other = otp::send_after(1h, target, Tick{2});
  ASSERT_TRUE(otp::read_timer(timer).has_value());
  otp::send(target, Go{});
  ASSERT_TRUE(await_down(me, ref));
  EXPECT_FALSE(otp::read_timer(timer).has_value());
  EXPECT_FALSE(otp::cancel_timer(other).has_value());
  EXPECT_FALSE(otp::cancel_timer(timer).has_value());
}

// erlang:start_timer/3 (timer_bif_SUITE's start_timer cases): what arrives is
// {timeout, TimerRef, Msg}, the ref being the one start_timer returned.
TEST(Timers, StartTimerDeliversItsRefWithTheMessage) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::TimerRef first = otp::start_timer(10ms, me.pid(), Tick{1});
  const otp::TimerRef second = otp::start_timer(20ms, me.pid(), Tick{2});
  EXPECT_FALSE(first == second);
  EXPECT_EQ(otp::read_timer(second), std::optional<otp::Duration>(20ms));
  rt.advance(20ms);
  auto a = me.receive<otp::Timeout<Tick>>(0ms);
  auto b = me.receive<otp::Timeout<Tick>>(0ms);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->ref == first);
  EXPECT_EQ(a->msg.id, 1);
  EXPECT_TRUE(b->ref == second);
  EXPECT_EQ(b->msg.id, 2);
  EXPECT_FALSE(otp::cancel_timer(first).has_value()) << "it has fired";

  const otp::TimerRef now = otp::start_timer(0ms, me.pid(), Tick{3});  // due at once
  rt.advance(0ms);
  auto c = me.receive<otp::Timeout<Tick>>(0ms);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->ref == now);
}

// erlang:send_after/3 to a registered name: the name is looked up when the timer falls due, so
// the process that has it then gets the message; with no such process it is dropped.
TEST(Timers, SendAfterToANameReachesWhoeverHasTheNameWhenItFallsDue) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::TimerRef timer = otp::send_after(100ms, "late", Tick{7});
  rt.advance(40ms);
  EXPECT_EQ(otp::read_timer(timer), std::optional<otp::Duration>(60ms))
      << "pending, though no process has the name yet";
  const otp::Pid recorder = spawn_recorder(rt, me.pid());
  ASSERT_TRUE(rt.register_name("late", recorder));
  rt.advance(60ms);
  auto f = me.receive<Fired>(0ms);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->id, 7);

  otp::send_after(10ms, "nobody", Tick{8});  // dropped, and nothing else happens
  const otp::TimerRef cancelled = otp::send_after(10ms, "late", Tick{9});
  EXPECT_EQ(otp::cancel_timer(cancelled), std::optional<otp::Duration>(10ms));
  rt.advance(20ms);
  EXPECT_FALSE(me.receive<Fired>(0ms));
  EXPECT_TRUE(otp::is_alive(recorder));
}

}  // namespace
