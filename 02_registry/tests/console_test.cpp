// The built `hang_ten` console, driven by scripts.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "console.hpp"

namespace {

using console::starts_with;

TEST(Console, BadInputPrintsOneErrorLineEach) {
  auto out = console::run("-e 'frob; new; new \"a b\"; sleep soon; kill nobody; quit; frob'");
  ASSERT_EQ(out.size(), 5u);
  for (const auto& line : out) EXPECT_TRUE(starts_with(line, "** (")) << line;
}

TEST(Console, ReadsCommandsFromStdin) {
  auto out = console::run("<<'SCRIPT'\nhelp\n\nfrob\nquit\nhelp\nSCRIPT");
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front(), "Commands:");
  EXPECT_TRUE(starts_with(out.back(), "** (UndefinedFunctionError)"));
}

TEST(Console, HelpFlagPrintsUsage) {
  auto out = console::run("--help");
  ASSERT_FALSE(out.empty());
  EXPECT_TRUE(starts_with(out.front(), "Usage: hang_ten"));
}

// The lesson in the console: found by login after `boom`, but the count is lost.
TEST(Console, BoomKeepsTheLoginButLosesTheCount) {
  console::Session hang_ten;
  ASSERT_TRUE(starts_with(hang_ten("new eric"), "{:ok, <0."));
  const std::string server = hang_ten("whereis eric");
  EXPECT_TRUE(starts_with(server, "<0.")) << server;
  EXPECT_EQ(hang_ten("count eric"), ":ok");
  EXPECT_EQ(hang_ten("count eric"), ":ok");
  EXPECT_EQ(hang_ten("show eric"), "%User{login: \"eric\", request_count: 2}");
  EXPECT_TRUE(starts_with(hang_ten("boom eric"), "** (exit) exited in: GenServer.call({:via, HangTen.Registry, \"eric_server\"}, HangTen.Server.Boom, 5000)"));
  std::string shown = hang_ten("show eric");
  for (int i = 0; i < 1000 && starts_with(shown, "** (exit)"); ++i) shown = hang_ten("show eric");  // until restarted
  EXPECT_EQ(shown, "%User{login: \"eric\", request_count: 0}");
  EXPECT_NE(hang_ten("whereis eric"), server);
}

TEST(Console, StopAndWhereis) {
  console::Session hang_ten;
  EXPECT_EQ(hang_ten("whereis eric"), "nil");
  EXPECT_TRUE(starts_with(hang_ten("new eric"), "{:ok, <0."));
  EXPECT_TRUE(starts_with(hang_ten("new eric"), "** (MatchError) no match of right hand side value: {:error, {:already_started, <0."));
  EXPECT_EQ(hang_ten("stop eric"), ":ok");
  EXPECT_EQ(hang_ten("whereis eric"), "nil");
  for (const char* bad : {"stop eric", "count eric", "show eric", "boom eric", "show \"a b\"", "whereis", "new e!"}) {
    EXPECT_TRUE(starts_with(hang_ten(bad), "** (")) << bad;
  }
}

}  // namespace
