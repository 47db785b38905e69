// The built `hang_ten` console, driven by scripts.
#include "console.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

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
  ASSERT_PRED2(starts_with, hang_ten("new eric"), "{:ok, <0.");
  const std::string server = hang_ten("whereis eric");
  EXPECT_TRUE(starts_with(server, "<0.")) << server;
  EXPECT_EQ(hang_ten("count eric"), ":ok");
  EXPECT_EQ(hang_ten("count eric"), ":ok");
  EXPECT_EQ(hang_ten("show eric"), "%User{login: \"eric\", request_count: 2}");
  EXPECT_TRUE(starts_with(hang_ten("boom eric"),
                          "** (exit) exited in: GenServer.call({:via, HangTen.Registry, "
                          "\"eric_server\"}, HangTen.Server.Boom, 5000)"));
  std::string shown = hang_ten("show eric");
  for (int i = 0; i < 1000 && starts_with(shown, "** ("); ++i)
    shown = hang_ten("show eric");  // until restarted
  EXPECT_EQ(shown, "%User{login: \"eric\", request_count: 0}");
  EXPECT_NE(hang_ten("whereis eric"), server);
}

TEST(Console, StopAndWhereis) {
  console::Session hang_ten;
  EXPECT_EQ(hang_ten("whereis eric"), "nil");
  EXPECT_PRED2(starts_with, hang_ten("new eric"), "{:ok, <0.");
  EXPECT_TRUE(starts_with(
      hang_ten("new eric"),
      "** (MatchError) no match of right hand side value: {:error, {:already_started, <0."));
  EXPECT_EQ(hang_ten("stop eric"), ":ok");
  EXPECT_EQ(hang_ten("whereis eric"), "nil");
  for (const char* bad :
       {"stop eric", "count eric", "show eric", "boom eric", "show \"a b\"", "whereis", "new e!"}) {
    EXPECT_TRUE(starts_with(hang_ten(bad), "** (")) << bad;
  }
}

}  // namespace

namespace {

// Whatever the command, a login without a session gets the same answer.
TEST(Console, AnUnknownLoginIsTheSameErrorForEveryCommand) {
  console::Session hang_ten;
  for (const char* command : {"count", "show", "boom", "stop"}) {
    EXPECT_EQ(hang_ten(std::string(command) + " bob"),
              "** (ArgumentError) no session for \"bob\" (new bob starts one)")
        << command;
  }
  EXPECT_EQ(hang_ten("whereis bob"), "nil");
}

// {shutdown, idle} is an exit reason, not a string: an orderly exit.
TEST(Console, KillTakesAShutdownReasonWithATerm) {
  console::Session hang_ten;
  ASSERT_PRED2(starts_with, hang_ten("new eric"), "{:ok, <0.");
  EXPECT_EQ(hang_ten("kill eric_server \"{shutdown, idle}\""), "true");
  std::string shown = hang_ten("show eric");
  for (int i = 0; i < 1000 && starts_with(shown, "** ("); ++i)
    shown = hang_ten("show eric");  // until restarted
  EXPECT_TRUE(starts_with(shown, "%User{login: \"eric\"")) << shown;
}

// Once the top supervisor is gone, commands say that the application is not running.
TEST(Console, SaysWhenTheApplicationStops) {
  auto out = console::run("-e 'new eric; kill HangTen.Supervisor; whereis eric; stop eric; tree'");
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[2], "** (exit) the application hang_ten stopped: killed (start starts it again)");
  EXPECT_EQ(out[3],
            "** (RuntimeError) the application hang_ten is not running (start starts it again)");
  EXPECT_EQ(out[4], out[3]);
  EXPECT_EQ(out[5], "(empty: the application is not running)");
}

}  // namespace
