// parse_tree: the words of `start` into flags and child specs.
#include "playground.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;

TEST(ParseTree, DefaultsToThreePermanentWorkers) {
  const lab::Tree tree = lab::parse_tree({"one_for_one"});
  EXPECT_EQ(tree.flags.strategy, otp::Strategy::one_for_one);
  EXPECT_EQ(tree.workers, 3);
  EXPECT_EQ(tree.restart, otp::Restart::permanent);
  EXPECT_EQ(tree.shutdown.kind(), otp::Shutdown::Kind::timeout);
  EXPECT_EQ(tree.shutdown.timeout(), otp::Duration(5s));
  EXPECT_EQ(tree.flags.max_restarts, 3);
  EXPECT_EQ(tree.flags.max_seconds, otp::Duration(5s));
}

TEST(ParseTree, ReadsEveryWord) {
  const lab::Tree tree =
      lab::parse_tree({"rest_for_one", "4", "transient", "brutal_kill", "5/10s"});
  EXPECT_EQ(tree.flags.strategy, otp::Strategy::rest_for_one);
  EXPECT_EQ(tree.workers, 4);
  EXPECT_EQ(tree.restart, otp::Restart::transient);
  EXPECT_EQ(tree.shutdown.kind(), otp::Shutdown::Kind::brutal_kill);
  EXPECT_EQ(tree.flags.max_restarts, 5);
  EXPECT_EQ(tree.flags.max_seconds, otp::Duration(10s));
}

TEST(ParseTree, RefusesWhatItDoesNotKnow) {
  EXPECT_THROW(lab::parse_tree({"all_for_one"}), otp::ConsoleError);
  EXPECT_THROW(lab::parse_tree({"one_for_one", "0"}), otp::ConsoleError);
  EXPECT_THROW(lab::parse_tree({"one_for_one", "3", "forever"}), otp::ConsoleError);
  EXPECT_THROW(lab::parse_tree({"one_for_one", "3", "permanent", "soon"}), otp::ConsoleError);
}
