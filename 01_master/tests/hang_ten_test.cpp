// Stage 1's lesson: a crashed Server is restarted with its initial state, under a new pid.
#include "hang_ten.hpp"

#include <gtest/gtest.h>

#include "application.hpp"

namespace {

struct Master : ::testing::Test {
  otp::LogCapture logs;
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};

  void SetUp() override { ASSERT_TRUE(me.await(hang_ten::Application::start()).ok()); }

  std::vector<otp::ChildInfo> servers() {
    return me.await(
        otp::DynamicSupervisor::which_children(*rt.whereis(hang_ten::Supervisor::name)));
  }
};

TEST_F(Master, NewStartsAServerHoldingTheLogin) {
  auto started = me.await(hang_ten::create("eric"));
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(me.await(hang_ten::state(started.pid())), "eric");
  EXPECT_EQ(servers().size(), 1u);
}

TEST_F(Master, ACrashedServerIsRestartedWithItsInitialStateAndANewPid) {
  otp::Pid old = me.await(hang_ten::create("eric")).pid();
  try {
    me.await(hang_ten::boom(old));
    FAIL() << "boom returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::other("boom"));
  }
  rt.run_until_idle();
  auto now = servers();
  ASSERT_EQ(now.size(), 1u);
  EXPECT_NE(now[0].pid, old);
  EXPECT_EQ(me.await(hang_ten::state(now[0].pid)), "eric");
  EXPECT_TRUE(logs.contains("eric terminates: boom"));
}

TEST_F(Master, TheOldPidIsUselessAfterACrash) {
  otp::Pid old = me.await(hang_ten::create("eric")).pid();
  EXPECT_THROW(me.await(hang_ten::boom(old)), otp::ExitError);
  rt.run_until_idle();
  try {
    me.await(hang_ten::state(old));
    FAIL() << "the old pid answered";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::noproc());
  }
}

TEST_F(Master, InvalidLoginsAreRefused) {
  for (const std::string& bad :
       std::vector<std::string>{"", "a b", "eric!", std::string(65, 'a'), std::string("a\0b", 3)}) {
    EXPECT_THROW(me.await(hang_ten::create(bad)), std::invalid_argument) << bad;
  }
  EXPECT_TRUE(servers().empty());
  EXPECT_TRUE(me.await(hang_ten::create(std::string(64, 'a'))).ok());
  EXPECT_TRUE(me.await(hang_ten::create("e.r_i@c-1")).ok());
}

}  // namespace
