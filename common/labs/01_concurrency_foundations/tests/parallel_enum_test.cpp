// ParallelEnum: one process per element, results in the list's order.
#include "parallel_enum.hpp"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace {
struct Visited {
  int element;
  otp::Pid pid;
};
struct Go {};
}  // namespace

TEST(ParallelEnum, MapKeepsTheOrderOfTheList) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  std::vector<int> numbers;
  for (int i = 0; i < 50; ++i) numbers.push_back(i);
  auto squares = me.await(lab::ParallelEnum::map(numbers, [](int n) { return n * n; }));
  ASSERT_EQ(squares.size(), numbers.size());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(squares[i], i * i);
}

TEST(ParallelEnum, MapRunsEachElementInADistinctProcess) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const std::vector<int> numbers{1, 2, 3, 4, 5, 6, 7, 8};
  auto pids = me.await(lab::ParallelEnum::map(numbers, [](int) { return otp::self(); }));
  const std::set<otp::Pid> distinct(pids.begin(), pids.end());
  EXPECT_EQ(distinct.size(), numbers.size());
  EXPECT_FALSE(distinct.contains(me.pid()));
}

// Every job reports, then waits for a Go that the test sends only once all three have reported:
// jobs run one after the other would stop at the first.
TEST(ParallelEnum, MapRunsTheJobsAtTheSameTime) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid test = me.pid();
  rt.spawn([test]() -> otp::Co<void> {
    const std::vector<int> numbers{0, 1, 2};
    auto results = co_await lab::ParallelEnum::map(numbers, [test](int n) -> otp::Co<int> {
      otp::send(test, Visited{n, otp::self()});
      co_await otp::receive<Go>();
      co_return n * 10;
    });
    otp::send(test, std::move(results));
  });
  std::vector<Visited> visits;
  for (int i = 0; i < 3; ++i) {
    auto visit = me.receive<Visited>(10s);
    ASSERT_TRUE(visit) << "only " << i << " jobs started";
    visits.push_back(*visit);
  }
  for (const Visited& v : visits) otp::send(v.pid, Go{});
  EXPECT_EQ(me.receive<std::vector<int>>(), (std::vector<int>{0, 10, 20}));
}

TEST(ParallelEnum, EachVisitsEveryElementBeforeReturning) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid test = me.pid();
  const std::vector<int> numbers{10, 20, 30, 40};
  me.await(lab::ParallelEnum::each(numbers, [test](int n) {
    otp::send(test, Visited{n, otp::self()});
  }));
  std::set<int> elements;
  std::set<otp::Pid> pids;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    auto visit = me.receive<Visited>(0ms);  // already here: each has returned
    ASSERT_TRUE(visit);
    elements.insert(visit->element);
    pids.insert(visit->pid);
  }
  EXPECT_EQ(elements, std::set<int>(numbers.begin(), numbers.end()));
  EXPECT_EQ(pids.size(), numbers.size());
}
