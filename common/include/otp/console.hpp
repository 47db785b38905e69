// otp::Console — a program's console in the spirit of iex.
//
//   otp::Runtime rt;
//   otp::Scoped me(rt);
//   otp::Console console("hang_ten", me);
//   console.command("new", "<login>", "starts a session for <login>",
//                   [&](const otp::Console::Args& a) { return me.await(create(a[0])).to_string(); });
//   console.application("hang_ten", [&] { return me.await(Application::start()); });
//   return console.run(argc, argv);
//
// run() parses the command line, starts the application, then reads commands: from
// `-e "cmd; cmd"`, from stdin line by line when it is not a terminal, or at a prompt
// (`hang_ten(1)> `) with line editing, Tab completion (command names, and the words
// `completions` gives) and history kept in $XDG_STATE_HOME/<program>/history
// (~/.local/state/... when unset). Everywhere, `;` separates commands on a line. Every console
// has the commands help, tree [dot] (the supervision tree as text, or as Graphviz DOT), ps,
// kill <pid|name> [reason], sleep <duration> and quit, and with an application, start.
//
// The web observer (otp/observer/web.hpp) is not part of this library: a program that links
// otp::observer registers it (Console::web_observer; otp_program(... OBSERVER) does it for a
// stage, see otp/observer/console.hpp), and its consoles then have the command observer (starts
// it on loopback and prints its URL), `--observer <port>` (starts it at launch, 0: a free port,
// and prints `observer: <url>`) and `--observer-readonly` (no kill button). A program without it
// links neither otp::observer nor HTTP. With -q
// only what tree, ps and help draw goes to stdout (errors go to stderr), so
// `hang_ten -q -e "new eric; tree dot" | dot -Tsvg > tree.svg` draws a picture.
//
// The command line is parsed by CLI11 (`cli()` is its app; include <CLI/CLI.hpp> to use it): -e, -q, -h/--help, the duration
// flags added with `flag` (`--inactive-timeout 2s` or `--inactive-timeout=2s`), and whatever
// options and subcommands the program adds itself. --help prints the options with their
// defaults, then the console's commands, and exits with 0; `<program> <subcommand> --help`
// prints the subcommand's. A bad value or an unknown option prints one line,
// `** (ArgumentError) --inactive-timeout: not a duration: "soon" (use e.g. 300ms, 2s or 1m)`, and run()
// returns 2. A subcommand given a function with `on_subcommand` replaces the commands (so it
// is refused with -e): run() starts the application, calls the function and returns what it
// returns.
//
//   std::string listen = "127.0.0.1:8080";
//   CLI::App* serve = console.cli().add_subcommand("serve", "runs the HTTP service");
//   serve->add_option("--listen", listen, "address:port")->capture_default_str();
//   console.on_subcommand(serve, [&] { return http::serve(me, listen); });
//   return console.run(argc, argv);  // `hang_ten serve --listen :9000` serves; `hang_ten` prompts
//
// A service's subcommand, which runs until a signal, is on_service(serve, start) instead.
//
// The console starts the application (it is the parent of its top process) and watches it:
// when the application stops, the console prints one line with the reason, and from then on
// the commands it did not build in answer that the application is not running; `start`
// starts it again. `kill` waits until the signal has taken effect (the process died, or went
// on waiting), so what the next command shows is the world after the signal.
//
// A command is a name and words; a word may be double-quoted to hold spaces. A handler
// returns its result as text (printed with a newline unless empty). Bad input (an unknown
// command, a wrong number of arguments, an exception from a handler: ExitError, ConsoleError,
// std::invalid_argument, any std::exception) prints one line starting with `** (` and the
// console goes on; with -e the exit status is then 1. Ctrl-C clears the line at the prompt and
// interrupts a sleep. Handlers run on the thread that called run(), as the Scoped process.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otp/application.hpp"
#include "otp/detail/type_name.hpp"
#include "otp/duration.hpp"
#include "otp/gen_server.hpp"
#include "otp/pid.hpp"
#include "otp/runtime.hpp"

namespace CLI {  // CLI11 (<CLI/CLI.hpp>): include it where cli() is used
class App;
class Option;
}  // namespace CLI

namespace otp {

class Scoped;

// Bad input to a console: printed as `** (kind) message`.
struct ConsoleError : std::runtime_error {
  explicit ConsoleError(const std::string& message, std::string error_kind = "ArgumentError")
      : std::runtime_error(message), kind(std::move(error_kind)) {}
  std::string kind;
};

class Console {
 public:
  using Args = std::vector<std::string>;
  using Handler = std::function<std::string(const Args&)>;

  Console(std::string program, Scoped& me);
  Console(std::string program, Scoped& me, std::ostream& out);
  ~Console();

  // Adds a command. The synopsis names its arguments, `<required>` and `[optional]`, in order,
  // and the console checks their number before calling the handler.
  void command(std::string name, std::string synopsis, std::string help, Handler handler);
  // The application the console starts (before the first command) and watches; `start`
  // returns its top process, which is linked to the console's.
  void application(std::string name, std::function<StartResult()> start);
  // Words that Tab completes after a command name (a stage's live logins, say).
  void completions(std::function<std::vector<std::string>()> words);

