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
