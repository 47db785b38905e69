#include "otp/console.hpp"

#include <atomic>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "otp/observer/console.hpp"
#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using otp::Console;

// The web observer behind `observer` and --observer, registered as otp_program(... OBSERVER) does.
[[maybe_unused]] const bool observer_in_console = otp::observer::serve_in_console();

struct Sleeper : otp::GenServer<Sleeper, int> {
  int init() { return 0; }
};
struct Other : otp::GenServer<Other, int> {
  int init() { return 0; }
};

// A console with an `echo <a> [b]` command, on a deterministic runtime.
struct ConsoleFixture : ::testing::Test {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  std::ostringstream out;
  Console console{"test", me, out};
  int echoed = 0;

  ConsoleFixture() {
    console.command("echo", "<a> [b]", "prints its arguments", [this](const Console::Args& a) {
      ++echoed;
      return a.size() == 1 ? a[0] : a[0] + "+" + a[1];
    });
  }

  int run(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return console.run(static_cast<int>(argv.size()), argv.data());
  }
};

TEST(ConsoleParse, SplitsWordsAndKeepsQuotedSpaces) {
  EXPECT_EQ(Console::split_words("  new  eric \t"), (std::vector<std::string>{"new", "eric"}));
  EXPECT_EQ(Console::split_words("new \"a b\" c"), (std::vector<std::string>{"new", "a b", "c"}));
  EXPECT_EQ(Console::split_words("new \"\""), (std::vector<std::string>{"new", ""}));
  EXPECT_TRUE(Console::split_words("   ").empty());
  EXPECT_THROW(Console::split_words("new \"eric"), otp::ConsoleError);
}

TEST(ConsoleParse, SplitsAScriptOnSemicolonsOutsideQuotes) {
  EXPECT_EQ(Console::split_script("new eric; show eric;;"),
            (std::vector<std::string>{"new eric", " show eric"}));
  EXPECT_EQ(Console::split_script("echo \"a;b\""), (std::vector<std::string>{"echo \"a;b\""}));
}

TEST_F(ConsoleFixture, RunsACommandWithItsArguments) {
  EXPECT_EQ(console.execute("echo x"), "x");
  EXPECT_EQ(console.execute("echo x y"), "x+y");
  EXPECT_EQ(console.execute(""), "");
}

TEST_F(ConsoleFixture, BadInputIsOneErrorLineAndRunsNothing) {
  for (const char* bad : {"nope", "echo", "echo a b c", "echo \"a", "sleep", "sleep 1h", "kill",
                          "kill <0.9999.0>", "kill <0.x.0>", "kill nobody"}) {
    std::string result = console.execute(bad);
    EXPECT_EQ(result.rfind("** (", 0), 0u) << bad << " -> " << result;
    EXPECT_EQ(result.find('\n'), std::string::npos) << result;
  }
  EXPECT_EQ(echoed, 0);
  EXPECT_FALSE(console.done());
}

TEST_F(ConsoleFixture, AHandlerExceptionBecomesAnErrorLine) {
  console.command("fail", "", "", [](const Console::Args&) -> std::string {
    throw std::invalid_argument("bad login");
  });
  console.command("exit", "", "", [](const Console::Args&) -> std::string {
    throw otp::ExitError(otp::Reason::noproc());
  });
  EXPECT_EQ(console.execute("fail"), "** (ArgumentError) bad login");
  EXPECT_EQ(console.execute("exit"), "** (exit) noproc");
}

TEST_F(ConsoleFixture, HelpListsEveryCommand) {
  std::string help = console.execute("help");
  for (const char* name : {"help", "tree", "ps", "kill <pid|name> [reason]", "sleep <duration>",
                           "quit", "echo <a> [b]"}) {
    EXPECT_NE(help.find(name), std::string::npos) << name;
  }
}

