// Applications: OTP's restart types (application:start/2), and the order of start and stop.
#include "otp/application.hpp"

#include <atomic>
#include <csignal>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

using otp::RestartType;
using otp_test::kWait;

// An application's top process: a supervisor with no children.
otp::Start top_sup() { return otp::Supervisor::start_link(std::vector<otp::ChildSpec>{}); }

struct Apps : ::testing::Test {
  otp::LogCapture logs;
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Applications apps{me};
  std::atomic<int> told{0};
  std::function<otp::StartResult()> top = [this] { return me.await(top_sup()); };

  void SetUp() override {
    apps.on_stop([this](const otp::Applications::Stopped&) { told.fetch_add(1); });
  }
  // Ends `pid` with `reason` and waits until it is gone.
  void end(const otp::Pid& pid, const otp::Reason& reason) {
    const otp::Ref ref = me.monitor(pid);
    otp::exit(pid, reason);
    ASSERT_TRUE(otp_test::await_down(me, ref));
  }
};

TEST_F(Apps, APermanentApplicationsEndStopsTheProgramWithStatusOne) {
  auto pid = apps.start("web", top, RestartType::permanent);
  ASSERT_TRUE(pid) << pid.reason().to_string();
  EXPECT_TRUE(apps.running("web"));
  EXPECT_FALSE(apps.stopped());
  end(pid.value(), otp::Reason::kill());
  ASSERT_TRUE(apps.stopped());  // set before the Down: the hook runs first
  EXPECT_EQ(apps.stopped()->name, "web");
  EXPECT_EQ(apps.stopped()->reason, otp::Reason::killed());
  EXPECT_EQ(apps.stopped()->status, 1);
  EXPECT_EQ(told.load(), 1);
  EXPECT_FALSE(apps.running("web"));
  EXPECT_TRUE(logs.contains("application: web, exited: killed, type: permanent"));
}

TEST_F(Apps, APermanentApplicationStoppedNormallyStopsTheProgramToo) {
  auto pid = apps.start("web", top, RestartType::permanent);
  ASSERT_TRUE(pid);
  end(pid.value(), otp::Reason::shutdown());
  ASSERT_TRUE(apps.stopped());
  EXPECT_EQ(apps.stopped()->reason, otp::Reason::shutdown());
}

// As OTP's: only `normal` is a normal end of a transient application; `shutdown` (what a top
// supervisor past its restart intensity exits with) is not.
TEST_F(Apps, ATransientApplicationStopsTheProgramUnlessItEndsNormally) {
  auto calm = apps.start(
      "calm",
      [this] {
        return otp::StartResult::ok(me.runtime().spawn([]() -> otp::Co<void> {
          co_await otp::receive<otp_test::Go>();  // then returns: normal
        }));
      },
      RestartType::transient);
  ASSERT_TRUE(calm);
  const otp::Ref ref = me.monitor(calm.value());
  otp::send(calm.value(), otp_test::Go{});
  ASSERT_TRUE(otp_test::await_down(me, ref));
  EXPECT_FALSE(apps.stopped());
  EXPECT_EQ(told.load(), 0);
  EXPECT_TRUE(logs.contains("application: calm, exited: normal, type: transient"));
  auto rough = apps.start("rough", top, RestartType::transient);
  ASSERT_TRUE(rough);
  end(rough.value(), otp::Reason::shutdown());
  ASSERT_TRUE(apps.stopped());
  EXPECT_EQ(apps.stopped()->name, "rough");
  EXPECT_EQ(told.load(), 1);
}

TEST_F(Apps, ATemporaryApplicationsEndIsOnlyLogged) {
  auto pid = apps.start("tmp", top);  // temporary, as application:start/1
  ASSERT_TRUE(pid);
  end(pid.value(), otp::Reason::kill());
  EXPECT_FALSE(apps.stopped());
  EXPECT_EQ(told.load(), 0);
  EXPECT_TRUE(logs.contains("application: tmp, exited: killed, type: temporary"));
  EXPECT_TRUE(apps.start("tmp", top).ok());  // and it can start again
}

TEST_F(Apps, StopAllStopsInReverseOrderAndIsNoEndOfThePermanentOnes) {
  std::vector<otp::Pid> tops;
  for (const char* name : {"first", "second", "third"}) {
    auto pid = apps.start(name, top, RestartType::permanent);
    ASSERT_TRUE(pid);
    tops.push_back(pid.value());
  }
  std::vector<otp::Ref> refs;
  for (const auto& pid : tops) refs.push_back(me.monitor(pid));
  apps.stop_all();
  std::vector<otp::Pid> order;
  for (int i = 0; i < 3; ++i) {
    auto down = me.receive<otp::Down>(kWait);
    ASSERT_TRUE(down);
    EXPECT_EQ(down->reason, otp::Reason::shutdown());
    order.push_back(down->pid);
  }
  EXPECT_EQ(order, (std::vector<otp::Pid>{tops[2], tops[1], tops[0]}));
  EXPECT_FALSE(apps.stopped());
  EXPECT_EQ(told.load(), 0);
}

TEST_F(Apps, ANameRunsOnceAndAFailedStartIsItsReason) {
  ASSERT_TRUE(apps.start("web", top));
  auto again = apps.start("web", top);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.reason(), otp::Reason::other("{already_started, web}"));
  auto refused = apps.start(
      "refused", [] { return otp::StartResult::error(otp::Reason::other("no_config")); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.reason(), otp::Reason::other("no_config"));
  EXPECT_FALSE(apps.running("refused"));
}

// The on_stop set after the end is told at once.
TEST_F(Apps, OnStopSetAfterTheEndIsToldAtOnce) {
  auto pid = apps.start("web", top, RestartType::permanent);
  ASSERT_TRUE(pid);
  end(pid.value(), otp::Reason::kill());
  int later = 0;
  apps.on_stop([&](const otp::Applications::Stopped& s) { later = s.status; });
  EXPECT_EQ(later, 1);
}

// wait_for_stop: what `hang_ten serve` and any service's main() do once everything is started.
// A SIGTERM (caught from catch_stop_signals() on, so the test process lives) stops every
// application, the last started first, and gives 0.
TEST_F(Apps, WaitForStopStopsEveryApplicationOnSigtermAndGivesZero) {
  apps.catch_stop_signals();
  auto first = apps.start("db", top, RestartType::permanent);
  auto second = apps.start("web", top, RestartType::permanent);
  ASSERT_TRUE(first && second);
  const otp::Ref first_ref = me.monitor(first.value());
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_EQ(apps.wait_for_stop(), 0);
  EXPECT_FALSE(apps.running("db"));
  EXPECT_FALSE(apps.running("web"));
  EXPECT_FALSE(apps.stopped());  // the program's own stop, not an application's end
  auto down = otp_test::await_down(me, first_ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
}

// ... and the end of a permanent application wakes it too, with that end's status.
TEST_F(Apps, WaitForStopGivesTheStatusOfAPermanentApplicationsEnd) {
  apps.catch_stop_signals();
  auto db = apps.start("db", top, RestartType::permanent);
  auto web = apps.start("web", top, RestartType::permanent);
  ASSERT_TRUE(db && web);
  end(web.value(), otp::Reason::kill());
  EXPECT_EQ(apps.wait_for_stop(), 1);
  EXPECT_TRUE(apps.running("db"));  // left to the runtime's end, as a node halts
  EXPECT_EQ(apps.stopped()->name, "web");
  EXPECT_EQ(told.load(), 1);  // the on_stop given before catch_stop_signals() still ran
}

}  // namespace
