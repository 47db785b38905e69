// otp::ProcessGroups (Erlang's pg): join, leave, members, which_groups, exits.
#include "otp/pg.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

using otp_test::await_down;
using otp_test::kWait;
using otp_test::Never;

namespace {

otp::Pid spawn_idle(otp::Runtime& rt) {
  return rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Never>(); });
}

std::vector<otp::Pid> sorted(std::vector<otp::Pid> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(ProcessGroups, JoinedProcessesAreMembersInJoinOrder) {
  otp::ProcessGroups pg;
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Pid a = spawn_idle(rt);
  otp::Pid b = spawn_idle(rt);
  otp::Pid c = spawn_idle(rt);
  pg.join("g", a);
  pg.join("g", std::vector<otp::Pid>{b, c});
  EXPECT_EQ(pg.members("g"), (std::vector<otp::Pid>{a, b, c}));
  EXPECT_TRUE(pg.members("other").empty());
}

TEST(ProcessGroups, LeaveRemovesTheMembershipAndIsFalseForANonMember) {
  otp::ProcessGroups pg;
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Pid a = spawn_idle(rt);
  otp::Pid b = spawn_idle(rt);
  pg.join("g", a);
  pg.join("g", b);
  EXPECT_TRUE(pg.leave("g", a));
  EXPECT_EQ(pg.members("g"), std::vector<otp::Pid>{b});
  EXPECT_FALSE(pg.leave("g", a));
  EXPECT_FALSE(pg.leave("nowhere", b));
}

TEST(ProcessGroups, AProcessJoinedTwiceIsAMemberTwiceUntilItLeavesTwice) {
  otp::ProcessGroups pg;
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Pid a = spawn_idle(rt);
  pg.join("g", a);
  pg.join("g", std::vector<otp::Pid>{a});
  EXPECT_EQ(pg.members("g"), (std::vector<otp::Pid>{a, a}));
  EXPECT_TRUE(pg.leave("g", a));
  EXPECT_EQ(pg.members("g"), std::vector<otp::Pid>{a});
  EXPECT_TRUE(pg.leave("g", a));
  EXPECT_TRUE(pg.members("g").empty());
  EXPECT_FALSE(pg.leave("g", a));
}

TEST(ProcessGroups, MembersVanishWhenTheirProcessExits) {
  otp::ProcessGroups pg;
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid stays = spawn_idle(rt);
  otp::Pid goes = spawn_idle(rt);
  pg.join("g", goes);
  pg.join("g", goes);
  pg.join("g", stays);
  pg.join("h", goes);
  otp::Ref ref = me.monitor(goes);
  otp::exit(goes, otp::Reason::kill());
  ASSERT_TRUE(await_down(me, ref));
  EXPECT_EQ(pg.members("g"), std::vector<otp::Pid>{stays});
  EXPECT_TRUE(pg.members("h").empty());
  EXPECT_EQ(pg.which_groups(), std::vector<std::string>{"g"});
}

TEST(ProcessGroups, JoiningAnExitedProcessDoesNothing) {
  otp::ProcessGroups pg;
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto [pid, ref] = otp_test::spawn_monitored(me, []() -> otp::Co<void> { co_return; });
  ASSERT_TRUE(await_down(me, ref));
  pg.join("g", pid);
  EXPECT_TRUE(pg.members("g").empty());
  EXPECT_TRUE(pg.which_groups().empty());
}

TEST(ProcessGroups, WhichGroupsListsTheGroupsThatHaveMembers) {
  otp::ProcessGroups pg;
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Pid a = spawn_idle(rt);
  EXPECT_TRUE(pg.which_groups().empty());
  pg.join("x", a);
  pg.join("y", a);
  EXPECT_EQ(sorted(pg.which_groups()), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(pg.leave("x", a));
  EXPECT_EQ(pg.which_groups(), std::vector<std::string>{"y"});
}

TEST(ProcessGroups, ScopesAreIndependent) {
  otp::ProcessGroups one;
  otp::ProcessGroups two;
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid a = spawn_idle(rt);
  one.join("g", a);
  two.join("g", a);
  EXPECT_TRUE(one.leave("g", a));
  EXPECT_EQ(two.members("g"), std::vector<otp::Pid>{a});
  otp::Ref ref = me.monitor(a);
  otp::exit(a, otp::Reason::kill());
  ASSERT_TRUE(await_down(me, ref));
  EXPECT_TRUE(two.members("g").empty());
}

TEST(ProcessGroups, ConcurrentJoinsAndExitsLeaveOnlyLiveMembers) {
  constexpr int kProcs = 200;
  struct Joined {};
  otp::ProcessGroups pg;
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  std::vector<otp::Pid> keep;
  std::vector<otp::Ref> downs;
  for (int i = 0; i < kProcs; ++i) {
    // Each joins two groups itself; every other one then exits at once.
    const bool exits = i % 2 == 0;
    auto [pid, ref] = otp_test::spawn_monitored(me, [&pg, to, exits]() -> otp::Co<void> {
      pg.join("all", otp::self());
      pg.join(exits ? "leaving" : "staying", otp::self());
      otp::send(to, Joined{});
      if (!exits) co_await otp::receive<Never>();
    });
    if (exits) {
      downs.push_back(ref);
    } else {
      keep.push_back(pid);
    }
  }
  for (int i = 0; i < kProcs; ++i) ASSERT_TRUE(me.receive<Joined>(kWait));
  for (const auto& ref : downs) ASSERT_TRUE(await_down(me, ref));
  EXPECT_EQ(sorted(pg.members("staying")), sorted(keep));
  EXPECT_EQ(sorted(pg.members("all")), sorted(keep));
  EXPECT_TRUE(pg.members("leaving").empty());
}

// pg_SUITE's monitor_scope case, in spirit: the groups as they are, then every join and leave
// (an exit's too), each told once, until demonitor.
TEST(ProcessGroups, MonitorScopeGivesTheGroupsThenEveryJoinAndLeave) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me(rt);
  otp::ProcessGroups pg;
  const otp::Pid a = spawn_idle(rt);
  const otp::Pid b = spawn_idle(rt);
  pg.join("g", a);
  const otp::ScopeWatch watch = pg.monitor_scope();
  ASSERT_EQ(watch.groups.size(), 1u);
  EXPECT_EQ(watch.groups[0].first, "g");
  EXPECT_EQ(watch.groups[0].second, std::vector<otp::Pid>{a});
  EXPECT_FALSE(me.receive<otp::GroupChange>(std::chrono::milliseconds(0)))
      << "what is given at the start is not told again";

  pg.join("h", b);  // told before join returns
  auto joined = me.receive<otp::GroupChange>(std::chrono::milliseconds(0));
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->ref, watch.ref);
  EXPECT_EQ(joined->kind, otp::GroupChange::Kind::join);
  EXPECT_EQ(joined->group, "h");
  EXPECT_EQ(joined->pids, std::vector<otp::Pid>{b});

  EXPECT_TRUE(pg.leave("g", a));
  auto left = me.receive<otp::GroupChange>(std::chrono::milliseconds(0));
  ASSERT_TRUE(left);
  EXPECT_EQ(left->kind, otp::GroupChange::Kind::leave);
  EXPECT_EQ(left->group, "g");
  EXPECT_EQ(left->pids, std::vector<otp::Pid>{a});

  pg.join("h", b);  // b is in h twice now
  ASSERT_TRUE(me.receive<otp::GroupChange>(std::chrono::milliseconds(0)));
  otp::exit(b, otp::Reason::kill());
  auto gone = me.receive<otp::GroupChange>(kWait);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->kind, otp::GroupChange::Kind::leave);
  EXPECT_EQ(gone->group, "h");
  EXPECT_EQ(gone->pids, (std::vector<otp::Pid>{b, b}));

  EXPECT_TRUE(pg.demonitor(watch.ref));
  pg.join("g", a);
  EXPECT_FALSE(me.receive<otp::GroupChange>(std::chrono::milliseconds(0)));
  EXPECT_FALSE(pg.demonitor(watch.ref));
}

// pg:monitor/1: one group's members, then that group's changes only; demonitor drops the
// changes still waiting in the mailbox. get_local_members: every member, on one node.
TEST(ProcessGroups, MonitorOfAGroupHearsOfThatGroupOnly) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me(rt);
  otp::ProcessGroups pg;
  const otp::Pid a = spawn_idle(rt);
  const otp::Pid b = spawn_idle(rt);
  pg.join("g", a);
  EXPECT_EQ(pg.local_members("g"), pg.members("g"));
  auto [ref, now] = pg.monitor("g");
  EXPECT_EQ(now, std::vector<otp::Pid>{a});
  pg.join("other", a);
  EXPECT_FALSE(me.receive<otp::GroupChange>(std::chrono::milliseconds(0)));
  pg.join("g", b);
  auto joined = me.receive<otp::GroupChange>(std::chrono::milliseconds(0));
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->ref, ref);
  EXPECT_EQ(joined->pids, std::vector<otp::Pid>{b});

  pg.join("g", a);  // a change left in the mailbox
  EXPECT_TRUE(pg.demonitor(ref));
  EXPECT_FALSE(me.receive<otp::GroupChange>(std::chrono::milliseconds(0)));
}

}  // namespace
