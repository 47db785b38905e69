// Selective receive: by type, by predicate, multi-clause, guarded clauses, any message,
// `after` timeouts, polling, sleep, yield, and waiting that holds no OS thread.
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using otp_test::Go;
using otp_test::kWait;
using otp_test::Never;

namespace {

struct A {
  int n;
};
struct B {
  int n;
};
struct C {
  int n;
};
struct Job {
  int id;
  bool urgent;
};
struct Seen {
  std::vector<std::string> order;
};
struct Outcome {
  bool got;
  int n;
};
struct Woke {};
struct Ready {
  otp::Pid pid;
};
struct Ping {
  otp::Pid from;
  int n;
};
struct Pong {
  int n;
};
struct Stop {};
struct Spins {
  int count;
};

std::string show(const A& a) { return "A" + std::to_string(a.n); }
std::string show(const B& b) { return "B" + std::to_string(b.n); }
std::string show(const C& c) { return "C" + std::to_string(c.n); }

TEST(Receive, ByTypeLeavesOtherMessagesInOrder) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    Seen seen;
    seen.order.push_back(show(co_await otp::receive<B>()));
    seen.order.push_back(show(co_await otp::receive<A>()));
    seen.order.push_back(show(co_await otp::receive<A>()));
    otp::send(to, std::move(seen));
  });
  otp::send(pid, A{1});
  otp::send(pid, B{1});
  otp::send(pid, A{2});
  otp::send(pid, Go{});
  auto seen = me.receive<Seen>(kWait);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->order, (std::vector<std::string>{"B1", "A1", "A2"}));
}

TEST(Receive, ByTypeWaitsForAMessageThatArrivesLater) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    otp::send(to, Ready{otp::self()});
    auto b = co_await otp::receive<B>();
    auto a = co_await otp::receive<A>();
    otp::send(to, Seen{{show(b), show(a)}});
  });
  ASSERT_TRUE(me.receive<Ready>(kWait).has_value());
  otp::send(pid, A{1});
  otp::send(pid, B{2});
  auto seen = me.receive<Seen>(kWait);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->order, (std::vector<std::string>{"B2", "A1"}));
}

TEST(Receive, ByPredicateTakesTheFirstMatchAndKeepsTheRestInOrder) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    Seen seen;
    seen.order.push_back(show(co_await otp::receive<A>([](const A& a) { return a.n % 2 == 0; })));
    for (int i = 0; i < 3; ++i) seen.order.push_back(show(co_await otp::receive<A>()));
    otp::send(to, std::move(seen));
  });
  for (int n : {1, 3, 4, 5, 6}) otp::send(pid, A{n});
  otp::send(pid, Go{});
  auto seen = me.receive<Seen>(kWait);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->order, (std::vector<std::string>{"A4", "A1", "A3", "A5"}));
}

TEST(Receive, ByPredicateWaitsUntilAMatchingMessageArrives) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    otp::send(to, Ready{otp::self()});
    auto a = co_await otp::receive<A>([](const A& a) { return a.n == 3; });
    auto first = co_await otp::receive<A>();
    otp::send(to, Seen{{show(a), show(first)}});
  });
  ASSERT_TRUE(me.receive<Ready>(kWait).has_value());
  otp::send(pid, A{1});
  otp::send(pid, A{2});
  otp::send(pid, A{3});
  auto seen = me.receive<Seen>(kWait);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->order, (std::vector<std::string>{"A3", "A1"}));
}

TEST(Receive, MultiClausePicksTheFirstMessageInMailboxOrder) {
  // The A clause is listed first, but B arrived first: B is taken.
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    Seen seen;
    for (int i = 0; i < 3; ++i) {
      std::string s =
          co_await otp::receive([](A a) { return show(a); }, [](B b) { return show(b); });
      seen.order.push_back(s);
    }
    seen.order.push_back(show(co_await otp::receive<C>()));
    otp::send(to, std::move(seen));
  });
  otp::send(pid, C{0});
  otp::send(pid, B{1});
  otp::send(pid, A{2});
  otp::send(pid, B{3});
  otp::send(pid, Go{});
  auto seen = me.receive<Seen>(kWait);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->order, (std::vector<std::string>{"B1", "A2", "B3", "C0"}));
}

