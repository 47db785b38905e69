// The hand-rolled one_for_one Supervisor: children in order, restarts in place, shutdown last
// child first.
#include "supervisor.hpp"

#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "worker.hpp"

using lab::Supervisor;

namespace {

struct SupervisorTest : ::testing::Test {
  otp::LogCapture logs;
  otp::Runtime rt;
  otp::Scoped me{rt};
  otp::Pid sup;

  void SetUp() override {
    sup = Supervisor::start_link({lab::worker_spec(me.pid(), "a"), lab::worker_spec(me.pid(), "b"),
                                  lab::worker_spec(me.pid(), "c")});
    for (int i = 0; i < 3; ++i) me.receive<lab::Started>();
  }
  std::vector<Supervisor::Child> children() { return me.await(Supervisor::which_children(sup)); }
  std::vector<std::string> ids() {
    std::vector<std::string> out;
    for (const auto& c : children()) out.push_back(c.id);
    return out;
  }
  // Waits for `id` to be started again and returns its new pid.
  otp::Pid restarted(const std::string& id) {
    auto started = me.receive<lab::Started>(std::chrono::seconds(10));
    EXPECT_TRUE(started) << id << " was not restarted";
    EXPECT_EQ(started ? started->id : "", id);
    return started ? started->pid : otp::Pid{};
  }
};

using Ids = std::vector<std::string>;

}  // namespace

TEST_F(SupervisorTest, StartsEveryChildInItsOrder) {
  EXPECT_EQ(ids(), (Ids{"a", "b", "c"}));
  for (const auto& c : children()) EXPECT_TRUE(otp::is_alive(c.pid)) << c.id;
}

TEST_F(SupervisorTest, RestartsAKilledChildInItsPlaceAndLeavesTheOthers) {
  const auto before = children();
  otp::exit(before[1].pid, otp::Reason::kill());
  const otp::Pid b = restarted("b");
  const auto after = children();
  EXPECT_EQ(ids(), (Ids{"a", "b", "c"}));
  EXPECT_EQ(after[0].pid, before[0].pid);
  EXPECT_EQ(after[1].pid, b);
  EXPECT_NE(b, before[1].pid);
  EXPECT_EQ(after[2].pid, before[2].pid);
}

TEST_F(SupervisorTest, RestartsAChildThatCrashesOrEndsNormally) {
  otp::send(children()[0].pid, lab::Crash{});
  restarted("a");
  otp::send(children()[2].pid, lab::Quit{});
  restarted("c");
  EXPECT_TRUE(logs.contains("exited with normal, restarting"));
}

TEST_F(SupervisorTest, SurvivesItsChildrenDyingAgainAndAgain) {
  std::set<otp::Pid> pids;
  for (int i = 0; i < 20; ++i) {
    otp::exit(children()[0].pid, otp::Reason::kill());
    pids.insert(restarted("a"));
  }
  EXPECT_EQ(pids.size(), 20u);
  EXPECT_TRUE(otp::is_alive(sup));
}

TEST_F(SupervisorTest, ItsParentsExitStopsTheChildrenLastFirst) {
  const otp::Ref ref = me.monitor(sup);
  otp::exit(sup, otp::Reason::shutdown());
  Ids stopped;
  for (int i = 0; i < 3; ++i) {
    auto s = me.receive<lab::Stopped>();
    EXPECT_EQ(s.reason, otp::Reason::shutdown());
    stopped.push_back(s.id);
  }
  EXPECT_EQ(stopped, (Ids{"c", "b", "a"}));
  auto down = me.receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
  EXPECT_EQ(down.reason, otp::Reason::shutdown());
}
