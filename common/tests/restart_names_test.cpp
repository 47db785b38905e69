// Names and restarts: a supervisor never fails to restart a child because the child's
// predecessor, which a killed supervisor above it has let go, still holds the name.
#include <gtest/gtest.h>

#include "otp/otp.hpp"

namespace {

using namespace std::chrono_literals;

otp::Registry<> names{otp::Keys::unique, "Names"};

// A server with a local name and one with a Via name, started under Middle.
struct Local : otp::GenServer<Local, int> {
  static otp::Start start_link() { return GenServer::start_link(otp::Name::local("local_worker")); }
};
struct Viaed : otp::GenServer<Viaed, int> {
  static otp::Start start_link() { return GenServer::start_link(otp::Via{&names, "via_worker"}); }
};
struct Lower : otp::Supervisor {
  static otp::Start start_link() {
    return otp::Supervisor::start_link(otp::Name::local("lower"), {otp::child<Viaed>()});
  }
};
// Middle: the workers directly, and one more level down.
struct Middle : otp::Supervisor {
  static otp::Start start_link() {
    return otp::Supervisor::start_link(otp::Name::local("middle"),
                                       {otp::child<Local>(), otp::child<Lower>()});
  }
};

struct RestartNames : ::testing::TestWithParam<unsigned> {
  otp::LogCapture logs;
  otp::Runtime rt{otp::Options{.threads = GetParam(), .virtual_clock = true}};
  otp::Scoped me{rt};
};

TEST_P(RestartNames, AKilledSupervisorsChildrenNeverHoldUpItsRestart) {
  auto top = me.await(otp::Supervisor::start_link({otp::child<Middle>()}));
  ASSERT_TRUE(top.ok());
  const auto processes = rt.process_count();
  for (int i = 0; i < 200; ++i) {
    const auto local = rt.whereis("local_worker");
    const auto via = names.whereis_name("via_worker");
    ASSERT_TRUE(local && via) << "round " << i;
    otp::exit(*rt.whereis(i % 2 == 0 ? "middle" : "lower"), otp::Reason::kill());
    rt.run_until_idle();
    ASSERT_EQ(rt.process_count(), processes) << "round " << i;
    if (i % 2 == 0) {
      EXPECT_NE(rt.whereis("local_worker"), local);  // Middle restarted its children
    }
    EXPECT_NE(names.whereis_name("via_worker"), via);
    rt.advance(2s);
  }
  EXPECT_TRUE(otp::is_alive(top.pid()));
  EXPECT_FALSE(logs.contains("already_started"));
  EXPECT_FALSE(logs.contains("reached_max_restart_intensity"));
}

// A name held by a process that is not going away stays taken.
TEST_P(RestartNames, ANameHeldByALiveProcessIsStillTaken) {
  auto first = me.await(Local::start_link());
  ASSERT_TRUE(first.ok());
  auto second = me.await(otp::Supervisor::start_link({otp::child<Local>()}));
  EXPECT_EQ(second.kind(), otp::StartResult::Kind::error);
  EXPECT_TRUE(logs.contains("already_started"));
}

INSTANTIATE_TEST_SUITE_P(Threads, RestartNames, ::testing::Values(1u, 2u),
                         [](const auto& info) { return fmt::format("{}Threads", info.param); });

}  // namespace