TEST(Receive, MultiClauseWithVoidHandlersRunsTheMatchingHandler) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    Seen seen;
    for (int i = 0; i < 2; ++i) {
      co_await otp::receive([&](A a) { seen.order.push_back(show(a)); },
                            [&](B b) { seen.order.push_back(show(b)); });
    }
    otp::send(to, std::move(seen));
  });
  otp::send(pid, B{7});
  otp::send(pid, A{8});
  auto seen = me.receive<Seen>(kWait);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->order, (std::vector<std::string>{"B7", "A8"}));
}

TEST(Receive, GuardedClauseSkipsMessagesItsGuardRejects) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    Seen seen;
    std::string first = co_await otp::receive(
        otp::match<Job>([](const Job& j) { return j.urgent; },
                        [](Job j) { return "urgent" + std::to_string(j.id); }),
        [](B b) { return show(b); });
    seen.order.push_back(first);
    auto rest = co_await otp::receive<Job>();
    seen.order.push_back("job" + std::to_string(rest.id));
    otp::send(to, std::move(seen));
  });
  otp::send(pid, Job{1, false});
  otp::send(pid, Job{2, true});
  otp::send(pid, B{3});
  otp::send(pid, Go{});
  auto seen = me.receive<Seen>(kWait);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->order, (std::vector<std::string>{"urgent2", "job1"}));
}

TEST(Receive, GuardedClausesOfTheSameTypeAreTriedInOrder) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    Seen seen;
    for (int i = 0; i < 3; ++i) {
      std::string s =
          co_await otp::receive(otp::match<A>([](const A& a) { return a.n > 10; },
                                              [](A a) { return "big" + std::to_string(a.n); }),
                                otp::match<A>([](const A&) { return true; },
                                              [](A a) { return "small" + std::to_string(a.n); }));
      seen.order.push_back(s);
    }
    otp::send(to, std::move(seen));
  });
  otp::send(pid, A{5});
  otp::send(pid, A{50});
  otp::send(pid, A{10});
  auto seen = me.receive<Seen>(kWait);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->order, (std::vector<std::string>{"small5", "big50", "small10"}));
}

// receive_any takes the oldest message whatever its type, the ones a selective receive
// skipped included; AnyMessage tells its type and gives its value.
TEST(Receive, AnyTakesTheOldestMessageWhateverItsType) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    Seen seen;
    seen.order.push_back(show(co_await otp::receive<B>()));
    for (int i = 0; i < 2; ++i) {
      otp::AnyMessage m = co_await otp::receive_any();
      if (!m || m.get<B>() != nullptr || m.is<B>()) seen.order.emplace_back("wrong");
      if (const A* a = m.get<A>()) seen.order.push_back(show(*a));
      if (C* c = m.get<C>()) seen.order.push_back(show(std::move(*c)));
      seen.order.emplace_back(m.type_name());
    }
    otp::send(to, std::move(seen));
  });
  otp::send(pid, A{1});
  otp::send(pid, B{2});
  otp::send(pid, C{3});
  otp::send(pid, Go{});
  auto seen = me.receive<Seen>(kWait);
  ASSERT_TRUE(seen.has_value());
  ASSERT_EQ(seen->order.size(), 5u);
  EXPECT_EQ(seen->order[0], "B2");
  EXPECT_EQ(seen->order[1], "A1");
  EXPECT_TRUE(seen->order[2].ends_with("A")) << seen->order[2];
  EXPECT_EQ(seen->order[3], "C3");
  EXPECT_TRUE(seen->order[4].ends_with("C")) << seen->order[4];
}

