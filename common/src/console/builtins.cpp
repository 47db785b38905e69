// The commands every console has (otp/console.hpp): help, tree, ps, kill, sleep, quit, and
// observer where the program registered the web observer (Console::web_observer). kill waits
// until its signal has taken effect, so that the next command sees the world after it; the
// pid arguments of every command are read here (find_pid, pid_arg).
#include <algorithm>
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "interrupts.hpp"
#include "otp/console.hpp"
#include "otp/duration.hpp"
#include "otp/observer.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "otp/scoped.hpp"
#include "text.hpp"

namespace otp {

using detail::interruptible_sleep;
using detail::parse_count;

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
  if (registered_web_observer()) {
    command("observer", "", "starts the web observer and prints its URL",
            [this](const Args&) { return observer(); });
  }
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

Console::WebObserver& Console::registered_web_observer() {
  static WebObserver start;
  return start;
}

void Console::web_observer(WebObserver start) { registered_web_observer() = std::move(start); }

std::string Console::observer() {
  if (!observer_url_.empty()) return observer_url_;
  const WebObserver& start = registered_web_observer();
  if (!start)
    throw ConsoleError("this program has no web observer (link otp::observer, see otp/console.hpp)",
                       "RuntimeError");
  observer_url_ =
      start(me_, static_cast<std::uint16_t>(std::max(observer_port_, 0)), observer_readonly_);
  return observer_url_;
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

}  // namespace otp