TEST_F(ConsoleFixture, KillEndsAProcessByPidOrName) {
  auto a = me.await(Sleeper::start(otp::Name::local("sleeper")));
  auto b = me.await(Sleeper::start());
  otp::Ref ra = me.monitor(a.pid());
  otp::Ref rb = me.monitor(b.pid());
  EXPECT_EQ(console.execute("kill sleeper"), "true");
  EXPECT_EQ(console.execute("kill " + b.pid().to_string() + " boom"), "true");
  auto da = me.receive<otp::Down>([&](const otp::Down& d) { return d.ref == ra; }, otp_test::kWait);
  auto db = me.receive<otp::Down>([&](const otp::Down& d) { return d.ref == rb; }, otp_test::kWait);
  ASSERT_TRUE(da && db);
  EXPECT_EQ(da->reason, otp::Reason::killed());
  EXPECT_EQ(db->reason, otp::Reason::other("boom"));
}

TEST_F(ConsoleFixture, KillRefusesTheConsolesOwnProcess) {
  EXPECT_EQ(console.execute("kill " + me.pid().to_string()).rfind("** (ArgumentError)", 0), 0u);
  EXPECT_TRUE(otp::is_alive(me.pid()));
}

TEST_F(ConsoleFixture, TreeAndPsShowTheProcesses) {
  auto a = me.await(Sleeper::start(otp::Name::local("sleeper")));
  EXPECT_NE(console.execute("tree").find(a.pid().to_string() + " sleeper"), std::string::npos);
  std::string ps = console.execute("ps");
  EXPECT_EQ(ps.rfind("PID", 0), 0u);
  EXPECT_NE(ps.find("sleeper"), std::string::npos);
}

TEST_F(ConsoleFixture, TreeDotPrintsTheTreeAsGraphvizWithoutTheConsole) {
  auto a = me.await(
      Sleeper::start_link(otp::Name::local("sleeper")));  // a child of the console's process
  std::string dot = console.execute("tree dot");
  EXPECT_EQ(dot.rfind("digraph", 0), 0u) << dot;
  EXPECT_TRUE(dot.ends_with("}")) << dot;
  EXPECT_NE(dot.find(fmt::format("\"{}\" [label=\"sleeper\\n{}\\n", a.pid(), a.pid())),
            std::string::npos)
      << dot;
  EXPECT_EQ(dot.find(fmt::format("\"{}\"", me.pid())), std::string::npos) << dot;
  EXPECT_EQ(console.execute("tree").rfind(a.pid().to_string() + " sleeper", 0), 0u);
  EXPECT_EQ(console.execute("tree svg").rfind("** (ArgumentError)", 0), 0u);
}

TEST_F(ConsoleFixture, SleepMovesTheVirtualClock) {
  auto before = rt.now();
  EXPECT_EQ(console.execute("sleep 2s"), ":ok");
  EXPECT_EQ(rt.now() - before, otp::Duration(2s));
}

TEST_F(ConsoleFixture, RunsAScriptGivenWithDashE) {
  EXPECT_EQ(run({"test", "-e", "echo a; nope; echo b c; quit; echo d"}), 1);  // nope failed
  std::string text = out.str();
  EXPECT_EQ(text.rfind("a\n** (UndefinedFunctionError)", 0), 0u) << text;
  EXPECT_TRUE(text.ends_with("\nb+c\n")) << text;
  EXPECT_EQ(echoed, 2);
}

TEST_F(ConsoleFixture, FlagsSetDurationsAndBadFlagsAreRefused) {
  otp::Duration timeout = 15min;
  console.flag("--timeout", "how long", timeout);
  EXPECT_EQ(run({"test", "--timeout", "100ms", "-e", "echo a"}), 0);
  EXPECT_EQ(timeout, otp::Duration(100ms));
  EXPECT_EQ(run({"test", "--timeout=2s", "-e", ""}), 0);
  EXPECT_EQ(timeout, otp::Duration(2s));
  EXPECT_EQ(run({"test", "--timeout", "soon"}), 2);
  EXPECT_EQ(run({"test", "--other"}), 2);
  EXPECT_EQ(run({"test", "-e"}), 2);
  EXPECT_EQ(timeout, otp::Duration(2s));
}

