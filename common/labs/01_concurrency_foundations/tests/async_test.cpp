// Async, step by step: await, await with a timeout, await_or_kill, and the monitored version.
// Timeouts run on the virtual clock: the test moves time, nothing sleeps.
#include "async.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace {

struct Never {};
struct Go {};

otp::Co<int> never_answers() {
  co_await otp::receive<Never>();
  co_return 0;
}

template <class T>
struct Got {
  T result;
};

// Runs `body` in a process of the runtime (whose receives use the virtual clock) and sends what it
// returns to `to`.
template <class T, class F>
void in_process(otp::Runtime& rt, otp::Pid to, F body) {
  rt.spawn([to, body]() -> otp::Co<void> {
    T result = co_await body();
    otp::send(to, Got<T>{std::move(result)});
  });
}

otp::Down down_of(otp::Scoped& me, otp::Pid pid) {
  const otp::Ref ref = me.monitor(pid);
  return me.receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
}

}  // namespace

TEST(Async, AwaitReturnsTheJobsValue) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto job = lab::execute_async([] { return 6 * 7; });
  EXPECT_NE(job.pid, me.pid());
  EXPECT_EQ(me.await(lab::await(job)), 42);
}

TEST(Async, AwaitWaitsForAJobThatWaits) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto job = lab::execute_async([]() -> otp::Co<int> {
    co_await otp::receive<Go>();
    co_return 1;
  });
  otp::send(job.pid, Go{});
  EXPECT_EQ(me.await(lab::await(job)), 1);
}

TEST(Async, AwaitWithATimeoutGivesUpAndLeavesTheJobRunning) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me(rt);
  otp::Pid slow;
  in_process<bool>(rt, me.pid(), [&slow]() -> otp::Co<bool> {
    auto job = lab::execute_async(never_answers);
    slow = job.pid;
    auto r = co_await lab::await(job, 5s);
    co_return r.has_value();
  });
  rt.run_until_idle();
  rt.advance(5s - 1ms);
  EXPECT_FALSE(me.receive<Got<bool>>(0ms));
  rt.advance(1ms);
  auto got = me.receive<Got<bool>>(10s);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->result);  // timeout
  EXPECT_TRUE(otp::is_alive(slow));
}

TEST(Async, AwaitOrKillKillsALateJob) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me(rt);
  otp::Pid slow;
  in_process<bool>(rt, me.pid(), [&slow]() -> otp::Co<bool> {
    auto job = lab::execute_async(never_answers);
    slow = job.pid;
    auto r = co_await lab::await_or_kill(job, 5s);
    co_return r.has_value();
  });
  rt.run_until_idle();
  const otp::Ref ref = me.monitor(slow);
  rt.advance(5s);
  auto got = me.receive<Got<bool>>(10s);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->result);
  auto down = me.receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
  EXPECT_EQ(down.reason, otp::Reason::killed());
}

TEST(Async, AwaitOrKillReturnsAValueInTime) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto job = lab::execute_async([] { return 5; });
  EXPECT_EQ(me.await(lab::await_or_kill(job, 10s)), 5);
}

TEST(Async, MonitoredAwaitReturnsTheValueAndLeavesNoDown) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto job = lab::execute_async_monitored([] { return 6 * 7; });
  const otp::Down exited = down_of(me, job.pid);  // the job is over: its Down has been sent
  EXPECT_TRUE(exited.reason.is_normal());
  auto result = me.await(lab::await(job, 10s));
  ASSERT_TRUE(result.ok()) << result.to_string();
  EXPECT_EQ(result.value(), 42);
  EXPECT_FALSE(me.receive<otp::Down>(0ms));  // the monitor's Down was flushed
}

TEST(Async, MonitoredAwaitReturnsTheCrashReason) {
  otp::LogCapture logs;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto job = lab::execute_async_monitored([]() -> int { throw std::runtime_error("boom"); });
  auto result = me.await(lab::await(job, 10s));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.reason(), otp::Reason::exception("boom"));
}

TEST(Async, MonitoredAwaitKillsALateJobAndSaysKilled) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me(rt);
  otp::Pid slow;
  in_process<otp::Result<int>>(rt, me.pid(), [&slow]() -> otp::Co<otp::Result<int>> {
    auto job = lab::execute_async_monitored(never_answers);
    slow = job.pid;
    co_return co_await lab::await(job, 5s);
  });
  rt.run_until_idle();
  rt.advance(5s - 1ms);
  EXPECT_FALSE(me.receive<Got<otp::Result<int>>>(0ms));
  rt.advance(1ms);
  auto got = me.receive<Got<otp::Result<int>>>(10s);
  ASSERT_TRUE(got);
  ASSERT_FALSE(got->result.ok());
  EXPECT_EQ(got->result.reason(), otp::Reason::killed());
  EXPECT_FALSE(otp::is_alive(slow));
}