  // Adds a flag `--name <duration>` (or `--name=<duration>`) that sets `value`; the value's
  // initial content is the default shown by --help.
  void flag(std::string name, std::string help, Duration& value);
  // The same flag on a subcommand of cli() (`hang_ten serve --idle-timeout 30s`).
  static void flag(CLI::App& app, std::string name, std::string help, Duration& value);
  // A flag on `app` whose text `read` takes in (Options::from_url, Address::parse...): a
  // std::invalid_argument from `read` refuses the command line with the flag's name and the
  // exception's message (`--listen: expected host:port, ...`), as a bad value of any flag is.
  static CLI::Option* flag(CLI::App& app, const std::string& name, std::string help,
                           std::function<void(const std::string&)> read);
  // The CLI11 app that run() parses: a program adds its own options and subcommands to it.
  CLI::App& cli() { return *cli_; }
  // When `sub` (a subcommand of cli()) is given, run() calls `run` once the application has
  // started, instead of reading commands, and returns its exit status. Under `sub` the
  // application starts with `type` (otp/application.hpp); elsewhere it is temporary, as
  // application:start/1 in Erlang's shell: its end is printed and `start` starts it again.
  void on_subcommand(CLI::App* sub, std::function<int()> run,
                     RestartType type = RestartType::temporary);
  // A subcommand that serves until SIGINT or SIGTERM (`hang_ten serve`), with the application
  // permanent under it: run() catches the two signals, calls `start` (which starts what is
  // served and returns what to tell, e.g. its URL; it throws when it cannot), prints
  // "<what>; SIGINT or SIGTERM stops it", and waits. A signal stops the application, the
  // last-started first, prints "<program> stopped" and returns 0; any other end of it returns 1
  // (Applications::wait_for_stop). The console's own flags may follow the subcommand's, and its
  // --help says so.
  void on_service(CLI::App* sub, std::function<std::string()> start);
  // The applications the console started (one, the one given to application()): a
  // subcommand's function waits for its end with on_stop and stops it with stop_all.
  Applications& applications() { return *apps_; }

  // Runs the console as described above; returns the process's exit status (0; 2 for a bad
  // value, an unknown option or argument, or -e with a subcommand; 1 when `start` throws or,
  // with -e, when a command failed; a subcommand's function decides its own, 1 when it throws).
  int run(int argc, char** argv, const std::function<void()>& start = {});

  // Runs one line (one command) and returns what it prints, without the final newline.
  std::string execute(std::string_view line);
  // Whether `quit` has been run.
  bool done() const { return done_; }
  // Whether the application was started and has stopped since.
  bool stopped() const { return app_start_ && !app_; }
  // Whether --observer-readonly was given (a program that mounts the observer itself asks).
  bool observer_readonly() const { return observer_readonly_; }
  // Starts the web observer once (on --observer's port, else a free one); its URL. Throws
  // ConsoleError when the program registered none.
  std::string observer();

  // What starts the web observer for the consoles of this program: given the console's process,
  // a loopback port (0: a free one) and whether the page may kill, it returns the observer's URL
  // or throws. Registered once, before the first console is made (otp/observer/console.hpp:
  // otp::observer::serve_in_console()); a console made before has no observer command or flags.
  using WebObserver = std::function<std::string(Scoped& me, std::uint16_t port, bool readonly)>;
  static void web_observer(WebObserver start);

  // The words of a line; a double-quoted word may hold spaces. Throws ConsoleError
  // (SyntaxError) on an unterminated quote.
  static std::vector<std::string> split_words(std::string_view line);
  // The commands of an -e script, split on `;` outside quotes (empty ones dropped).
  static std::vector<std::string> split_script(std::string_view script);
  // A pid written <0.N.0>, if it is alive in the console's runtime; nullopt for other text.
  std::optional<Pid> find_pid(std::string_view text) const;
  // For handlers taking a pid: find_pid, or throws ConsoleError for text that is not a pid or
  // is the console's own, and ExitError (noproc) for a pid that is not alive.
  Pid pid_arg(std::string_view text) const;
  // As pid_arg, and refuses (ConsoleError) a process that is not a `module`, e.g.
  // pid_arg<Server>(text): a command aimed at a process of the wrong kind never reaches it.
  Pid pid_arg(std::string_view text, std::string_view module, std::string_view label) const;
  template <class T>
  Pid pid_arg(std::string_view text) const {
    return pid_arg(text, detail::type_name_v<T>, module_name(detail::type_name_v<T>));
  }

 private:
  struct Command {
    std::string name, synopsis, help;
    std::size_t required = 0, optional = 0;
    Handler handler;
  };
  void builtins();
  void options();
  std::string help() const;
  std::string kill(const Args& args);
  std::string run_command(const Command& c, Args args);
  std::string start_application(RestartType type = RestartType::temporary);
  std::string watch_application();
  // The supervision tree without the console's own process (what it started stands in its place).
  std::vector<TreeNode> application_forest();
  void wait_for_signal(const Pid& pid, Ref mref);
  void perform(std::string_view line);
  int prompt();
  static WebObserver& registered_web_observer();

  std::string program_;
  Scoped& me_;
  std::ostream& out_;
  std::vector<Command> commands_;
  std::unique_ptr<CLI::App> cli_;
  std::string script_;
  CLI::Option* script_option_ = nullptr;
  struct Subcommand {
    CLI::App* app;
    std::function<int()> run;
    RestartType type;
  };
  std::vector<Subcommand> subcommands_;
  std::unique_ptr<Applications> apps_;
  bool done_ = false;
  bool failed_ = false;
  bool quiet_ = false;
  std::string app_name_;
  std::function<StartResult()> app_start_;
  std::optional<Pid> app_;
  std::function<std::vector<std::string>()> completions_;
  std::size_t builtin_count_ = 0;
  int observer_port_ = -1;
  bool observer_readonly_ = false;
  std::string observer_url_;
};

}  // namespace otp
