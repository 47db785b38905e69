#include "otp/console.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <thread>

#include <CLI/CLI.hpp>
#include <editline/readline.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "otp/logger.hpp"
#include "otp/observer.hpp"
#include "otp/observer/web.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "otp/scoped.hpp"

namespace otp {

namespace {

using std::chrono::milliseconds;

// Digits only, without sign or overflow past `max`.
std::optional<std::uint64_t> parse_count(std::string_view digits, std::uint64_t max) {
  std::uint64_t n = 0;
  if (digits.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size() || n > max) return std::nullopt;
  return n;
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

std::string error_line(std::string_view kind, std::string_view message) {
  return one_line(fmt::format("** ({}) {}", kind, message));
}

bool is_error(std::string_view result) { return result.starts_with("** ("); }

// Ctrl-C: a flag, and a byte in a pipe that a sleep waits on (a signal handler may only write).
volatile std::sig_atomic_t g_interrupted = 0;
int g_interrupt_pipe[2] = {-1, -1};

extern "C" void on_interrupt(int) {
  g_interrupted = 1;
  if (g_interrupt_pipe[1] >= 0) {
    const char byte = 'i';
    [[maybe_unused]] auto n = write(g_interrupt_pipe[1], &byte, 1);
  }
}

void catch_interrupts() {
  if (g_interrupt_pipe[0] < 0 && pipe(g_interrupt_pipe) == 0) {
    for (int fd : g_interrupt_pipe) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a read at the prompt returns with EINTR
  sigaction(SIGINT, &sa, nullptr);
}

void drain_interrupts() {
  char buf[64];
  if (g_interrupt_pipe[0] >= 0) {
    while (read(g_interrupt_pipe[0], buf, sizeof buf) > 0) {
    }
  }
  g_interrupted = 0;
}

// Sleeps `d` on the real clock; false when Ctrl-C interrupted it.
bool interruptible_sleep(Duration d) {
  const auto until = std::chrono::steady_clock::now() + d;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return true;
    if (g_interrupt_pipe[0] < 0) {
      std::this_thread::sleep_for(left);
      return true;
    }
    pollfd p{g_interrupt_pipe[0], POLLIN, 0};
    const int wait = static_cast<int>(std::min<std::int64_t>(left.count(), 1'000'000));
    if (poll(&p, 1, wait) > 0 || g_interrupted != 0) {
      drain_interrupts();
      return false;
    }
  }
}

// $XDG_STATE_HOME/<program>/history, else ~/.local/state/<program>/history; empty without a home.
std::string history_file(const std::string& program) {
  std::filesystem::path dir;
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state == '/') {
    dir = state;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    dir = std::filesystem::path(home) / ".local" / "state";
  } else {
    return "";
  }
  dir /= program;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "";
  return (dir / "history").string();
}

// Tab completion while a prompt runs: the first word of a line is a command, the others its
// arguments (the console's completions, live logins say); g_candidates is the list for the word
// being completed.
const std::vector<std::string>* g_command_names = nullptr;
const std::vector<std::string>* g_arguments = nullptr;
const std::vector<std::string>* g_candidates = nullptr;

char* next_candidate(const char* text, int state) {
  static std::size_t index = 0;
  if (state == 0) index = 0;
  const std::string_view prefix = text;
  while (g_candidates != nullptr && index < g_candidates->size()) {
    const std::string& c = (*g_candidates)[index++];
    if (c.starts_with(prefix))
      return strdup(c.c_str());  // NOLINT(cppcoreguidelines-no-malloc): readline frees it
  }
  return nullptr;
}

}  // namespace

namespace {
// The unit's length in ms, 0 when `text` is not digits and a unit.
std::uint64_t duration_scale(std::string_view text) {
  const std::size_t unit = text.find_first_not_of("0123456789");
  if (unit == std::string_view::npos || unit == 0) return 0;
  std::string_view suffix = text.substr(unit);
  if (suffix == "ms") return 1;
  if (suffix == "s") return 1000;
  if (suffix == "m") return 60'000;
  return 0;
}

// CLI11's help, laid out as the console's always was: the usage line first, each option's
// default in words after its help, and the console's commands at the end (the footer).
class HelpFormatter : public CLI::Formatter {
 public:
  HelpFormatter() { column_width(34); }

  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override {
    if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
    std::string out = make_usage(app, std::move(name));
    if (std::string d = make_description(app); !d.empty()) out += "\n" + d;
    out += make_positionals(app) + make_groups(app, mode) + make_subcommands(app, mode);
    std::string footer = app->get_footer();
    if (const auto end = footer.find_last_not_of('\n'); end != std::string::npos)
      out += "\n" + footer.substr(0, end + 1) + "\n";
    return out;
  }
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (opt->get_type_size() == 0 || opt->get_type_name().empty()) return "";
    return " " + opt->get_type_name();
  }
  std::string make_option_desc(const CLI::Option* opt) const override {
    if (opt->get_type_size() == 0 || opt->get_default_str().empty()) return opt->get_description();
    return fmt::format("{} (default {})", opt->get_description(), opt->get_default_str());
  }
};

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  const std::uint64_t scale = duration_scale(text);
  if (scale == 0) return std::nullopt;
  // At most about a year: enough for any timeout, far from overflowing nanoseconds.
  const auto max_ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<milliseconds>(max_duration).count());
  auto n = parse_count(text.substr(0, text.find_first_not_of("0123456789")), max_ms / scale);
  if (!n) return std::nullopt;
  return milliseconds(static_cast<std::int64_t>(*n * scale));
}