TEST_F(ConsoleFixture, HelpFlagPrintsUsageFlagsWithDefaultsAndCommands) {
  otp::Duration timeout = 15min;
  otp::Duration poll = 300ms;
  console.flag("--timeout", "how long", timeout);
  console.flag("--poll", "how often", poll);
  EXPECT_EQ(run({"test", "--help"}), 0);
  std::string text = out.str();
  EXPECT_EQ(text.rfind("Usage: test", 0), 0u) << text;
  EXPECT_NE(text.find("--timeout <duration>"), std::string::npos) << text;
  EXPECT_NE(text.find("how long (default 15m)"), std::string::npos) << text;
  EXPECT_NE(text.find("how often (default 300ms)"), std::string::npos) << text;
  EXPECT_NE(text.find("-q,--quiet"), std::string::npos) << text;
  const auto durations = text.find("Durations are written 300ms, 2s or 1m.");
  EXPECT_LT(text.find("--poll"), durations) << text;
  EXPECT_LT(durations, text.find("echo <a> [b]")) << text;  // the commands come last
  EXPECT_TRUE(text.ends_with("prints its arguments\n")) << text;
}

TEST_F(ConsoleFixture, ABadDurationNamesItsFlag) {
  otp::Duration timeout = 15min;
  console.flag("--timeout", "how long", timeout);
  EXPECT_EQ(run({"test", "--timeout=soon"}), 2);
  EXPECT_EQ(out.str(),
            "** (ArgumentError) --timeout: not a duration: \"soon\" (use e.g. 300ms, 2s or 1m) "
            "(see --help)\n");
  EXPECT_EQ(run({"test", "--timeout"}), 2);
  EXPECT_NE(out.str().find("** (ArgumentError) --timeout: "), std::string::npos) << out.str();
  EXPECT_EQ(timeout, otp::Duration(15min));
  EXPECT_EQ(echoed, 0);
}

TEST_F(ConsoleFixture, AnUnknownOptionIsRefusedByName) {
  EXPECT_EQ(run({"test", "--frobnicate", "-e", "echo a"}), 2);
  EXPECT_EQ(out.str(), "** (ArgumentError) unknown option --frobnicate (see --help)\n");
  EXPECT_EQ(echoed, 0);
}

// What a program adds to the command line: a subcommand whose function runs, with the parsed
// options and the application started, instead of the console's commands.
struct ConsoleSubcommandFixture : ConsoleFixture {
  std::string listen = "127.0.0.1:8080";
  std::optional<std::string> served;  // the address the subcommand ran with
  bool started = false;

  ConsoleSubcommandFixture() {
    console.application("app", [this] {
      started = true;
      return me.await(otp::Supervisor::start_link(otp::Name::local("App.Supervisor"), {}));
    });
    CLI::App* serve = console.cli().add_subcommand("serve", "runs the service");
    serve->add_option("--listen", listen, "address:port")->capture_default_str();
    console.on_subcommand(serve, [this] {
      served = started ? listen : "(before the application)";
      return 7;
    });
  }
};

TEST_F(ConsoleSubcommandFixture, RunsItsFunctionWithTheParsedOptions) {
  EXPECT_EQ(run({"test", "serve", "--listen", "0.0.0.0:9000"}), 7);
  EXPECT_EQ(served, "0.0.0.0:9000");
  EXPECT_EQ(out.str(), "");
}

TEST_F(ConsoleSubcommandFixture, TakesTheConsolesFlagsToo) {
  otp::Duration timeout = 15min;
  console.flag("--timeout", "how long", timeout);
  EXPECT_EQ(run({"test", "--timeout", "2s", "serve", "-q"}), 7);
  EXPECT_EQ(served, "127.0.0.1:8080");
  EXPECT_EQ(timeout, otp::Duration(2s));
}

TEST_F(ConsoleSubcommandFixture, IsNotRunWhenNotGiven) {
  EXPECT_EQ(run({"test", "-e", "echo a"}), 0);
  EXPECT_FALSE(served.has_value());
  EXPECT_EQ(out.str(), "a\n");
}

TEST_F(ConsoleSubcommandFixture, IsNotGivenWithAScript) {
  EXPECT_EQ(run({"test", "-e", "echo a", "serve"}), 2);
  EXPECT_EQ(out.str().rfind("** (ArgumentError) -e runs commands and serve runs instead", 0), 0u)
      << out.str();
  EXPECT_FALSE(served.has_value());
  EXPECT_EQ(echoed, 0);
}

