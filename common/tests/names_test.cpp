// Local names: register_name, whereis, unregister_name, send by name.
#include <string>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using otp_test::await_down;
using otp_test::Go;
using otp_test::kWait;
using otp_test::Never;

namespace {

struct Hello {
  int n;
};
struct Answer {
  bool ok;
  std::string text;
};
struct Registered {
  bool ok;
};
struct Where {
  std::optional<otp::Pid> pid;
};

// Echoes Hello back to `to` forever.
otp::Pid spawn_echo(otp::Runtime& rt, otp::Pid to) {
  return rt.spawn([to]() -> otp::Co<void> {
    for (;;) otp::send(to, co_await otp::receive<Hello>());
  });
}

TEST(Names, RegisterThenWhereisFindsThePid) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = spawn_echo(rt, me.pid());
  EXPECT_FALSE(rt.whereis("echo").has_value());
  EXPECT_TRUE(rt.register_name("echo", pid));
  auto found = rt.whereis("echo");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, pid);
}

TEST(Names, UnregisterRemovesTheName) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = spawn_echo(rt, me.pid());
  ASSERT_TRUE(rt.register_name("echo", pid));
  EXPECT_TRUE(rt.unregister_name("echo"));
  EXPECT_FALSE(rt.whereis("echo").has_value());
  EXPECT_FALSE(rt.unregister_name("echo"));
  // The pid may take a name again.
  EXPECT_TRUE(rt.register_name("echo2", pid));
}

TEST(Names, SendToANameReachesTheProcess) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = spawn_echo(rt, me.pid());
  ASSERT_TRUE(rt.register_name("echo", pid));
  // From the test thread.
  me.send("echo", Hello{1});
  auto h = me.receive<Hello>(kWait);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->n, 1);
  // From a process.
  rt.spawn([]() -> otp::Co<void> {
    otp::send("echo", Hello{2});
    co_return;
  });
  h = me.receive<Hello>(kWait);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->n, 2);
}

TEST(Names, SendToAnUnknownNameThrowsBadArgInTheSender) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    try {
      otp::send("nobody_here", Hello{1});
      otp::send(to, Answer{false, "no exception"});
    } catch (const otp::BadArg& e) {
      otp::send(to, Answer{true, e.what()});
    }
    co_return;
  });
  auto a = me.receive<Answer>(kWait);
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->ok) << a->text;
  EXPECT_NE(a->text.find("nobody_here"), std::string::npos) << a->text;
  EXPECT_THROW(me.send("nobody_here", Hello{1}), otp::BadArg);
}

TEST(Names, UncaughtBadArgCrashesTheSender) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto [pid, ref] = otp_test::spawn_monitored(me, []() -> otp::Co<void> {
    otp::send("nobody_here", Hello{1});
    co_return;
  });
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason.kind(), otp::Reason::Kind::exception);
}

TEST(Names, NameIsFreedWhenItsProcessExits) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Go>(); });
  ASSERT_TRUE(rt.register_name("worker", pid));
  otp::Ref ref = me.monitor(pid);
  me.send("worker", Go{});
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_FALSE(rt.whereis("worker").has_value());
  // Another process may take the name now.
  otp::Pid other = spawn_echo(rt, me.pid());
  EXPECT_TRUE(rt.register_name("worker", other));
  EXPECT_EQ(rt.whereis("worker"), std::optional<otp::Pid>(other));
}

TEST(Names, NameIsFreedWhenItsProcessIsKilled) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = spawn_echo(rt, me.pid());
  ASSERT_TRUE(rt.register_name("victim", pid));
  otp::Ref ref = me.monitor(pid);
  otp::exit(pid, otp::Reason::kill());
  ASSERT_TRUE(await_down(me, ref).has_value());
  EXPECT_FALSE(rt.whereis("victim").has_value());
  EXPECT_THROW(me.send("victim", Hello{1}), otp::BadArg);
}

TEST(Names, RegisterFailsWhenTheNameIsTaken) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid a = spawn_echo(rt, me.pid());
  otp::Pid b = spawn_echo(rt, me.pid());
  ASSERT_TRUE(rt.register_name("only", a));
  EXPECT_FALSE(rt.register_name("only", b));
  EXPECT_EQ(rt.whereis("only"), std::optional<otp::Pid>(a));
}

TEST(Names, RegisterFailsWhenThePidAlreadyHasAName) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid a = spawn_echo(rt, me.pid());
  ASSERT_TRUE(rt.register_name("first", a));
  EXPECT_FALSE(rt.register_name("second", a));
  EXPECT_FALSE(rt.whereis("second").has_value());
}

TEST(Names, RegisterFailsForADeadPid) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto [pid, ref] = otp_test::spawn_monitored(me, []() -> otp::Co<void> { co_return; });
  ASSERT_TRUE(await_down(me, ref).has_value());
  EXPECT_FALSE(rt.register_name("ghost", pid));
  EXPECT_FALSE(rt.whereis("ghost").has_value());
}

TEST(Names, RegisterAndWhereisFromInsideAProcess) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  struct Info {
    bool first;
    bool again;
    std::optional<otp::Pid> where;
    std::string mine;
    bool unreg;
    std::optional<otp::Pid> after;
  };
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    Info info;
    info.first = otp::register_name("inside", otp::self());
    info.again = otp::register_name("inside", otp::self());
    info.where = otp::whereis("inside");
    info.mine = otp::registered_name();
    info.unreg = otp::unregister_name("inside");
    info.after = otp::whereis("inside");
    otp::send(to, std::move(info));
    co_await otp::receive<Never>();
  });
  auto info = me.receive<Info>(kWait);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->first);
  EXPECT_FALSE(info->again);
  EXPECT_EQ(info->where, std::optional<otp::Pid>(pid));
  EXPECT_EQ(info->mine, "inside");
  EXPECT_TRUE(info->unreg);
  EXPECT_FALSE(info->after.has_value());
}

TEST(Names, EmptyNameCannotBeRegistered) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid a = spawn_echo(rt, me.pid());
  EXPECT_FALSE(rt.register_name("", a));
}

}  // namespace