std::string duration_error(std::string_view text) {
  if (duration_scale(text) != 0) {
    return fmt::format("duration too long: {} (at most {}, 366 days)", text,
                       format_duration(max_duration));
  }
  return fmt::format("not a duration: \"{}\" (use e.g. 300ms, 2s or 1m)", text);
}

std::string format_duration(Duration d) {
  const auto ms = std::chrono::duration_cast<milliseconds>(d).count();
  if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
  if (ms != 0 && ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

Console::Console(std::string program, Scoped& me) : Console(std::move(program), me, std::cout) {}

Console::Console(std::string program, Scoped& me, std::ostream& out)
    : program_(std::move(program)),
      me_(me),
      out_(out),
      cli_(std::make_unique<CLI::App>(
          "Runs the commands given with -e, else those read from stdin when it is not a "
          "terminal,\nelse those typed at the prompt (with line editing and history).",
          program_)),
      apps_(std::make_unique<Applications>(me)) {
  builtins();
  options();
}

Console::~Console() = default;

void Console::options() {
  cli_->formatter(std::make_shared<HelpFormatter>());
  cli_->set_help_flag("-h,--help", "prints this help, then exits");
  // Unknown arguments are collected, not thrown at once, so that run() names the first of them.
  cli_->allow_extras();
  // A subcommand's own options may be followed by the console's (`serve --listen :80 -q`).
  cli_->fallthrough();
  cli_->footer([this] { return "Durations are written 300ms, 2s or 1m.\n\n" + help(); });
  script_option_ =
      cli_->add_option("-e", script_, "runs these commands, then exits (status 1 when one failed)")
          ->type_name("\"cmd; cmd\"")
          ->check(CLI::Validator(
              [](const std::string& value) {
                return value.starts_with('-')
                           ? std::string("needs the commands to run, e.g. -e \"new eric; tree\"")
                           : std::string();
              },
              "", "script"));
  cli_->add_flag("-q,--quiet", quiet_,
                 "prints only what tree, ps and help draw; errors go to stderr");
  cli_->add_option("--observer", observer_port_,
                   "starts the web observer on this loopback port (0: a free one)")
      ->type_name("<port>")
      ->check(CLI::Range(0, 65535));
  cli_->add_flag("--observer-readonly", observer_readonly_,
                 "the web observer shows, but has no kill button");
}

std::string Console::observer() {
  if (!observer_url_.empty()) return observer_url_;
  observer::WebOptions options;
  options.port = static_cast<std::uint16_t>(std::max(observer_port_, 0));
  options.readonly = observer_readonly_;
  auto started = me_.await(observer::Web::start(options));
  if (!started)
    throw ConsoleError(fmt::format("the observer could not start: {}", started.reason()),
                       "RuntimeError");
  observer_url_ = started.value().url;
  return observer_url_;
}

void Console::command(std::string name, std::string synopsis, std::string help, Handler handler) {
  Command c{std::move(name), std::move(synopsis), std::move(help), 0, 0, std::move(handler)};
  for (const std::string& word : split_words(c.synopsis)) {
    if (word.starts_with('[')) {
      ++c.optional;
    } else {
      ++c.required;
    }
  }
  commands_.push_back(std::move(c));
}

void Console::application(std::string name, std::function<StartResult()> start) {
  app_name_ = std::move(name);
  app_start_ = std::move(start);
  command("start", "", "starts the application again after it stopped", [this](const Args&) {
    if (app_) throw ConsoleError(fmt::format("the application {} is already running", app_name_));
    return start_application();
  });
}

void Console::completions(std::function<std::vector<std::string>()> words) {
  completions_ = std::move(words);
}

std::string Console::start_application(RestartType type) {
  auto top =
      apps_->start(app_name_, app_start_, type, /*log_end=*/false);  // said by watch_application
  if (!top)
    throw ConsoleError(
        fmt::format("could not start {}: {}", app_name_, StartResult::error(top.reason())),
        "RuntimeError");
  app_ = top.value();
  return ":ok";
}

// One line when the application's top process has exited (its Exit reaches the console, which
// traps exits as a Scoped does); empty otherwise.
std::string Console::watch_application() {
  if (!app_) return "";
  const Pid top = *app_;
  auto e = me_.receive<Exit>([&](const Exit& x) { return x.from == top; }, Duration::zero());
  if (!e) return "";
  app_.reset();
  // What it leaves behind (supervisors still stopping their children) ends at once: wait for
  // that, so that the next command sees the application gone. Bounded, in case a process
  // ignores its shutdown.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (auto left = application_forest(); !left.empty(); left = application_forest()) {
    for (const auto& node : left) {
      const Ref ref = me_.monitor(node.info.pid);
      const auto remaining = deadline - std::chrono::steady_clock::now();
      if (remaining <= std::chrono::steady_clock::duration::zero()) break;
      me_.receive<Down>([ref](const Down& d) { return d.ref == ref; },
                        std::chrono::duration_cast<Duration>(remaining));
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
  }
  return fmt::format("** (exit) the application {} stopped: {} (start starts it again)", app_name_,
                     e->reason);
}

std::vector<TreeNode> Console::application_forest() {
  auto forest = me_.await(observer::tree());
  std::vector<TreeNode> shown;
  for (TreeNode& n : forest) {
    if (n.info.pid != me_.pid()) {
      shown.push_back(std::move(n));
    } else {
      std::ranges::move(n.children, std::back_inserter(shown));
    }
  }
  return shown;
}

void Console::flag(std::string name, std::string help, Duration& value) {
  flag(*cli_, std::move(name), std::move(help), value);
}

void Console::flag(CLI::App& app, std::string name, std::string help, Duration& value) {
  app.add_option(
         std::move(name),
         [&value](const CLI::results_t& words) {
           value = *parse_duration(words.at(0));  // the check below let only durations through
           return true;
         },
         std::move(help))
      ->type_name("<duration>")
      ->default_str(format_duration(value))
      ->check(CLI::Validator(
          [](const std::string& text) {
            return parse_duration(text)
                       ? std::string()
                       : "needs a value like 300ms, 2s or 1m: " + duration_error(text);
          },
          "", "duration"));
}

void Console::on_subcommand(CLI::App* sub, std::function<int()> run, RestartType type) {
  subcommands_.push_back(Subcommand{sub, std::move(run), type});
}

void Console::builtins() {
  command("help", "", "lists the commands", [this](const Args&) { return help(); });
  command("tree", "[dot]", "prints the supervision tree (as Graphviz DOT with `dot`)",
          [this](const Args& a) {
            if (!a.empty() && a[0] != "dot")
              throw ConsoleError(fmt::format("unknown tree format: {} (use dot)", a[0]));
            auto forest = application_forest();
            std::string text =
                a.empty() ? observer::render_text(forest) : observer::render_dot(forest);
            if (text.ends_with('\n')) text.pop_back();
            if (text.empty())
              text = stopped() ? "(empty: the application is not running)" : "(empty)";
            return text;
          });
  command("ps", "", "prints the process table", [this](const Args&) {
    std::string text = observer::render_table(me_.await(observer::processes()));
    if (text.ends_with('\n')) text.pop_back();
    return text;
  });
  command("kill", "<pid|name> [reason]", "sends an exit signal (default reason: kill)",
          [this](const Args& a) { return kill(a); });
  command("observer", "", "starts the web observer and prints its URL",
          [this](const Args&) { return observer(); });
  command("sleep", "<duration>", "waits, e.g. 300ms, 2s or 1m", [this](const Args& a) {
    auto d = parse_duration(a[0]);
    if (!d) throw ConsoleError(duration_error(a[0]));
    if (me_.runtime().deterministic()) {
      me_.runtime().advance(*d);
    } else if (!interruptible_sleep(*d)) {
      return std::string(":interrupted");
    }
    return std::string(":ok");
  });
  command("quit", "", "leaves the console", [this](const Args&) {
    done_ = true;
    return std::string();
  });
  builtin_count_ = commands_.size();
}

std::optional<Pid> Console::find_pid(std::string_view text) const {
  if (!text.starts_with("<0.") || !text.ends_with(".0>")) return std::nullopt;
  auto id = parse_count(text.substr(3, text.size() - 6), UINT64_MAX);
  if (!id) return std::nullopt;
  for (const Pid& pid : me_.runtime().processes()) {
    if (pid.id() == *id) return pid;
  }
  return std::nullopt;
}

Pid Console::pid_arg(std::string_view text) const {
  if (auto pid = find_pid(text)) {
    if (*pid == me_.pid()) throw ConsoleError(fmt::format("{} is the console's own process", text));
    return *pid;
  }
  if (!text.starts_with("<0.") || !text.ends_with(".0>") ||
      !parse_count(text.substr(3, text.size() - 6), UINT64_MAX)) {
    throw ConsoleError(fmt::format("not a pid: {} (pids are written <0.N.0>)", text));
  }
  throw ExitError(Reason::noproc(), fmt::format("** (exit) no process: {} is not alive", text));
}

std::string Console::kill(const Args& args) {
  std::optional<Pid> pid;
  if (args[0].starts_with('<')) {
    pid = pid_arg(args[0]);
  } else {
    for (const ProcessInfo& p : me_.await(observer::processes())) {
      if (p.name == args[0]) pid = p.pid;
    }
  }
  if (!pid) throw ConsoleError(fmt::format("no process: {}", args[0]));
  if (*pid == me_.pid())
    throw ConsoleError(fmt::format("{} is the console's own process", args[0]));
  const Ref mref = me_.monitor(*pid);
  otp::exit(*pid, args.size() > 1 ? Reason::parse(args[1]) : Reason::kill());
  wait_for_signal(*pid, mref);
  return "true";
}

// Until the exit signal sent to `pid` has taken effect: it died (its Down came), or it has taken
// every message and waits again (it trapped the signal or ignored it). A few seconds at most.
void Console::wait_for_signal(const Pid& pid, Ref mref) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (Duration step = std::chrono::milliseconds(1); std::chrono::steady_clock::now() < give_up;) {
    if (me_.receive<Down>([&](const Down& d) { return d.ref == mref; }, step)) return;
    auto info = me_.await(observer::info(pid));
    if (!info) break;
    if (info->status == ProcessInfo::Status::waiting && info->mailbox == 0) break;
    step = std::min<Duration>(step * 2, std::chrono::milliseconds(50));
  }
  me_.demonitor(mref, true);
}

Pid Console::pid_arg(std::string_view text, std::string_view module, std::string_view label) const {
  const Pid pid = pid_arg(text);
  auto info = me_.await(observer::info(pid));
  if (!info)
    throw ExitError(Reason::noproc(), fmt::format("** (exit) no process: {} is not alive", text));
  if (info->module != module) {
    std::string kind = info->behaviour.empty() ? std::string("process") : info->behaviour;
    if (!info->module.empty()) kind += " " + module_name(info->module);
    throw ConsoleError(fmt::format("{} is not a {}: it is {}({})", text, label,
                                   info->name.empty() ? "" : info->name + " ", kind));
  }
  return pid;
}

std::string Console::run_command(const Command& c, Args args) {
  if (args.size() < c.required || args.size() > c.required + c.optional) {
    std::string expected = c.synopsis.empty() ? c.name : c.name + " " + c.synopsis;
    throw ConsoleError(fmt::format("wrong number of arguments: {} (usage: {})",
                                   args.size() < c.required ? "missing" : "too many", expected));
  }
  const bool builtin =
      static_cast<std::size_t>(&c - commands_.data()) < builtin_count_ || c.name == "start";
  if (!builtin && stopped()) {
    throw ConsoleError(
        fmt::format("the application {} is not running (start starts it again)", app_name_),
        "RuntimeError");
  }
  return c.handler(args);
}

std::string Console::execute(std::string_view line) {
  try {
    std::vector<std::string> words = split_words(line);
    if (words.empty()) return "";
    auto it = std::find_if(commands_.begin(), commands_.end(),
                           [&](const Command& c) { return c.name == words[0]; });
    if (it == commands_.end()) {
      throw ConsoleError(fmt::format("undefined command {} (help lists the commands)", words[0]),
                         "UndefinedFunctionError");
    }
    return run_command(*it, Args(words.begin() + 1, words.end()));
  } catch (const ExitError& e) {
    std::string text = e.what();
    return one_line(text.starts_with("** (") ? text : "** (exit) " + text);
  } catch (const ConsoleError& e) {
    return error_line(e.kind, e.what());
  } catch (const std::invalid_argument& e) {
    return error_line("ArgumentError", e.what());
  } catch (const std::exception& e) {
    return error_line("RuntimeError", e.what());
  } catch (...) {
    return error_line("RuntimeError", "unknown exception");
  }
}

std::vector<std::string> Console::split_words(std::string_view line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < line.size()) {
    if (space(line[i])) {
      ++i;
      continue;
    }
    std::string word;
    if (line[i] == '"') {
      const std::size_t close = line.find('"', i + 1);
      if (close == std::string_view::npos)
        throw ConsoleError("missing terminator: \"", "SyntaxError");
      word = line.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      while (i < line.size() && !space(line[i])) word += line[i++];
    }
    words.push_back(std::move(word));
  }
  return words;
}