TEST_F(ConsoleSubcommandFixture, HasHelpOfItsOwn) {
  EXPECT_EQ(run({"test", "--help"}), 0);
  EXPECT_NE(out.str().find("serve"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("runs the service"), std::string::npos) << out.str();
  out.str("");
  EXPECT_EQ(run({"test", "serve", "--help"}), 0);
  const std::string text = out.str();
  EXPECT_EQ(text.rfind("Usage: test serve", 0), 0u) << text;
  EXPECT_NE(text.find("address:port (default 127.0.0.1:8080)"), std::string::npos) << text;
  EXPECT_EQ(text.find("Commands:"), std::string::npos) << text;
  EXPECT_FALSE(served.has_value());
}

TEST_F(ConsoleSubcommandFixture, AnExceptionFromItsFunctionIsAnErrorLine) {
  CLI::App* fail = console.cli().add_subcommand("fail", "throws");
  console.on_subcommand(fail, []() -> int { throw std::runtime_error("no port"); });
  EXPECT_EQ(run({"test", "fail"}), 1);
  EXPECT_EQ(out.str(), "** (RuntimeError) fail: no port\n");
}

// Under a subcommand given `permanent`, the application's end is the program's: its function
// hears of it from applications().on_stop and returns the status it holds. At the prompt the
// same application is temporary: SaysWhenTheApplicationStoppedAndStartsItAgain.
TEST_F(ConsoleSubcommandFixture, APermanentApplicationsEndStopsTheSubcommandWithStatusOne) {
  CLI::App* run_app = console.cli().add_subcommand("run", "runs until the application ends");
  console.on_subcommand(
      run_app,
      [this] {
        std::atomic<bool> ended{false};
        console.applications().on_stop([&](const otp::Applications::Stopped&) { ended = true; });
        otp::exit(*rt.whereis("App.Supervisor"), otp::Reason::kill());
        while (!ended) std::this_thread::sleep_for(1ms);
        return console.applications().stopped()->status;
      },
      otp::RestartType::permanent);
  EXPECT_EQ(run({"test", "run"}), 1);
  EXPECT_FALSE(console.applications().running("app"));
  EXPECT_EQ(console.applications().stopped()->reason, otp::Reason::killed());
}

}  // namespace

// ---- what a newcomer tripped on (issue 9) ----

TEST(ConsoleReason, ParsesShutdownWithATerm) {
  EXPECT_EQ(otp::Reason::parse("{shutdown, idle}"), otp::Reason::shutdown("idle"));
  EXPECT_EQ(otp::Reason::parse("{:shutdown, :idle}"), otp::Reason::shutdown("idle"));
  EXPECT_TRUE(otp::Reason::parse("{shutdown, idle}").is_orderly());
  EXPECT_EQ(otp::Reason::parse("{boom, 1}"), otp::Reason::other("{boom, 1}"));
  EXPECT_EQ(otp::Reason::parse("{shutdown}"), otp::Reason::other("{shutdown}"));
}

TEST_F(ConsoleFixture, SleepPastTheLimitSaysItIsTooLong) {
  EXPECT_EQ(console.execute("sleep 99999999999m"),
            "** (ArgumentError) duration too long: 99999999999m (at most 527040m, 366 days)");
  EXPECT_EQ(console.execute("sleep soon").rfind("** (ArgumentError) not a duration", 0), 0u);
}

TEST_F(ConsoleFixture, DashEExitsWithZeroOnlyWhenEveryCommandWorked) {
  EXPECT_EQ(run({"test", "-e", "echo a; echo b"}), 0);
  EXPECT_EQ(run({"test", "-e", "echo a; echo"}), 1);
}

TEST_F(ConsoleFixture, DashETakesNoOptionForItsCommands) {
  EXPECT_EQ(run({"test", "-e", "--help"}), 2);
  EXPECT_EQ(out.str().rfind("** (ArgumentError) -e: needs the commands", 0), 0u) << out.str();
  EXPECT_EQ(out.str().find("Usage"), std::string::npos) << out.str();
}

TEST_F(ConsoleFixture, KillReturnsOnceTheSignalTookEffect) {
  auto a = me.await(Sleeper::start(otp::Name::local("sleeper")));
  EXPECT_EQ(console.execute("kill sleeper normal"), "true");  // ignored: it does not trap exits
  EXPECT_TRUE(otp::is_alive(a.pid()));
  EXPECT_EQ(console.execute("kill sleeper"), "true");
  EXPECT_FALSE(otp::is_alive(a.pid()));
}

