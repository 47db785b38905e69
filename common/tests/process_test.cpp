// Processes: spawn, self, spawn_link/spawn_monitor, pid identity, is_alive, sends to dead pids,
// message order and message types.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using otp_test::await_down;
using otp_test::Go;
using otp_test::kWait;
using otp_test::Never;
using otp_test::spawn_monitored;

namespace {

struct Ran {
  int value;
};
struct SelfIs {
  otp::Pid pid;
};
struct Num {
  int n;
};
struct Result {
  bool in_order;
  int count;
};
struct ChildIs {
  otp::Pid pid;
};
struct Report {
  otp::Pid pid;
  otp::Reason reason;
  bool ref_matches;
};
struct Payload {
  std::string name;
  std::vector<int> values;
};
struct Wrapped {
  std::unique_ptr<int> p;
};

TEST(Process, SpawnRunsTheBody) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    otp::send(to, Ran{42});
    co_return;
  });
  auto r = me.receive<Ran>(kWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, 42);
}

TEST(Process, SpawnPassesArgumentsToTheBody) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto body = [](otp::Pid to, int a, std::string s) -> otp::Co<void> {
    otp::send(to, Ran{a + static_cast<int>(s.size())});
    co_return;
  };
  rt.spawn(body, me.pid(), 40, std::string("ab"));
  auto r = me.receive<Ran>(kWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, 42);
}

TEST(Process, SelfInsideEqualsThePidSpawnReturned) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    otp::send(to, SelfIs{otp::self()});
    co_return;
  });
  auto r = me.receive<SelfIs>(kWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->pid, pid);
  EXPECT_TRUE(static_cast<bool>(pid));
}

TEST(Process, SelfOutsideAProcessThrowsLogicError) {
  otp::Runtime rt{otp::Options{.threads = 1}};
  EXPECT_FALSE(otp::in_process());
  EXPECT_THROW((void)otp::self(), std::logic_error);
}

TEST(Process, SpawnFromInsideAProcessRunsTheChild) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    otp::Pid child = otp::spawn([to]() -> otp::Co<void> {
      otp::send(to, SelfIs{otp::self()});
      co_return;
    });
    otp::send(to, ChildIs{child});
    co_return;
  });
  auto child = me.receive<ChildIs>(kWait);
  auto self_is = me.receive<SelfIs>(kWait);
  ASSERT_TRUE(child.has_value());
  ASSERT_TRUE(self_is.has_value());
  EXPECT_EQ(child->pid, self_is->pid);
}

TEST(Process, SpawnLinkLinksChildToParent) {
  // The child crashes; the (non-trapping) parent dies with the child's reason.
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid parent = rt.spawn([to]() -> otp::Co<void> {
    otp::Pid child = otp::spawn_link([]() -> otp::Co<void> {
      co_await otp::receive<Go>();
      otp::exit(otp::Reason::other("child_crashed"));
    });
    otp::send(to, ChildIs{child});
    co_await otp::receive<Never>();
  });
  auto child = me.receive<ChildIs>(kWait);
  ASSERT_TRUE(child.has_value());
  otp::Ref ref = me.monitor(parent);
  otp::send(child->pid, Go{});
  auto down = await_down(me, ref);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->reason, otp::Reason::other("child_crashed"));
}

TEST(Process, SpawnMonitorDeliversDownWithTheReturnedRef) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    auto [child, ref] = otp::spawn_monitor([]() -> otp::Co<void> {
      throw std::runtime_error("child failed");
      co_return;
    });
    auto down = co_await otp::receive<otp::Down>();
    otp::send(to, Report{down.pid, down.reason, down.ref == ref && down.pid == child});
  });
  auto r = me.receive<Report>(kWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ref_matches);
  EXPECT_EQ(r->reason, otp::Reason::exception("child failed"));
}

TEST(Process, SpawnLinkOutsideAProcessThrowsLogicError) {
  otp::Runtime rt{otp::Options{.threads = 1}};
  // otp::spawn_link needs a calling process; a plain thread has none.
  EXPECT_THROW((void)otp::spawn_link([]() -> otp::Co<void> { co_return; }), std::logic_error);
}