// A standard type is named as a reader writes it, not as the standard library spells it
// (libstdc++: std::__cxx11::basic_string<char>).
TEST(Receive, AnyNamesAStandardTypeAsAReaderWritesIt) {
  otp::Runtime rt{otp::Options{.threads = 1}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    Seen seen;
    for (int i = 0; i < 3; ++i) {
      otp::AnyMessage m = co_await otp::receive_any();
      seen.order.emplace_back(m.type_name());
    }
    otp::send(to, std::move(seen));
  });
  otp::send(pid, std::string("hello"));
  otp::send(pid, std::vector<std::string>{});
  otp::send(pid, std::pair<std::string_view, int>{});
  auto seen = me.receive<Seen>(kWait);
  ASSERT_TRUE(seen.has_value());
  ASSERT_EQ(seen->order.size(), 3u);
  EXPECT_EQ(seen->order[0], "std::string");
  EXPECT_EQ(seen->order[1], "std::vector<std::string>");
  EXPECT_EQ(seen->order[2], "std::pair<std::string_view, int>");
}

TEST(Receive, AnyWithTimeoutIsEmptyWhenNothingCameInTime) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    otp::AnyMessage none = co_await otp::receive_any(2s);
    otp::send(to, Outcome{static_cast<bool>(none), none.type_name().empty() ? 0 : -1});
    otp::AnyMessage some = co_await otp::receive_any(2s);
    otp::AnyMessage moved = std::move(some);
    const bool emptied = !some;  // NOLINT(bugprone-use-after-move): a moved-from one is empty
    otp::send(
        to, Outcome{static_cast<bool>(moved) && emptied, moved.get<A>() ? moved.get<A>()->n : -1});
  });
  rt.advance(1999ms);
  EXPECT_FALSE(me.receive<Outcome>(0ms).has_value()) << "timed out early";
  rt.advance(1ms);
  auto first = me.receive<Outcome>(0ms);
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->got);
  EXPECT_EQ(first->n, 0);
  otp::send(pid, A{7});
  rt.run_until_idle();
  auto second = me.receive<Outcome>(0ms);
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->got);
  EXPECT_EQ(second->n, 7);
}

TEST(Receive, TimeoutReturnsNulloptWhenTheVirtualClockPassesIt) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    auto m = co_await otp::receive<A>(2s);
    otp::send(to, Outcome{m.has_value(), m ? m->n : -1});
  });
  rt.advance(1999ms);
  EXPECT_FALSE(me.receive<Outcome>(0ms).has_value()) << "timed out early";
  rt.advance(1ms);
  auto r = me.receive<Outcome>(0ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->got);
}

TEST(Receive, TimeoutIsNotTakenWhenTheMessageArrivesFirst) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    auto m = co_await otp::receive<A>(2s);
    otp::send(to, Outcome{m.has_value(), m ? m->n : -1});
    // A second receive on the same process after the first one's timer was cancelled.
    auto m2 = co_await otp::receive<A>(2s);
    otp::send(to, Outcome{m2.has_value(), m2 ? m2->n : -1});
  });
  rt.advance(1s);
  otp::send(pid, A{7});
  rt.run_until_idle();
  auto r = me.receive<Outcome>(0ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->got);
  EXPECT_EQ(r->n, 7);
  // The cancelled timeout of the first receive must not end the second one early.
  rt.advance(1999ms);
  EXPECT_FALSE(me.receive<Outcome>(0ms).has_value());
  rt.advance(1ms);
  auto r2 = me.receive<Outcome>(0ms);
  ASSERT_TRUE(r2.has_value());
  EXPECT_FALSE(r2->got);
}

TEST(Receive, PredicateReceiveWithTimeoutIgnoresNonMatchingMessages) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    auto m = co_await otp::receive<A>([](const A& a) { return a.n == 2; }, 100ms);
    otp::send(to, Outcome{m.has_value(), m ? m->n : -1});
    auto left = co_await otp::receive<A>(0ms);
    otp::send(to, Outcome{left.has_value(), left ? left->n : -1});
  });
  otp::send(pid, A{1});
  rt.advance(100ms);
  auto r = me.receive<Outcome>(0ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->got);
  auto left = me.receive<Outcome>(0ms);
  ASSERT_TRUE(left.has_value());
  EXPECT_TRUE(left->got);
  EXPECT_EQ(left->n, 1);
}