TEST_F(ConsoleFixture, APidOfTheWrongKindIsRefusedBeforeAnythingIsSent) {
  console.command("poke", "<pid>", "", [this](const Console::Args& a) {
    return console.pid_arg<Sleeper>(a[0]).to_string();
  });
  auto sleeper = me.await(Sleeper::start());
  auto other = me.await(Other::start(otp::Name::local("other")));
  EXPECT_EQ(console.execute("poke " + sleeper.pid().to_string()), sleeper.pid().to_string());
  EXPECT_EQ(console.execute("poke " + other.pid().to_string()),
            fmt::format("** (ArgumentError) {} is not a Sleeper: it is other (GenServer Other)",
                        other.pid()));
  EXPECT_EQ(console.execute("poke <0.999.0>").rfind("** (exit) no process", 0), 0u);
}

// The application the console started stops: one line says so, with the reason; commands of
// the application are refused, tree shows the empty tree, and start starts it again.
TEST_F(ConsoleFixture, SaysWhenTheApplicationStoppedAndStartsItAgain) {
  int starts = 0;
  console.application("app", [&] {
    ++starts;
    return me.await(otp::Supervisor::start_link(otp::Name::local("App.Supervisor"), {}));
  });
  EXPECT_EQ(run({"test", "-e", "echo a; kill App.Supervisor; echo b; tree; start; echo c; start"}),
            1);
  EXPECT_EQ(out.str(),
            "a\n"
            "true\n"
            "** (exit) the application app stopped: killed (start starts it again)\n"
            "** (RuntimeError) the application app is not running (start starts it again)\n"
            "(empty: the application is not running)\n"
            ":ok\n"
            "c\n"
            "** (ArgumentError) the application app is already running\n");
  EXPECT_EQ(starts, 2);
  EXPECT_TRUE(rt.whereis("App.Supervisor").has_value());
}

TEST_F(ConsoleFixture, QuietPrintsOnlyWhatTreeDraws) {
  EXPECT_EQ(run({"test", "-q", "-e", "echo a; tree dot; nope"}), 1);
  EXPECT_EQ(out.str().rfind("digraph", 0), 0u) << out.str();
  EXPECT_TRUE(out.str().ends_with("}\n")) << out.str();
}

namespace {

TEST(ConsoleObserver, ObserverStartsOnceOnLoopbackAndPrintsItsUrl) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  std::ostringstream out;
  Console console("test", me, out);
  const std::string url = console.execute("observer");
  EXPECT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  EXPECT_TRUE(url.ends_with("/observer")) << url;
  EXPECT_EQ(console.execute("observer"), url);
}

TEST(ConsoleObserver, TheObserverFlagStartsItAtLaunch) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  std::ostringstream out;
  Console console("test", me, out);
  std::vector<std::string> words{"test", "--observer", "0", "--observer-readonly", "-e", "help"};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  EXPECT_EQ(console.run(static_cast<int>(argv.size()), argv.data()), 0) << out.str();
  EXPECT_NE(out.str().find("observer: http://127.0.0.1:"), std::string::npos) << out.str();
  EXPECT_TRUE(console.observer_readonly());
}

TEST(ConsoleObserver, WithoutTheWebObserverAConsoleHasNoObserverCommandOrFlag) {
  otp::Console::web_observer({});  // as in a program that does not link otp::observer
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  std::ostringstream out;
  Console console("test", me, out);
  otp::observer::serve_in_console();  // back, for the other tests
  EXPECT_EQ(console.execute("observer"),
            "** (UndefinedFunctionError) undefined command observer (help lists the commands)");
  EXPECT_EQ(console.execute("help").find("observer"), std::string::npos);
  std::vector<std::string> words{"test", "--observer", "0", "-e", "help"};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  EXPECT_EQ(console.run(static_cast<int>(argv.size()), argv.data()), 2) << out.str();
  EXPECT_NE(out.str().find("unknown option --observer"), std::string::npos) << out.str();
}

}  // namespace
