// The console at its interactive prompt, on a pseudo-terminal: what a person at the keyboard gets
// (Ctrl-C, Ctrl-D, history between runs, Tab completion), against tests/programs/test_console.cpp.
// Every wait is bounded (PtySession::bound); none decides by how long something took.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "otp/testing/console_driver.hpp"

namespace {

using otp::testing::PtySession;
using otp::testing::TempDir;
using Env = std::vector<std::pair<std::string, std::optional<std::string>>>;

constexpr const char* ctrl_c = "\x03";
constexpr const char* ctrl_d = "\x04";
constexpr const char* up = "\x1b[A";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A home of its own for each test: a fresh state directory, no ~/.editrc.
struct ConsoleTerminal : ::testing::Test {
  TempDir home;
  std::filesystem::path state = home.path() / "state";

  Env env(const char* term = "xterm") const {
    return {{"HOME", home.path().string()}, {"XDG_STATE_HOME", state.string()}, {"TERM", term}};
  }
  // The prompt `hang_ten(n)> `, with the line editor ready for keys.
  static bool prompt(PtySession& console, int n) {
    return console.wait_for("hang_ten(" + std::to_string(n) + ")> ") && console.wait_for_editing();
  }
  std::unique_ptr<PtySession> start(const Env& e) {
    auto console = std::make_unique<PtySession>(OTP_TEST_CONSOLE, std::vector<std::string>{}, e);
    EXPECT_TRUE(console->started());
    EXPECT_TRUE(prompt(*console, 1)) << console->screen();
    return console;
  }
};

TEST_F(ConsoleTerminal, CtrlCDropsTheLineBeingTyped) {
  auto console = start(env());
  console->type("new eric");
  ASSERT_TRUE(console->wait_for("new eric")) << console->screen();
  console->type(ctrl_c);
  ASSERT_TRUE(prompt(*console, 1)) << console->screen();  // a fresh prompt, nothing run
  console->type("ls\r");
  EXPECT_TRUE(console->wait_for("no sessions")) << console->screen();
  EXPECT_TRUE(console->wait_for("hang_ten(2)> ")) << console->screen();
}

// `sleep 60m` ends within the test's bound only if Ctrl-C cuts it short.
TEST_F(ConsoleTerminal, CtrlCInterruptsASleep) {
  auto console = start(env());
  console->type("sleep 60m\r");
  ASSERT_TRUE(console->wait_for("sleep 60m\r\n")) << console->screen();
  ASSERT_TRUE(console->wait_for_editing(false)) << console->screen();  // the line is being run
  console->type(ctrl_c);
  EXPECT_TRUE(console->wait_for(":interrupted")) << console->screen();
  ASSERT_TRUE(prompt(*console, 2)) << console->screen();
  console->type("ls\r");
  EXPECT_TRUE(console->wait_for("no sessions")) << console->screen();
}

TEST_F(ConsoleTerminal, CtrlDLeavesOnANewLineWithStatusZero) {
  auto console = start(env());
  console->type(ctrl_d);
  EXPECT_EQ(console->wait_exit(), 0);
  // The shell's prompt starts on a line of its own (after the ^D the line editor shows).
  const std::string rest = console->rest();
  EXPECT_TRUE(rest == "\r\n" || rest == "^D\r\n") << console->screen();
}

// A record logged while the prompt waits (tests/programs/test_console.cpp logs one on SIGUSR1)
// is printed on a line of its own, and the prompt is drawn again below it with the line being
// typed, which is then entered as if nothing had happened.
TEST_F(ConsoleTerminal, ALogRecordAtThePromptIsPrintedAboveItAndTheLineIsKept) {
  auto console = start(env());
  console->type("new er");
  ASSERT_TRUE(console->wait_for("new er")) << console->screen();
  ASSERT_EQ(kill(console->pid(), SIGUSR1), 0);
  ASSERT_TRUE(console->wait_for("\r\x1b[K[warning] a record from another thread\r\n"))
      << console->screen();
  ASSERT_TRUE(console->wait_for("hang_ten(1)> new er")) << console->screen();
  console->type("ic\r");
  EXPECT_TRUE(console->wait_for(":ok")) << console->screen();
  ASSERT_TRUE(prompt(*console, 2)) << console->screen();
  console->type("ls\r");
  EXPECT_TRUE(console->wait_for("eric")) << console->screen();
}

// Run, type `new eric`, leave; the next run's Up arrow brings the line back.
TEST_F(ConsoleTerminal, HistoryIsKeptBetweenRuns) {
  {
    auto first = start(env("xterm"));
    first->type("new eric\r");
    ASSERT_TRUE(first->wait_for(":ok")) << first->screen();
    ASSERT_TRUE(prompt(*first, 2)) << first->screen();
    first->type(ctrl_d);
    ASSERT_EQ(first->wait_exit(), 0);
  }
  const std::string history = read_file(state / "hang_ten" / "history");
  EXPECT_NE(history.find("new\\040eric"), std::string::npos)
      << history;  // libedit writes a space as \040

  auto second = start(env("xterm"));
  second->type(up);
  ASSERT_TRUE(second->wait_for("new eric")) << second->screen();
  second->type("\r");
  EXPECT_TRUE(second->wait_for(":ok")) << second->screen();
  second->type("show eric\r");
  EXPECT_TRUE(second->wait_for("%User{login: \"eric\"}")) << second->screen();
}

TEST_F(ConsoleTerminal, HistoryWithoutXdgStateHomeIsUnderHome) {
  Env e = env();
  e[1].second = std::nullopt;  // XDG_STATE_HOME unset
  auto console = start(e);
  console->type("ls\r");
  ASSERT_TRUE(prompt(*console, 2)) << console->screen();
  console->type(ctrl_d);
  ASSERT_EQ(console->wait_exit(), 0);
  EXPECT_NE(read_file(home.path() / ".local" / "state" / "hang_ten" / "history").find("ls"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(state));
}

// What Tab completed shows in what the line did: the first word completes among the commands
// only (`ne` is `new `, though a login `nemo` is live), the others among the live logins only
// (`show s` is `show sam`, though `show` and `sleep` are commands).
TEST_F(ConsoleTerminal, TabCompletesCommandNamesThenLiveLogins) {
  auto console = start(env());
  console->type("new nemo\r");
  ASSERT_TRUE(console->wait_for(":ok")) << console->screen();
  ASSERT_TRUE(prompt(*console, 2)) << console->screen();
  console->type("ne\tsam\r");
  EXPECT_TRUE(console->wait_for(":ok")) << console->screen();
  ASSERT_TRUE(prompt(*console, 3)) << console->screen();
  console->type("show s\t\r");
  EXPECT_TRUE(console->wait_for("%User{login: \"sam\"}")) << console->screen();
}

}  // namespace
