#include "otp/detail/exit_hook.hpp"

#include <atomic>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

TEST(ExitHook, RunsBeforeMonitorsFireWithTheExitReason) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  std::atomic<int> ran{0};
  otp::Reason seen;
  auto pid = me.spawn([]() -> otp::Co<void> {
    co_await otp::receive<otp_test::Go>();
    otp::exit(otp::Reason::other("boom"));
  });
  ASSERT_TRUE(otp::detail::on_exit(pid, [&](const otp::Pid& p, const otp::Reason& r) {
    EXPECT_EQ(p, pid);
    EXPECT_FALSE(otp::is_alive(p));
    seen = r;
    ran.fetch_add(1);
  }));
  auto ref = me.monitor(pid);
  me.send(pid, otp_test::Go{});
  auto down = otp_test::await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(seen, otp::Reason::other("boom"));
  EXPECT_EQ(down->reason, otp::Reason::other("boom"));
}

TEST(ExitHook, RefusedForADeadProcess) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto [pid, ref] = otp_test::spawn_monitored(me, []() -> otp::Co<void> { co_return; });
  ASSERT_TRUE(otp_test::await_down(me, ref));
  bool ran = false;
  EXPECT_FALSE(otp::detail::on_exit(pid, [&](const otp::Pid&, const otp::Reason&) { ran = true; }));
  EXPECT_FALSE(ran);
}

TEST(ExitHook, HooksRunInTheOrderTheyWereAddedAndAreFreedWithTheirCaptures) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto order = std::make_shared<std::vector<int>>();
  auto pid = me.spawn([]() -> otp::Co<void> { co_await otp::receive<otp_test::Go>(); });
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(otp::detail::on_exit(
        pid, [order, i](const otp::Pid&, const otp::Reason&) { order->push_back(i); }));
  EXPECT_EQ(order.use_count(), 6);
  auto ref = me.monitor(pid);
  me.send(pid, otp_test::Go{});
  ASSERT_TRUE(otp_test::await_down(me, ref));
  EXPECT_EQ(*order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(order.use_count(), 1);  // every hook destroyed, its capture with it
}

}  // namespace