TEST(Receive, ZeroTimeoutPollsWithoutWaiting) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    auto none = co_await otp::receive<A>(0ms);
    otp::send(to, Outcome{none.has_value(), 0});
    otp::send(otp::self(), A{5});
    auto some = co_await otp::receive<A>(0ms);
    otp::send(to, Outcome{some.has_value(), some ? some->n : -1});
  });
  rt.run_until_idle();  // no time passes
  auto first = me.receive<Outcome>(0ms);
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->got);
  auto second = me.receive<Outcome>(0ms);
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->got);
  EXPECT_EQ(second->n, 5);
}

TEST(Receive, AfterClauseRunsWhenNothingMatchesInTime) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    std::string s = co_await otp::receive([](A a) { return show(a); },
                                          otp::after(1s, [] { return std::string("timeout"); }));
    otp::send(to, s);
    std::string s2 = co_await otp::receive([](A a) { return show(a); },
                                           otp::after(1s, [] { return std::string("timeout"); }));
    otp::send(to, s2);
  });
  otp::send(pid, B{1});  // matches no clause
  rt.advance(999ms);
  EXPECT_FALSE(me.receive<std::string>(0ms).has_value());
  rt.advance(1ms);
  auto s = me.receive<std::string>(0ms);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, "timeout");
  otp::send(pid, A{9});
  rt.run_until_idle();
  auto s2 = me.receive<std::string>(0ms);
  ASSERT_TRUE(s2.has_value());
  EXPECT_EQ(*s2, "A9");
}

TEST(Receive, AfterZeroPollsTheMailbox) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    int r = co_await otp::receive([](A a) { return a.n; }, otp::after(0ms, [] { return -1; }));
    otp::send(to, Outcome{r >= 0, r});
  });
  rt.run_until_idle();
  auto r = me.receive<Outcome>(0ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->got);
}

TEST(Receive, SleepWaitsOnTheVirtualClock) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    co_await otp::sleep(5s);
    otp::send(to, Woke{});
    // A message that arrived during the sleep is still there afterwards.
    auto a = co_await otp::receive<A>(0ms);
    otp::send(to, Outcome{a.has_value(), a ? a->n : -1});
  });
  rt.advance(1s);
  otp::send(pid, A{3});
  rt.advance(3999ms);
  EXPECT_FALSE(me.receive<Woke>(0ms).has_value());
  rt.advance(1ms);
  EXPECT_TRUE(me.receive<Woke>(0ms).has_value());
  auto r = me.receive<Outcome>(0ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->got);
  EXPECT_EQ(r->n, 3);
}

TEST(Receive, NestedCoroutineReceivesSelectivelyForItsProcess) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  struct Helpers {
    static otp::Co<int> next_even() {
      auto a = co_await otp::receive<A>([](const A& a) { return a.n % 2 == 0; });
      co_return a.n;
    }
    static otp::Co<int> sum_two() {
      int x = co_await next_even();
      int y = co_await next_even();
      co_return x + y;
    }
  };
  otp::Pid pid = rt.spawn([to]() -> otp::Co<void> {
    int s = co_await Helpers::sum_two();
    otp::send(to, Outcome{true, s});
  });
  for (int n : {1, 2, 3, 4}) otp::send(pid, A{n});
  auto r = me.receive<Outcome>(kWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->n, 6);
}

TEST(Receive, TenThousandBlockedProcessesOnTwoThreadsAllWakeAndReply) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  constexpr int n = 10'000;
  const otp::Pid to = me.pid();
  std::vector<otp::Pid> pids;
  pids.reserve(n);
  for (int i = 0; i < n; ++i) {
    pids.push_back(rt.spawn([to]() -> otp::Co<void> {
      otp::send(to, Ready{otp::self()});
      auto p = co_await otp::receive<Ping>();
      otp::send(p.from, Pong{p.n});
    }));
  }
  // All of them are now waiting at once, on two threads.
  for (int i = 0; i < n; ++i) ASSERT_TRUE(me.receive<Ready>(kWait).has_value()) << i;
  EXPECT_GE(rt.process_count(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) otp::send(pids[i], Ping{me.pid(), i});
  std::vector<bool> seen(n, false);
  for (int i = 0; i < n; ++i) {
    auto p = me.receive<Pong>(kWait);
    ASSERT_TRUE(p.has_value()) << "only " << i << " replies";
    ASSERT_GE(p->n, 0);
    ASSERT_LT(p->n, n);
    EXPECT_FALSE(seen[p->n]);
    seen[p->n] = true;
  }
}

