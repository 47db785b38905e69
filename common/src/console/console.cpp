// otp::Console (otp/console.hpp): what a console is made of and how it runs. A console holds
// its commands (a name, a synopsis whose words it counts, a handler), the CLI11 app of its
// command line and the application it starts and watches. run() parses the command line, starts
// the application, then hands each line to perform(): split on `;`, each command run by
// execute(), which turns every exception into one `** (kind) ...` line. Around each command
// perform() looks at the application's top process: its end is printed once, and from then on
// the program's own commands are refused until `start`.
//
// The rest lives beside this file: the built-in commands (builtins.cpp), the prompt with its line
// editing (prompt.cpp; completion, history and Ctrl-C in completion.*, history.*, interrupts.*),
// the layout of --help (help_formatter.hpp). Everything runs on the thread that called run().
#include "otp/console.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <iterator>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include "help_formatter.hpp"
#include "otp/duration.hpp"
#include "otp/observer.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "otp/scoped.hpp"
#include "text.hpp"

namespace otp {

using detail::error_line;
using detail::HelpFormatter;
using detail::is_error;
using detail::one_line;

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
  if (registered_web_observer()) {
    cli_->add_option("--observer", observer_port_,
                     "starts the web observer on this loopback port (0: a free one)")
        ->type_name("<port>")
        ->check(CLI::Range(0, 65535));
    cli_->add_flag("--observer-readonly", observer_readonly_,
                   "the web observer shows, but has no kill button");
  }
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
            return parse_duration(text) ? std::string() : duration_error(text);  // with a hint
          },
          "", "duration"));
}

CLI::Option* Console::flag(CLI::App& app, const std::string& name, std::string help,
                           std::function<void(const std::string&)> read) {
  return app.add_option_function<std::string>(
      name,
      [name, read = std::move(read)](const std::string& text) {
        try {
          read(text);
        } catch (const std::invalid_argument& e) {
          throw CLI::ValidationError(name, e.what());
        }
      },
      std::move(help));
}

void Console::on_subcommand(CLI::App* sub, std::function<int()> run, RestartType type) {
  subcommands_.push_back(Subcommand{sub, std::move(run), type});
}

void Console::on_service(CLI::App* sub, std::function<std::string()> start) {
  sub->fallthrough();  // `serve --listen :80 --stash memory`
  sub->footer([this, sub] {
    std::vector<std::string> own;
    for (const CLI::Option* o : cli_->get_options()) {
      if (!o->get_lnames().empty() && o != cli_->get_help_ptr()) own.push_back(o->get_name());
    }
    return fmt::format("{}'s own flags may follow {} too: {} ({} --help lists them).", program_,
                       sub->get_name(), fmt::join(own, ", "), program_);
  });
  auto serve = [this, start = std::move(start)] {
    apps_->catch_stop_signals();  // before the line: whoever reads it may signal at once
    out_ << start() << "; SIGINT or SIGTERM stops it" << std::endl;
    const int status = apps_->wait_for_stop();  // the application's end is logged
    if (status == 0) out_ << program_ << " stopped" << std::endl;
    return status;
  };
  on_subcommand(sub, std::move(serve), RestartType::permanent);
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
