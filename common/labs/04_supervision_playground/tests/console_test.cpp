// The built `playground` console, driven by scripts: what each strategy, restart type, shutdown
// and intensity does, read from what the workers print.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/testing/console_driver.hpp"

using otp::testing::starts_with;

namespace {

std::vector<std::string> run(const std::string& script) {
  return otp::testing::run_console(OTP_PROGRAM, "-e '" + script + "'");
}

// The lines first ... last - 1.
std::vector<std::string> between(const std::vector<std::string>& out, std::size_t first,
                                 std::size_t last) {
  return {out.begin() + static_cast<long>(first), out.begin() + static_cast<long>(last)};
}

std::size_t index_of(const std::vector<std::string>& out, const std::string& line,
                     std::size_t from = 0) {
  for (std::size_t i = from; i < out.size(); ++i)
    if (out[i] == line) return i;
  return out.size();
}

// The workers that printed `what` ("start", "terminate: shutdown") in these lines, in order.
std::vector<std::string> workers_that(const std::vector<std::string>& lines,
                                      const std::string& what) {
  std::vector<std::string> names;
  for (const auto& line : lines) {
    if (line.size() > what.size() && line.ends_with("] " + what) && starts_with(line, "[w"))
      names.push_back(line.substr(1, line.find(' ') - 1));
  }
  return names;
}

using Names = std::vector<std::string>;

}  // namespace

TEST(Console, StartPrintsEveryWorkerThenTheSupervisor) {
  auto out = run("start one_for_one 3");
  ASSERT_GE(out.size(), 4u);
  EXPECT_EQ(workers_that(between(out, 0, 3), "start"), (Names{"w1", "w2", "w3"}));
  EXPECT_TRUE(starts_with(out[3], "{:ok, <0.")) << out[3];
}

TEST(Console, OneForOneRestartsOnlyTheCrashedWorker) {
  auto out = run("start one_for_one 3; crash w2");
  const auto crashed = between(out, index_of(out, "{:ok, <0.2.0>}") + 1, index_of(out, ":ok"));
  EXPECT_EQ(workers_that(crashed, "terminate: {exception, \"boom\"}"), Names{"w2"});
  EXPECT_EQ(workers_that(crashed, "start"), Names{"w2"});
  EXPECT_TRUE(workers_that(crashed, "terminate: shutdown").empty());
}

TEST(Console, OneForAllRestartsEveryWorker) {
  auto out = run("start one_for_all 3; crash w2");
  const auto crashed = between(out, index_of(out, "{:ok, <0.2.0>}") + 1, index_of(out, ":ok"));
  EXPECT_EQ(workers_that(crashed, "terminate: {exception, \"boom\"}"), Names{"w2"});
  EXPECT_EQ(workers_that(crashed, "terminate: shutdown"), (Names{"w3", "w1"}));  // in reverse
  EXPECT_EQ(workers_that(crashed, "start"), (Names{"w1", "w2", "w3"}));          // in order
}

TEST(Console, RestForOneRestartsTheCrashedWorkerAndThoseAfterIt) {
  auto out = run("start rest_for_one 3; crash w2");
  const auto crashed = between(out, index_of(out, "{:ok, <0.2.0>}") + 1, index_of(out, ":ok"));
  EXPECT_EQ(workers_that(crashed, "terminate: shutdown"), Names{"w3"});
  EXPECT_EQ(workers_that(crashed, "start"), (Names{"w2", "w3"}));
}

TEST(Console, ATransientWorkerStoppedNormallyIsNotRestarted) {
  auto out = run("start one_for_one 2 transient; stop w1; crash w2; tree");
  const std::size_t stopped = index_of(out, ":ok");
  const std::size_t crashed = index_of(out, ":ok", stopped + 1);
  ASSERT_LT(crashed, out.size());
  EXPECT_EQ(workers_that(between(out, 0, stopped), "terminate: normal"), Names{"w1"});
  EXPECT_TRUE(workers_that(between(out, 3, stopped), "start").empty());
  EXPECT_EQ(workers_that(between(out, stopped, crashed), "start"), Names{"w2"});  // a crash is
  const auto tree = between(out, crashed + 1, out.size());                        // restarted
  EXPECT_TRUE(std::ranges::none_of(tree, [](const auto& l) { return l.find(" w1 ") != l.npos; }));
}

TEST(Console, ATemporaryWorkerIsNeverRestarted) {
  auto out = run("start one_for_one 2 temporary; crash w1; tree");
  const std::size_t crashed = index_of(out, ":ok");
  ASSERT_LT(crashed, out.size());
  EXPECT_TRUE(workers_that(between(out, 3, crashed), "start").empty());
  const auto tree = between(out, crashed + 1, out.size());
  EXPECT_TRUE(std::ranges::none_of(tree, [](const auto& l) { return l.find(" w1 ") != l.npos; }));
  EXPECT_TRUE(std::ranges::any_of(tree, [](const auto& l) { return l.find(" w2 ") != l.npos; }));
}

TEST(Console, TooManyRestartsStopTheSupervisor) {
  auto out = run("start one_for_one 2 permanent 5s 1/1m; crash w1; crash w1; tree");
  const std::size_t gave_up = index_of(out, "the supervisor exited: shutdown");
  ASSERT_LT(gave_up, out.size());
  // It stops the other worker first, as it would on a shutdown.
  EXPECT_EQ(workers_that(between(out, index_of(out, ":ok"), gave_up), "terminate: shutdown"),
            Names{"w2"});
  EXPECT_EQ(out.back(), "(empty)");
}

TEST(Console, AShutdownTimeoutKillsAWorkerThatTakesTooLong) {
  auto out = run("start one_for_one 1 permanent 100ms; slow w1 1m; stop_tree");
  EXPECT_EQ(workers_that(out, "terminate: shutdown"), Names{"w1"});
  EXPECT_TRUE(workers_that(out, "terminate: done").empty());
  EXPECT_EQ(out.back(), "the supervisor exited: shutdown");
}

TEST(Console, AWorkerWithinItsShutdownTimeoutFinishesItsTerminate) {
  auto out = run("start one_for_one 1 permanent 1m; slow w1 50ms; stop_tree");
  EXPECT_EQ(workers_that(out, "terminate: done"), Names{"w1"});
  EXPECT_EQ(out.back(), "the supervisor exited: shutdown");
}

TEST(Console, AnExitSignalOtherThanKillIsTrappedByTheWorker) {
  auto out = run("start one_for_one 1; exit w1 boom; exit w1");
  ASSERT_GE(out.size(), 4u);
  EXPECT_TRUE(out[2].ends_with("trapped: boom")) << out[2];
  EXPECT_EQ(out[3], "true");
  EXPECT_TRUE(workers_that(out, "terminate: boom").empty());
  EXPECT_EQ(workers_that(out, "start"), (Names{"w1", "w1"}));  // killed, then restarted
}
