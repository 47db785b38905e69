// GenServer and Supervisor with {via, Registry, key} names.
#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "otp/registry.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using otp_test::kWait;

struct Named : otp::GenServer<Named, int> {
  struct Get {};
  struct Add {
    int n;
  };
  struct Bump {};
  using Info = otp::Messages<Bump>;

  static otp::Start start_link(otp::Registry<>* reg, std::string key) {
    return GenServer::start_link(otp::Via{reg, std::move(key)}, 0);
  }
  int init(int n) { return n; }
  int handle_call(Get) { return state(); }
  void handle_cast(Add a) { state() += a.n; }
  void handle_info(Bump) { ++state(); }
};

TEST(Via, StartLinkRegistersAndCallCastSendReachTheServer) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Registry<> reg(otp::Keys::unique);
  auto started = me.await(Named::start_link(&reg, "eric_server"));
  ASSERT_TRUE(started.ok()) << started.to_string();
  otp::Via via{&reg, "eric_server"};
  EXPECT_EQ(via.whereis(), started.pid());
  Named::cast(via, Named::Add{2});
  otp::send(via, Named::Bump{});
  EXPECT_EQ(me.await(Named::call(via, Named::Get{})), 3);
}

TEST(Via, ViaNamedStartLinkTwiceGivesAlreadyStarted) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Registry<> reg(otp::Keys::unique);
  auto first = me.await(Named::start_link(&reg, "eric_server"));
  ASSERT_TRUE(first.ok());
  auto second = me.await(Named::start_link(&reg, "eric_server"));
  EXPECT_EQ(second.kind(), otp::StartResult::Kind::already_started);
  EXPECT_EQ(second.pid(), first.pid());
  EXPECT_EQ(reg.count(), 1u);
}

TEST(Via, NameIsFreeAgainOnceTheServerIsGone) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Registry<> reg(otp::Keys::unique);
  auto first = me.await(Named::start_link(&reg, "eric_server"));
  me.await(otp::stop(first.pid()));
  otp::Via via{&reg, "eric_server"};
  EXPECT_FALSE(via.whereis());
  try {
    me.await(Named::call(via, Named::Get{}));
    FAIL();
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::noproc());
  }
  auto again = me.await(Named::start_link(&reg, "eric_server"));
  EXPECT_TRUE(again.ok());
}

TEST(Via, SupervisorRestartsAViaNamedChildUnderTheSameName) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  otp::Registry<> reg(otp::Keys::unique);
  auto sup = me.await(otp::Supervisor::start_link({otp::ChildSpec{
      .id = "named", .start = [&reg] { return Named::start_link(&reg, "eric_server"); }}}));
  ASSERT_TRUE(sup.ok());
  otp::Via via{&reg, "eric_server"};
  otp::Pid first = *via.whereis();
  auto ref = me.monitor(first);
  otp::exit(first, otp::Reason::other("boom"));
  ASSERT_TRUE(otp_test::await_down(me, ref));
  // The supervisor handles the exit before this call reaches it.
  auto children = me.await(otp::Supervisor::which_children(sup.pid()));
  ASSERT_EQ(children.size(), 1u);
  EXPECT_NE(children[0].pid, first);
  EXPECT_EQ(via.whereis(), children[0].pid);
}

}  // namespace