TEST(Process, PidsOfManyProcessesAreAllDistinct) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  constexpr int n = 2000;
  std::set<std::uint64_t> ids;
  std::vector<otp::Pid> pids;
  for (int i = 0; i < n; ++i) {
    otp::Pid p = rt.spawn([]() -> otp::Co<void> { co_return; });
    ids.insert(p.id());
    pids.push_back(p);
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(ids.count(0), 0u);
  EXPECT_EQ(ids.count(me.pid().id()), 0u);
}

TEST(Process, PidIsNeverReusedAfterItsProcessExits) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  std::set<std::uint64_t> seen;
  for (int round = 0; round < 50; ++round) {
    auto [pid, ref] = spawn_monitored(me, []() -> otp::Co<void> { co_return; });
    ASSERT_TRUE(await_down(me, ref).has_value());
    EXPECT_TRUE(seen.insert(pid.id()).second) << "pid " << pid.to_string() << " reused";
  }
}

TEST(Process, MessageToAnOldPidDoesNotReachALaterProcess) {
  // Process blocks are pooled; a later process may live in the same block as an
  // exited one. A message to the old pid must not reach it.
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  auto [old_pid, ref] = spawn_monitored(me, []() -> otp::Co<void> { co_return; });
  ASSERT_TRUE(await_down(me, ref).has_value());
  otp::Pid fresh = rt.spawn([to]() -> otp::Co<void> {
    auto n = co_await otp::receive<Num>();
    otp::send(to, n);
  });
  EXPECT_NE(fresh, old_pid);
  otp::send(old_pid, Num{1});
  otp::send(fresh, Num{2});
  auto got = me.receive<Num>(kWait);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->n, 2);
}

TEST(Process, IsAliveIsFalseAfterExit) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid pid = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Go>(); });
  EXPECT_TRUE(otp::is_alive(pid));
  otp::Ref ref = me.monitor(pid);
  otp::send(pid, Go{});
  ASSERT_TRUE(await_down(me, ref).has_value());
  EXPECT_FALSE(otp::is_alive(pid));
  EXPECT_FALSE(otp::is_alive(otp::Pid{}));
}

TEST(Process, SendToADeadPidIsSilentlyDropped) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto [pid, ref] = spawn_monitored(me, []() -> otp::Co<void> { co_return; });
  ASSERT_TRUE(await_down(me, ref).has_value());
  EXPECT_NO_THROW(otp::send(pid, Num{1}));
  EXPECT_NO_THROW(otp::send(pid, std::string("hello")));
  EXPECT_NO_THROW(otp::send(otp::Pid{}, Num{2}));
  // From inside a process as well.
  const otp::Pid to = me.pid();
  rt.spawn([to, pid]() -> otp::Co<void> {
    otp::send(pid, Num{3});
    otp::send(to, Ran{1});
    co_return;
  });
  EXPECT_TRUE(me.receive<Ran>(kWait).has_value());
}

TEST(Process, MessagesFromOneSenderArriveInOrder) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  constexpr int n = 10'000;
  const otp::Pid to = me.pid();
  otp::Pid receiver = rt.spawn([to]() -> otp::Co<void> {
    bool in_order = true;
    for (int i = 0; i < n; ++i) {
      auto m = co_await otp::receive<Num>();
      if (m.n != i) in_order = false;
    }
    otp::send(to, Result{in_order, n});
  });
  rt.spawn([receiver]() -> otp::Co<void> {
    for (int i = 0; i < n; ++i) otp::send(receiver, Num{i});
    co_return;
  });
  auto r = me.receive<Result>(kWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->in_order);
}

TEST(Process, MessagesFromAPlainThreadArriveInOrder) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  constexpr int n = 10'000;
  const otp::Pid to = me.pid();
  otp::Pid echo = rt.spawn([to]() -> otp::Co<void> {
    for (int i = 0; i < n; ++i) otp::send(to, co_await otp::receive<Num>());
  });
  for (int i = 0; i < n; ++i) otp::send(echo, Num{i});
  for (int i = 0; i < n; ++i) {
    auto m = me.receive<Num>(kWait);
    ASSERT_TRUE(m.has_value());
    ASSERT_EQ(m->n, i);
  }
}

