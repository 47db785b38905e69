// Stage 3's lesson: the request count survives a crash of the Server.
#include "hang_ten.hpp"

#include <gtest/gtest.h>

#include "application.hpp"

namespace {

struct FaultTolerant : ::testing::Test {
  otp::LogCapture logs;
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};

  void SetUp() override { ASSERT_TRUE(me.await(hang_ten::Application::start()).ok()); }

  std::vector<otp::ChildInfo> sessions() {
    return me.await(
        otp::DynamicSupervisor::which_children(*rt.whereis(hang_ten::Supervisor::name)));
  }
  void crash(const std::string& login) {
    try {
      me.await(hang_ten::boom(login));
      FAIL() << "boom returned";
    } catch (const otp::ExitError& e) {
      EXPECT_EQ(e.reason, otp::Reason::other("boom"));
    }
    rt.run_until_idle();  // the supervisor restarts the Server
  }
};

TEST_F(FaultTolerant, AServerIsFoundByLoginAfterARestart) {
  ASSERT_TRUE(me.await(hang_ten::create("eric")).ok());
  auto before = hang_ten::whereis("eric");
  ASSERT_TRUE(before.has_value());
  crash("eric");
  auto now = hang_ten::whereis("eric");
  ASSERT_TRUE(now.has_value());
  EXPECT_NE(*now, *before);
  EXPECT_EQ(me.await(hang_ten::show("eric")).login, "eric");
}

TEST_F(FaultTolerant, RequestsAreCounted) {
  me.await(hang_ten::create("eric"));
  hang_ten::count_request("eric");
  hang_ten::count_request("eric");
  EXPECT_EQ(fmt::format("{}", me.await(hang_ten::show("eric"))),
            "%User{login: \"eric\", request_count: 2}");
}

TEST_F(FaultTolerant, TheRequestCountSurvivesACrash) {
  me.await(hang_ten::create("eric"));
  hang_ten::count_request("eric");
  hang_ten::count_request("eric");
  crash("eric");
  EXPECT_EQ(me.await(hang_ten::show("eric")).request_count, 2);
  hang_ten::count_request("eric");
  crash("eric");
  EXPECT_EQ(me.await(hang_ten::show("eric")).request_count, 3);
}

TEST_F(FaultTolerant, ALoginHasOneSession) {
  auto first = me.await(hang_ten::create("eric"));
  auto second = me.await(hang_ten::create("eric"));
  EXPECT_EQ(second.kind(), otp::StartResult::Kind::already_started);
  EXPECT_EQ(second.pid(), first.pid());
  EXPECT_EQ(sessions().size(), 1u);
}

TEST_F(FaultTolerant, StopEndsTheSession) {
  me.await(hang_ten::create("eric"));
  EXPECT_TRUE(me.await(hang_ten::stop("eric")));
  EXPECT_FALSE(hang_ten::whereis("eric").has_value());
  EXPECT_EQ(hang_ten::registry.count(), 0u);  // the Stash and the user's Supervisor too
  EXPECT_FALSE(me.await(hang_ten::stop("eric")));
  EXPECT_TRUE(sessions().empty());
}

TEST_F(FaultTolerant, InvalidLoginsAreRefused) {
  for (const std::string& bad :
       std::vector<std::string>{"", "a b", "eric!", std::string(65, 'a'), std::string("a\0b", 3)}) {
    EXPECT_THROW(me.await(hang_ten::create(bad)), std::invalid_argument) << bad;
    EXPECT_THROW(hang_ten::whereis(bad), std::invalid_argument) << bad;
    EXPECT_THROW(me.await(hang_ten::show(bad)), std::invalid_argument) << bad;
  }
  EXPECT_TRUE(sessions().empty());
}

}  // namespace
