#include "otp/console.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <thread>

#include <editline/readline.h>
#include <fmt/format.h>

#include "otp/observer.hpp"
#include "otp/process.hpp"
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

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  const std::size_t unit = text.find_first_not_of("0123456789");
  if (unit == std::string_view::npos || unit == 0) return std::nullopt;
  std::string_view suffix = text.substr(unit);
  std::uint64_t scale = 0;
  if (suffix == "ms") scale = 1;
  if (suffix == "s") scale = 1000;
  if (suffix == "m") scale = 60'000;
  if (scale == 0) return std::nullopt;
  // At most about a year: enough for any timeout, far from overflowing nanoseconds.
  auto n = parse_count(text.substr(0, unit), std::uint64_t{366} * 24 * 3600 * 1000 / scale);
  if (!n) return std::nullopt;
  return milliseconds(static_cast<std::int64_t>(*n * scale));
}

std::string format_duration(Duration d) {
  const auto ms = std::chrono::duration_cast<milliseconds>(d).count();
  if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
  if (ms != 0 && ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

Console::Console(std::string program, Scoped& me) : Console(std::move(program), me, std::cout) {}

Console::Console(std::string program, Scoped& me, std::ostream& out)
    : program_(std::move(program)), me_(me), out_(out) {
  builtins();
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

void Console::flag(std::string name, std::string help, Duration& value) {
  flags_.push_back(Flag{std::move(name), std::move(help), &value});
}

void Console::builtins() {
  command("help", "", "lists the commands", [this](const Args&) { return help(); });
  command("tree", "[dot]", "prints the supervision tree (as Graphviz DOT with `dot`)", [this](const Args& a) {
    if (!a.empty() && a[0] != "dot") throw ConsoleError(fmt::format("unknown tree format: {} (use dot)", a[0]));
    auto forest = me_.await(observer::tree());
    // The console's own process is no part of the application: what it started stands in its place.
    std::vector<TreeNode> shown;
    for (TreeNode& n : forest) {
      if (n.info.pid != me_.pid()) {
        shown.push_back(std::move(n));
      } else {
        std::ranges::move(n.children, std::back_inserter(shown));
      }
    }
    forest = std::move(shown);
    std::string text = a.empty() ? observer::render_text(forest) : observer::render_dot(forest);
    if (text.ends_with('\n')) text.pop_back();
    return text;
  });
  command("ps", "", "prints the process table", [this](const Args&) {
    std::string text = observer::render_table(me_.await(observer::processes()));
    if (text.ends_with('\n')) text.pop_back();
    return text;
  });
  command("kill", "<pid|name> [reason]", "sends an exit signal (default reason: kill)",
          [this](const Args& a) { return kill(a); });
  command("sleep", "<duration>", "waits, e.g. 300ms, 2s or 1m", [this](const Args& a) {
    auto d = parse_duration(a[0]);
    if (!d) throw ConsoleError(fmt::format("not a duration: \"{}\" (use e.g. 300ms, 2s or 1m)", a[0]));
    if (me_.runtime().deterministic()) {
      me_.runtime().advance(*d);
    } else {
      std::this_thread::sleep_for(*d);
    }
    return std::string(":ok");
  });
  command("quit", "", "leaves the console", [this](const Args&) {
    done_ = true;
    return std::string();
  });
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
  if (!text.starts_with("<0.") || !text.ends_with(".0>") || !parse_count(text.substr(3, text.size() - 6), UINT64_MAX)) {
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
  if (*pid == me_.pid()) throw ConsoleError(fmt::format("{} is the console's own process", args[0]));
  otp::exit(*pid, args.size() > 1 ? Reason::parse(args[1]) : Reason::kill());
  return "true";
}

std::string Console::run_command(const Command& c, Args args) {
  if (args.size() < c.required || args.size() > c.required + c.optional) {
    std::string expected = c.synopsis.empty() ? c.name : c.name + " " + c.synopsis;
    throw ConsoleError(fmt::format("wrong number of arguments: {} (usage: {})",
                                   args.size() < c.required ? "missing" : "too many", expected));
  }
  return c.handler(args);
}

std::string Console::execute(std::string_view line) {
  try {
    std::vector<std::string> words = split_words(line);
    if (words.empty()) return "";
    auto it = std::find_if(commands_.begin(), commands_.end(), [&](const Command& c) { return c.name == words[0]; });
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
      if (close == std::string_view::npos) throw ConsoleError("missing terminator: \"", "SyntaxError");
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
  std::erase_if(commands, [](const std::string& c) { return c.find_first_not_of(" \t") == std::string::npos; });
  return commands;
}

std::string Console::help() const {
  std::string out = "Commands:";
  for (const Command& c : commands_) {
    out += fmt::format("\n  {:<28} {}", c.synopsis.empty() ? c.name : c.name + " " + c.synopsis, c.help);
  }
  return out;
}

std::string Console::usage() const {
  std::string out = fmt::format(
      "Usage: {} [options]\n\n"
      "Runs the commands given with -e, else those read from stdin when it is not a terminal,\n"
      "else those typed at the prompt (with line editing and history).\n\n"
      "Options:\n"
      "  {:<32} {}\n",
      program_, "-e \"cmd; cmd\"", "runs these commands, then exits");
  for (const Flag& f : flags_) {
    out += fmt::format("  {:<32} {} (default {})\n", f.name + " <duration>", f.help, format_duration(*f.value));
  }
  out += fmt::format("  {:<32} {}\n\n", "-h, --help", "prints this help, then exits");
  out += "Durations are written 300ms, 2s or 1m.\n\n";
  return out + help() + "\n";
}

int Console::run(int argc, char** argv, const std::function<void()>& start) {
  std::optional<std::string> script;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      out_ << usage() << std::flush;
      return 0;
    }
    std::string_view name = arg.substr(0, arg.find('='));
    std::optional<std::string_view> value;
    if (name.size() < arg.size()) {
      value = arg.substr(name.size() + 1);
    } else if (i + 1 < argc) {
      value = argv[i + 1];
    }
    const bool inline_value = name.size() < arg.size();
    if (name == "-e") {
      if (!value) {
        out_ << error_line("ArgumentError", "-e needs the commands to run (see --help)") << std::endl;
        return 2;
      }
      script = std::string(*value);
      if (!inline_value) ++i;
      continue;
    }
    auto f = std::find_if(flags_.begin(), flags_.end(), [&](const Flag& fl) { return fl.name == name; });
    if (f == flags_.end()) {
      out_ << error_line("ArgumentError", fmt::format("unknown option {} (see --help)", arg)) << std::endl;
      return 2;
    }
    std::optional<Duration> d = value ? parse_duration(*value) : std::nullopt;
    if (!d) {
      out_ << error_line("ArgumentError", fmt::format("{} needs a value like 300ms, 2s or 1m (see --help)", name))
           << std::endl;
      return 2;
    }
    *f->value = *d;
    if (!inline_value) ++i;
  }

  if (start) {
    try {
      start();
    } catch (const std::exception& e) {
      out_ << error_line("RuntimeError", fmt::format("could not start: {}", e.what())) << std::endl;
      return 1;
    }
  }

  auto perform = [this](std::string_view line) {
    std::string result = execute(line);
    if (!result.empty()) out_ << result << '\n';
    out_ << std::flush;
  };
  if (script) {
    for (const std::string& c : split_script(*script)) {
      perform(c);
      if (done_) break;
    }
    return 0;
  }
  if (isatty(STDIN_FILENO) == 0) {
    std::string line;
    while (!done_ && std::getline(std::cin, line)) perform(line);
    return 0;
  }
  using_history();
  for (int n = 1; !done_; ++n) {
    const std::string prompt = fmt::format("{}({})> ", program_, n);
    char* raw = readline(prompt.c_str());
    if (raw == nullptr) break;  // end of input (Ctrl-D)
    std::string line = raw;
    std::free(raw);  // NOLINT(cppcoreguidelines-no-malloc): readline's buffer
    if (line.find_first_not_of(" \t") == std::string::npos) {
      --n;
      continue;
    }
    add_history(line.c_str());
    perform(line);
  }
  return 0;
}

}  // namespace otp