std::vector<std::string> Console::split_script(std::string_view script) {
  std::vector<std::string> commands;
  std::string current;
  bool quoted = false;
  for (char c : script) {
    if (c == '"') quoted = !quoted;
    if (c == ';' && !quoted) {
      commands.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  commands.push_back(std::move(current));
  std::erase_if(commands, [](const std::string& c) {
    return c.find_first_not_of(" \t") == std::string::npos;
  });
  return commands;
}

std::string Console::help() const {
  std::string out = "Commands:";
  for (const Command& c : commands_) {
    out += fmt::format("\n  {:<28} {}", c.synopsis.empty() ? c.name : c.name + " " + c.synopsis,
                       c.help);
  }
  return out;
}

void Console::perform(std::string_view line) {
  std::vector<std::string> commands;
  try {
    commands = split_script(line);
  } catch (const ConsoleError& e) {
    commands = {std::string(line)};  // execute reports the error
  }
  for (const std::string& c : commands) {
    if (done_) break;
    if (std::string news = watch_application(); !news.empty()) out_ << news << '\n';
    std::string result = execute(c);
    const bool error = is_error(result);
    failed_ = failed_ || error;
    std::vector<std::string> words;
    try {
      words = split_words(c);
    } catch (const ConsoleError&) {
    }
    const bool drawing =
        !words.empty() && (words[0] == "tree" || words[0] == "ps" || words[0] == "help");
    if (quiet_ && error) {
      std::cerr << result << std::endl;
    } else if (!result.empty() && (!quiet_ || drawing)) {
      out_ << result << '\n';
    }
    if (std::string news = watch_application(); !news.empty())
      (quiet_ ? std::cerr : out_) << news << '\n';
    out_ << std::flush;
  }
}

int Console::prompt() {
  // The line editor reads its keys through this (set before its first use, which reads it).
  // It also wakes on Ctrl-C's byte in the interrupt pipe and then ends the line as at end of
  // input (the loop below tells the two apart), where a plain read() may retry after EINTR
  // and swallow the Ctrl-C. Keys come byte by byte: the commands are ASCII.
  rl_getc_function = [](FILE* in) -> int {
    for (;;) {
      if (g_interrupted != 0) return EOF;
      pollfd fds[2] = {{fileno(in), POLLIN, 0}, {g_interrupt_pipe[0], POLLIN, 0}};
      if (poll(fds, g_interrupt_pipe[0] >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) return EOF;
      if (g_interrupted != 0 || (fds[1].revents & POLLIN) != 0) return EOF;
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      unsigned char c = 0;
      const ssize_t n = read(fileno(in), &c, 1);
      if (n == 1) return c;
      if (n < 0 && errno == EINTR) continue;
      return EOF;
    }
  };
  const std::string history = history_file(program_);
  using_history();
  if (!history.empty()) read_history(history.c_str());
  std::vector<std::string> command_names;
  for (const Command& c : commands_) command_names.push_back(c.name);
  std::vector<std::string> arguments;
  g_command_names = &command_names;
  g_arguments = &arguments;
  rl_attempted_completion_function = [](const char* text, int start, int) -> char** {
    rl_attempted_completion_over = 1;  // no file names
    const std::string_view before(rl_line_buffer, static_cast<std::size_t>(start));
    g_candidates =
        before.find_first_not_of(" \t") == std::string_view::npos ? g_command_names : g_arguments;
    return rl_completion_matches(text, next_candidate);
  };
  catch_interrupts();
  for (int n = 1; !done_;) {
    arguments.clear();
    if (completions_ && !stopped()) {
      try {
        arguments = completions_();
      } catch (const std::exception&) {  // nothing to complete
      }
    }
    const std::string prompt = fmt::format("{}({})> ", program_, n);
    drain_interrupts();
    errno = 0;
    char* raw = readline(prompt.c_str());
    if (raw == nullptr) {
      // Ctrl-C: the line is dropped, a fresh prompt. The line editor's own handler passes the
      // signal on to ours, which another thread may run a moment later: EINTR tells it as well.
      if (g_interrupted != 0 || errno == EINTR) {
        out_ << '\n' << std::flush;
        continue;
      }
      out_ << '\n' << std::flush;  // Ctrl-D: leave on a line of our own
      break;
    }
    std::string line = raw;
    std::free(raw);  // NOLINT(cppcoreguidelines-no-malloc): readline's buffer
    // A Ctrl-C that came once the line was entered is the command's: it stays pending, so a
    // `sleep` ends at once, instead of the line being dropped.
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    add_history(line.c_str());
    if (!history.empty()) write_history(history.c_str());
    perform(line);
    ++n;
  }
  g_command_names = g_arguments = g_candidates = nullptr;
  signal(SIGINT, SIG_DFL);
  return 0;
}

int Console::run(int argc, char** argv, const std::function<void()>& start) {
  script_.clear();
  quiet_ = false;
  try {
    cli_->parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out_ << cli_->help() << std::flush;  // the help of the subcommand given, if one was
    return 0;
  } catch (const CLI::ParseError& e) {
    out_ << error_line("ArgumentError", fmt::format("{} (see --help)", e.what())) << std::endl;
    return 2;
  }
  if (auto extra = cli_->remaining(true); !extra.empty()) {
    const std::string& arg = extra.front();
    out_ << error_line(
                "ArgumentError",
                fmt::format("{} {} (see --help)",
                            arg.starts_with('-') ? "unknown option" : "unexpected argument", arg))
         << std::endl;
    return 2;
  }
  const auto sub =
      std::ranges::find_if(subcommands_, [](const Subcommand& s) { return s.app->parsed(); });
  if (sub != subcommands_.end() && script_option_->count() > 0) {
    out_ << error_line("ArgumentError",
                       fmt::format("-e runs commands and {} runs instead of them: give one of "
                                   "the two (see --help)",
                                   sub->app->get_name()))
         << std::endl;
    return 2;
  }

  try {
    if (start) start();
    if (app_start_)
      start_application(sub != subcommands_.end() ? sub->type : RestartType::temporary);
    if (observer_port_ >= 0) {
      // To stderr with -q, so that what a script reads from stdout stays the commands' output.
      const std::string line = fmt::format("observer: {}\n", observer());
      if (quiet_) {
        std::fputs(line.c_str(), stderr);
      } else {
        out_ << line << std::flush;
      }
    }
  } catch (const std::exception& e) {
    out_ << error_line("RuntimeError", fmt::format("could not start: {}", e.what())) << std::endl;
    return 1;
  }

  if (sub != subcommands_.end()) {
    try {
      return sub->run();
    } catch (const std::exception& e) {
      out_ << error_line("RuntimeError", fmt::format("{}: {}", sub->app->get_name(), e.what()))
           << std::endl;
      return 1;
    }
  }
  if (script_option_->count() > 0) {
    perform(script_);
    return failed_ ? 1 : 0;
  }
  if (isatty(STDIN_FILENO) == 0) {
    std::string line;
    while (!done_ && std::getline(std::cin, line)) perform(line);
    return 0;
  }
  return prompt();
}

}  // namespace otp
