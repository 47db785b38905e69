// otp::Applications: the restart types of OTP's applications, seen by an exit hook on each top
// process (see application.hpp for why a hook and not a controller process).
#include "otp/application.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <stdexcept>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "otp/detail/exit_hook.hpp"
#include "otp/gen_server.hpp"
#include "otp/logger.hpp"

namespace otp {

namespace {

// What wakes wait_for_stop(): a byte in a pipe, written by the signal handler ('s') or by the
// exit hook of a top process whose end stops the program ('a'); a handler may only write.
int g_stop_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int) {
  const int saved = errno;
  [[maybe_unused]] auto n = write(g_stop_pipe[1], "s", 1);
  errno = saved;
}

void open_stop_pipe() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (pipe2(g_stop_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  });
}

}  // namespace

const char* to_string(RestartType type) {
  switch (type) {
    case RestartType::permanent:
      return "permanent";
    case RestartType::transient:
      return "transient";
    case RestartType::temporary:
      return "temporary";
  }
  return "temporary";
}

struct Applications::Shared {
  struct App {
    std::string name;
    Pid top;
    RestartType type;
    bool log_end = true;
    bool stopping = false;  // stop() asked for this end
  };

  mutable std::mutex m;
  std::vector<App> running;  // in the order they started
  std::optional<Stopped> stopped;
  std::function<void(const Stopped&)> on_stop;
  bool wakes_wait = false;  // catch_stop_signals(): an end also wakes wait_for_stop()

  // Wakes wait_for_stop() (a byte on the pipe a signal writes to as well).
  static void wake() { [[maybe_unused]] auto n = write(g_stop_pipe[1], "a", 1); }

  // The exit hook of `top`: any thread, before the top's links and monitors fire.
  void ended(const Pid& top, const Reason& reason) {
    std::function<void(const Stopped&)> tell;
    bool wake_wait = false;
    Stopped stop;
    {
      std::lock_guard lock(m);
      auto it = std::ranges::find_if(running, [&](const App& a) { return a.top == top; });
      if (it == running.end()) return;
      App app = std::move(*it);
      running.erase(it);
      if (app.stopping) return;  // the program's own stop
      const bool stops_program = app.type == RestartType::permanent ||
                                 (app.type == RestartType::transient && !reason.is_normal());
      if (!stops_program) {
        if (app.log_end)
          log::notice("application: {}, exited: {}, type: {}", app.name, reason,
                      to_string(app.type));
        return;
      }
      log::error("application: {}, exited: {}, type: {}: the program stops", app.name, reason,
                 to_string(app.type));
      if (stopped) return;  // the first end decides
      stopped = Stopped{app.name, reason, app.type, 1};
      stop = *stopped;
      tell = on_stop;
      wake_wait = wakes_wait;
    }
    if (tell) tell(stop);
    if (wake_wait) wake();
  }
};

Applications::Applications(Scoped& me) : me_(me), shared_(std::make_shared<Shared>()) {}

Applications::~Applications() {
  std::lock_guard lock(shared_->m);
  shared_->on_stop = nullptr;  // the hooks hold the shared state weakly: this ends them
  shared_->wakes_wait = false;
}

Result<Pid> Applications::start(std::string name, const std::function<StartResult()>& start,
                                RestartType type, bool log_end) {
  {
    std::lock_guard lock(shared_->m);
    auto it = std::ranges::find_if(shared_->running,
                                   [&](const Shared::App& a) { return a.name == name; });
    if (it != shared_->running.end())
      return Reason::other(fmt::format("{{already_started, {}}}", name));
  }
  StartResult started = start();
  if (!started.ok())
    return started.kind() == StartResult::Kind::ignore ? Reason::other("ignore") : started.reason();
  const Pid top = started.pid();
  {
    std::lock_guard lock(shared_->m);
    shared_->running.push_back(Shared::App{name, top, type, log_end});
  }
  std::weak_ptr<Shared> weak = shared_;
  const bool watched = detail::on_exit(top, [weak](const Pid& pid, const Reason& reason) {
    if (auto shared = weak.lock()) shared->ended(pid, reason);
  });
  if (!watched) shared_->ended(top, Reason::noproc());  // it ended before the hook was set
  return top;
}

bool Applications::stop(const std::string& name) {
  Pid top;
  {
    std::lock_guard lock(shared_->m);
    auto it = std::ranges::find_if(shared_->running,
                                   [&](const Shared::App& a) { return a.name == name; });
    if (it == shared_->running.end()) return false;
    it->stopping = true;
    top = it->top;
  }
  try {
    me_.await(otp::stop(top, Reason::shutdown()));
  } catch (const ExitError&) {  // gone already, or ended with another reason: gone all the same
  }
  return true;
}

void Applications::stop_all() {
  for (;;) {
    std::string last;
    {
      std::lock_guard lock(shared_->m);
      auto it = std::ranges::find_if(shared_->running.rbegin(), shared_->running.rend(),
                                     [](const Shared::App& a) { return !a.stopping; });
      if (it == shared_->running.rend()) return;
      last = it->name;
    }
    stop(last);
  }
}

void Applications::catch_stop_signals() {
  open_stop_pipe();
  bool ended_already = false;
  {  // beside on_stop, not in its place: a program's own on_stop still runs
    std::lock_guard lock(shared_->m);
    shared_->wakes_wait = true;
    ended_already = shared_->stopped.has_value();
  }
  if (ended_already) Shared::wake();
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int Applications::wait_for_stop() {
  if (g_stop_pipe[0] < 0) catch_stop_signals();
  char woke = 0;
  while (read(g_stop_pipe[0], &woke, 1) < 0 && errno == EINTR) {
  }
  if (auto end = stopped()) return end->status;
  stop_all();
  return 0;
}

bool Applications::running(const std::string& name) const {
  std::lock_guard lock(shared_->m);
  return std::ranges::any_of(shared_->running,
                             [&](const Shared::App& a) { return a.name == name; });
}

std::optional<Applications::Stopped> Applications::stopped() const {
  std::lock_guard lock(shared_->m);
  return shared_->stopped;
}

void Applications::on_stop(std::function<void(const Stopped&)> fn) {
  std::optional<Stopped> already;
  {
    std::lock_guard lock(shared_->m);
    shared_->on_stop = fn;
    already = shared_->stopped;
  }
  if (already && fn) fn(*already);
}

}  // namespace otp
