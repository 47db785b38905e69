// The built `hang_ten` console, driven by scripts.
#include "console.hpp"

#include <cstdlib>
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

// The lesson in the console: the pid that `new` printed stops working after `boom`.
TEST(Console, BoomMakesTheOldPidUseless) {
  console::Session hang_ten;
  const std::string started = hang_ten("new eric");
  ASSERT_TRUE(starts_with(started, "{:ok, <0.")) << started;
  const std::string pid = console::pid_of(started);
  EXPECT_EQ(hang_ten("state " + pid), "\"eric\"");
  EXPECT_TRUE(starts_with(hang_ten("boom " + pid), "** (exit) exited in: GenServer.call(" + pid));
  EXPECT_TRUE(starts_with(hang_ten("state " + pid), "** (exit)"));
}

}  // namespace

namespace {

// A pid of the wrong kind (the supervisor's, the first one tree shows) is refused with a clear
// line, and nobody is hurt: the users are still there.
TEST(Console, APidOfTheWrongKindIsRefusedAndHurtsNobody) {
  console::Session hang_ten;
  const std::string eric = console::pid_of(hang_ten("new eric"));
  for (const char* command : {"state <0.2.0>", "boom <0.2.0>"}) {
    EXPECT_EQ(hang_ten(command),
              "** (ArgumentError) <0.2.0> is not a HangTen.Server: it is HangTen.Supervisor "
              "(DynamicSupervisor)");
  }
  EXPECT_EQ(hang_ten("state " + eric), "\"eric\"");
}

// The console is the top supervisor's parent: an exit signal from it stops the application.
TEST(Console, SaysWhenTheApplicationStopsAndStartsItAgain) {
  auto out =
      console::run("-e 'new eric; kill <0.2.0> normal; tree; new jose; start; new jose; tree'");
  ASSERT_EQ(out.size(), 9u);
  EXPECT_EQ(out[1], "true");
  EXPECT_EQ(out[2], "** (exit) the application hang_ten stopped: normal (start starts it again)");
  EXPECT_EQ(out[3], "(empty: the application is not running)");
  EXPECT_EQ(out[4],
            "** (RuntimeError) the application hang_ten is not running (start starts it again)");
  EXPECT_EQ(out[5], ":ok");
  EXPECT_TRUE(starts_with(out[6], "{:ok, <0.")) << out[6];
  EXPECT_TRUE(starts_with(out[7], "<0.")) << out[7];
  EXPECT_TRUE(out[8].ends_with("(GenServer HangTen.Server) state: jose")) << out[8];
}

TEST(Console, SemicolonsSeparateCommandsOnStdinToo) {
  auto out = console::run("<<'SCRIPT'\nnew eric; new jose\nquit; new bob\nSCRIPT");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(starts_with(out[1], "{:ok, <0.")) << out[1];
}

TEST(Console, DashEFailsWhenACommandFailedAndQuietDrawsOnlyTheTree) {
  EXPECT_EQ(std::system(OTP_PROGRAM " -e 'new eric; frob' >/dev/null 2>&1"), 256);  // exit status 1
  EXPECT_EQ(std::system(OTP_PROGRAM " -e 'new eric; tree' >/dev/null 2>&1"), 0);
  auto out = console::run("-q -e 'new eric; new jose; tree dot'");
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front().rfind("digraph", 0), 0u) << out.front();
  EXPECT_EQ(out.back(), "}");
}

}  // namespace
