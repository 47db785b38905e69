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

// The lesson in the console: the count survives `boom`.
TEST(Console, BoomKeepsTheCount) {
  console::Session hang_ten;
  ASSERT_PRED2(starts_with, hang_ten("new eric"), "{:ok, <0.");
  const std::string server = hang_ten("whereis eric");
  EXPECT_TRUE(starts_with(server, "<0.")) << server;
  EXPECT_EQ(hang_ten("count eric"), ":ok");
  EXPECT_EQ(hang_ten("count eric"), ":ok");
  EXPECT_EQ(hang_ten("show eric"),
            "%User{login: \"eric\", request_count: 2, token: #Token<redacted>}");
  EXPECT_TRUE(starts_with(hang_ten("boom eric"),
                          "** (exit) exited in: GenServer.call({:via, HangTen.Registry, "
                          "\"eric_server\"}, HangTen.Server.Boom, 5000)"));
  std::string shown = hang_ten("show eric");
  for (int i = 0; i < 1000 && starts_with(shown, "** ("); ++i)
    shown = hang_ten("show eric");  // until restarted
  EXPECT_EQ(shown, "%User{login: \"eric\", request_count: 2, token: #Token<redacted>}");
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

// Short real timeouts: the idle session's processes are gone from `ps`.
TEST(Console, AnIdleSessionLeavesNoProcess) {
  auto out = console::run(
      "--inactive-timeout 100ms -e 'new eric; new bob; ls; sleep 400ms; ps; ls; whereis eric'");
  ASSERT_GE(out.size(), 7u);
  EXPECT_TRUE(starts_with(out[0], "{:ok, <0."));
  EXPECT_EQ(out[2], "bob");
  EXPECT_EQ(out[3], "eric");
  EXPECT_EQ(out[4], ":ok");
  EXPECT_TRUE(starts_with(out[5], "PID"));
  for (std::size_t i = 5; i < out.size(); ++i) {
    EXPECT_EQ(out[i].find("eric"), std::string::npos) << out[i];
    EXPECT_EQ(out[i].find("bob"), std::string::npos) << out[i];
  }
  EXPECT_EQ(out.back(), "nil");
}

TEST(Console, AbsoluteTimeoutFlagAndDefaults) {
  auto help = console::run("--help");
  std::string text;
  for (const auto& line : help) text += line + "\n";
  EXPECT_NE(text.find("--inactive-timeout <duration>"), std::string::npos) << text;
  EXPECT_NE(text.find("(default 15m)"), std::string::npos) << text;
  EXPECT_NE(text.find("(default 60m)"), std::string::npos) << text;
  auto out = console::run(
      "--absolute-timeout 100ms -e 'new eric; count eric; sleep 400ms; ls; whereis eric'");
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[2], ":ok");
  EXPECT_EQ(out[3], "no sessions");
  EXPECT_EQ(out[4], "nil");
  EXPECT_EQ(console::run("--inactive-timeout soon").size(), 1u);
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

// The lesson in the console: a kill of the SubSupervisor stops the Server with an exit signal,
// which it traps, so it stashes the count (stage 4 lost it here).
TEST(Console, KillingTheSubSupervisorKeepsTheCount) {
  console::Session hang_ten;
  ASSERT_PRED2(starts_with, hang_ten("new eric"), "{:ok, <0.");
  EXPECT_EQ(hang_ten("count eric"), ":ok");
  EXPECT_EQ(hang_ten("count eric"), ":ok");
  EXPECT_EQ(hang_ten("kill eric_subsup"), "true");
  std::string shown = hang_ten("show eric");
  for (int i = 0; i < 1000 && starts_with(shown, "** ("); ++i)
    shown = hang_ten("show eric");  // until restarted
  EXPECT_EQ(shown, "%User{login: \"eric\", request_count: 2, token: #Token<redacted>}");
}

TEST(Console, TokenValidateAndRotate) {
  console::Session hang_ten;
  ASSERT_PRED2(starts_with, hang_ten("new eric"), "{:ok, <0.");
  std::string token = hang_ten("token eric");
  ASSERT_EQ(token.size(), 45u) << token;  // quoted
  token = token.substr(1, 43);
  EXPECT_EQ(hang_ten("validate eric " + token), "{:ok, 1}");
  EXPECT_EQ(hang_ten("validate eric " + std::string(43, 'A')), "{:error, :invalid_token}");
  const std::string rotated = hang_ten("rotate eric");
  EXPECT_NE(rotated, "\"" + token + "\"");
  EXPECT_EQ(hang_ten("validate eric " + token), "{:error, :invalid_token}");
  EXPECT_EQ(hang_ten("validate eric " + rotated.substr(1, 43)), "{:ok, 2}");
  EXPECT_EQ(hang_ten("show eric"),
            "%User{login: \"eric\", request_count: 2, token: #Token<redacted>}");
  EXPECT_EQ(hang_ten("token bob"),
            "** (ArgumentError) no session for \"bob\" (new bob starts one)");
}

// The flags of `serve` are listed with their defaults, and a bad value names its flag.
TEST(Console, ServeFlags) {
  std::string text;
  for (const auto& line : console::run("serve --help")) text += line + "\n";
  for (const char* flag : {"--listen", "--body-limit", "--header-limit", "--max-connections",
                           "--idle-timeout", "--read-timeout"})
    EXPECT_NE(text.find(flag), std::string::npos) << flag << "\n" << text;
  EXPECT_NE(text.find("127.0.0.1:4000"), std::string::npos) << text;
  EXPECT_NE(text.find("65536"), std::string::npos) << text;
  for (const char* flag : {"--stash", "--inactive-timeout", "--observer-readonly"})
    EXPECT_NE(text.find(flag), std::string::npos) << flag << "\n" << text;  // hang_ten's own
  for (const char* bad : {"serve --listen nowhere", "serve --listen 127.0.0.1:99999",
                          "serve --body-limit lots", "--stash mongodb://x:1"}) {
    auto out = console::run(bad);
    ASSERT_FALSE(out.empty()) << bad;
    const std::string flag = std::string(bad).substr(
        std::string(bad).find("--"),
        std::string(bad).find(' ', std::string(bad).find("--")) - std::string(bad).find("--"));
    EXPECT_NE(out.front().find(flag), std::string::npos) << bad << ": " << out.front();
  }
}

// Once the top supervisor is gone, commands say that the application is not running.
TEST(Console, SaysWhenTheApplicationStops) {
  auto out = console::run("-e 'new eric; kill HangTen.Application; whereis eric; stop eric; tree'");
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[2], "** (exit) the application hang_ten stopped: killed (start starts it again)");
  EXPECT_EQ(out[3],
            "** (RuntimeError) the application hang_ten is not running (start starts it again)");
  EXPECT_EQ(out[4], out[3]);
  EXPECT_EQ(out[5], "(empty: the application is not running)");
}

}  // namespace