TEST(Receive, YieldLetsAnotherProcessRunOnOneThread) {
  // The spinner only polls and yields; it can only stop if the stopper runs,
  // which on one scheduler thread needs yield() to give up the thread.
  otp::Runtime rt{otp::Options{.threads = 1}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    const otp::Pid self = otp::self();
    otp::spawn([self]() -> otp::Co<void> {
      otp::send(self, Stop{});
      co_return;
    });
    int spins = 0;
    for (;;) {
      auto stop = co_await otp::receive<Stop>(0ms);
      if (stop) break;
      ++spins;
      co_await otp::yield();
    }
    otp::send(to, Spins{spins});
  });
  auto r = me.receive<Spins>(kWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_GE(r->count, 1);
}

TEST(Receive, YieldingProcessesTakeTurnsOnOneThread) {
  // Two processes on one thread each report a step, then yield: the other one's
  // step comes before the yielder's next one.
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    auto stepper = [to](int id) -> otp::Co<void> {
      co_await otp::receive<Go>();
      for (int i = 0; i < 5; ++i) {
        otp::send(to, A{id});
        co_await otp::yield();
      }
    };
    otp::Pid p1 = otp::spawn(stepper, 1);
    otp::Pid p2 = otp::spawn(stepper, 2);
    otp::send(p1, Go{});
    otp::send(p2, Go{});
    co_return;
  });
  rt.run_until_idle();
  std::vector<int> order;
  while (auto a = me.receive<A>(0ms)) order.push_back(a->n);
  ASSERT_EQ(order.size(), 10u);
  for (std::size_t i = 1; i < order.size(); ++i)
    EXPECT_NE(order[i], order[i - 1]) << "at step " << i;
}

TEST(Receive, YieldGivesATurnToAProcessWokenFromAPlainThread) {
  // While a `hog` process holds the only scheduler thread, the test thread wakes
  // `spinner` and then `stopper` (both through the runtime's injection path).
  // Then the hog ends. The spinner polls for Stop and yields; each yield should
  // give the runnable stopper a turn, so the spinner should yield about once
  // before Stop arrives, not dozens of times.
  otp::Runtime rt{otp::Options{.threads = 1}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid stopper = rt.spawn([]() -> otp::Co<void> {
    auto go = co_await otp::receive<Ping>();
    otp::send(go.from, Stop{});
  });
  otp::Pid spinner = rt.spawn([to]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    int yields = 0;
    while (!(co_await otp::receive<Stop>(0ms))) {
      ++yields;
      co_await otp::yield();
    }
    otp::send(to, Spins{yields});
  });
  auto release = std::make_shared<std::atomic<bool>>(false);
  rt.spawn([to, release]() -> otp::Co<void> {
    otp::send(to, Ready{otp::self()});
    while (!release->load()) {
    }  // holds the scheduler thread on purpose
    co_return;
  });
  ASSERT_TRUE(me.receive<Ready>(kWait).has_value());
  otp::send(spinner, Go{});
  otp::send(stopper, Ping{spinner, 0});
  release->store(true);
  auto r = me.receive<Spins>(kWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_LE(r->count, 2) << "the spinner yielded " << r->count
                         << " times while the stopper was runnable";
}

TEST(Receive, BlockedReceiveDoesNotBlockOtherProcessesOnOneThread) {
  otp::Runtime rt{otp::Options{.threads = 1}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Never>(); });
  rt.spawn([to]() -> otp::Co<void> {
    otp::send(to, Woke{});
    co_return;
  });
  EXPECT_TRUE(me.receive<Woke>(kWait).has_value());
}

}  // namespace