TEST(Process, MessagesFromEachOfManySendersStayInOrder) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  constexpr int senders = 4, per_sender = 2'500;
  struct Tagged {
    int sender;
    int n;
  };
  const otp::Pid to = me.pid();
  otp::Pid receiver = rt.spawn([to]() -> otp::Co<void> {
    std::vector<int> next(senders, 0);
    bool in_order = true;
    for (int i = 0; i < senders * per_sender; ++i) {
      auto m = co_await otp::receive<Tagged>();
      if (m.n != next[m.sender]) in_order = false;
      next[m.sender] = m.n + 1;
    }
    otp::send(to, Result{in_order, senders * per_sender});
  });
  for (int s = 0; s < senders; ++s) {
    rt.spawn([receiver, s]() -> otp::Co<void> {
      for (int i = 0; i < per_sender; ++i) otp::send(receiver, Tagged{s, i});
      co_return;
    });
  }
  auto r = me.receive<Result>(kWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->in_order);
}

TEST(Process, MoveOnlyMessagesAreDeliveredIntact) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid echo = rt.spawn([to]() -> otp::Co<void> {
    auto p = co_await otp::receive<std::unique_ptr<int>>();
    *p += 1;
    otp::send(to, std::move(p));
    auto w = co_await otp::receive<Wrapped>();
    otp::send(to, std::move(w));
  });
  auto owned = std::make_unique<int>(41);
  int* address = owned.get();
  otp::send(echo, std::move(owned));
  auto back = me.receive<std::unique_ptr<int>>(kWait);
  ASSERT_TRUE(back.has_value());
  ASSERT_NE(*back, nullptr);
  EXPECT_EQ(**back, 42);
  EXPECT_EQ(back->get(), address);  // moved, never copied

  otp::send(echo, Wrapped{std::make_unique<int>(7)});
  auto w = me.receive<Wrapped>(kWait);
  ASSERT_TRUE(w.has_value());
  ASSERT_NE(w->p, nullptr);
  EXPECT_EQ(*w->p, 7);
}

TEST(Process, StringAndStructMessagesAreDeliveredIntact) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid echo = rt.spawn([to]() -> otp::Co<void> {
    auto s = co_await otp::receive<std::string>();
    otp::send(to, s + "!");
    auto p = co_await otp::receive<Payload>();
    p.values.push_back(static_cast<int>(p.values.size()));
    otp::send(to, std::move(p));
  });
  otp::send(echo, std::string(1000, 'x'));
  auto s = me.receive<std::string>(kWait);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, std::string(1000, 'x') + "!");

  otp::send(echo, Payload{"numbers", {1, 2, 3}});
  auto p = me.receive<Payload>(kWait);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->name, "numbers");
  EXPECT_EQ(p->values, (std::vector<int>{1, 2, 3, 3}));
}

TEST(Process, UndeliveredMessagesAreDestroyedWhenTheReceiverExits) {
  std::atomic<int> destroyed{0};
  {
    otp::Runtime rt{otp::Options{.threads = 2}};
    otp::Scoped me{rt};
    otp::Pid pid = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Go>(); });
    otp::Ref ref = me.monitor(pid);
    for (int i = 0; i < 3; ++i) otp::send(pid, std::make_shared<otp_test::DtorCounter>(&destroyed));
    otp::send(pid, Go{});
    ASSERT_TRUE(await_down(me, ref).has_value());
    EXPECT_EQ(destroyed.load(), 3);
  }
}

}  // namespace

TEST(Process, ExitTakesTheReasonAsErlangWritesIt) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto [boom, boom_ref] = spawn_monitored(me, []() -> otp::Co<void> {
    otp::exit("boom");
    co_return;
  });
  auto down = otp_test::await_down(me, boom_ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::other("boom"));

  auto [sleeper, sleeper_ref] =
      spawn_monitored(me, []() -> otp::Co<void> { co_await otp::sleep(1h); });
  otp::exit(sleeper, "kill");
  down = otp_test::await_down(me, sleeper_ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::killed());
}

TEST(Reason, TimeoutIsAKindOfItsOwn) {
  EXPECT_TRUE(otp::Reason::timeout().is_timeout());
  EXPECT_EQ(otp::Reason::timeout().to_string(), "timeout");
  EXPECT_EQ(otp::Reason::parse("timeout"), otp::Reason::timeout());
  EXPECT_FALSE(otp::Reason::other("timeout").is_timeout());
  EXPECT_FALSE(otp::Reason::other("boom") == otp::Reason::timeout());
}
