// otp::Task — a process that computes one value for the process that started
// it (Elixir's Task).
//
//   auto t = otp::Task<int>::async([]() -> otp::Co<int> { co_return 42; });
//   int v = co_await t.await();                       // or ExitError after 5 s
//
//   std::optional<int> r = co_await t.yield(100ms);   // nullopt: not yet, still running
//   if (!r) r = co_await t.shutdown();                // stop it; its reply if it came
//
//   std::vector<int> all = co_await otp::await_many(tasks);       // within 5 s, all together
//   auto some = co_await otp::yield_many(tasks, 1s);  // per task: value, exit, or still running
//
//   {.id = "warmer", .start = [] { return otp::Task<>::start_link(warm_caches); }}
//
// A task's function may return a value or otp::Co<value> (and then co_await
// inside); Task<void> is for functions that return nothing.
//
// As in Elixir: async links the task to its owner (the caller; a crash of the
// task takes the owner down unless it traps exits) and monitors it; the reply
// is tagged with the monitor's reference, like a GenServer call's; await and
// yield may only be used by the owner. A task that crashes logs a crash report.
// Differences: yield throws ExitError when the task exited (Elixir returns
// {:exit, reason}), and shutdown returns nullopt for every exit.
//
// Tasks by the many: otp/async_stream.hpp; under a supervisor:
// otp/task_supervisor.hpp. This header includes both.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "otp/co.hpp"
#include "otp/detail/task.hpp"
#include "otp/gen_server.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "otp/request_id.hpp"
#include "otp/server_ref.hpp"
#include "otp/timer.hpp"

namespace otp {

// Task::shutdown(brutal_kill): kill the task at once instead of asking it to stop.
struct BrutalKill {};
inline constexpr BrutalKill brutal_kill{};

template <class T>
class Task {
 public:
  using value_type = T;
  // What yield and shutdown give: the value, Ok for Task<void>.
  using reply_type = std::conditional_t<std::is_void_v<T>, Ok, T>;

  Task() = default;

  // Runs `fn()` in a new process linked to and monitored by the caller.
  template <class F>
  static Task async(F fn) {
    static_assert(std::is_same_v<detail::task_reply_t<F>, reply_type> ||
                      std::is_convertible_v<detail::task_reply_t<F>, reply_type>,
                  "the function's result does not match the task's type");
    Pid pid = spawn_link(&detail::replying_task<reply_type, F>, std::move(fn));
    return started(pid);
  }

  // Elixir's Task.start_link/1: runs fn() in a new process linked to the caller, for what it
  // does rather than for a value (nobody awaits it): the start a child spec gives a supervisor.
  // A crash is reported (a crash report) and ends the process with its reason.
  template <class F>
  static Start start_link(F fn) {
    co_return StartResult::ok(spawn_link(&detail::detached_task<F>, std::move(fn), self()));
  }
  // Task.start/1: the same, not linked.
  template <class F>
  static Start start(F fn) {
    co_return StartResult::ok(spawn(&detail::detached_task<F>, std::move(fn), self()));
  }

  // The task's value. Throws ExitError ("** (exit) exited in: Task.await(...)")
  // with the task's reason when it exits first, or `timeout` after `timeout`;
  // either way the task is done with (its monitor is gone).
  Co<T> await(Duration timeout = default_await_timeout) const { return await_impl(*this, timeout); }

  // The value if the task replies within `timeout`, nullopt if not (the task
  // keeps running, and may be awaited or yielded again). Throws ExitError when
  // the task has exited without replying.
  Co<std::optional<reply_type>> yield(Duration timeout = default_await_timeout) const {
    return yield_impl(*this, timeout);
  }

  // Stops the task: unlinks it, sends it `shutdown` and waits up to `timeout`
  // for it to end, then kills it. Returns its reply if it had already replied,
  // nullopt otherwise (at once for a task that has already ended, awaited or not).
  Co<std::optional<reply_type>> shutdown(Duration timeout = default_await_timeout) const {
    return shutdown_impl(*this, timeout, false);
  }
  Co<std::optional<reply_type>> shutdown(BrutalKill) const {
    return shutdown_impl(*this, infinity, true);
  }

  // Lets the task run on, done with by its owner (Elixir's Task.ignore): it is
  // unlinked and unmonitored, and its reply, should it come, is dropped.
  // Returns the reply if it had already arrived, nullopt otherwise.
  std::optional<reply_type> ignore() const {
    detail::check_task_owner(owner_, pid_, "ignore");
    detail::CallWait<reply_type> w(ref_, Duration::zero());
    detail::Msg* m = detail::take_now(w);
    unlink(pid_);
    demonitor(ref_, true);
    if (m == nullptr) return std::nullopt;
    detail::MsgGuard guard{m};
    if (detail::is<Down>(m)) return std::nullopt;
    return std::move(detail::value_of<detail::CallReply<reply_type>>(m).value);
  }

  const Pid& pid() const { return pid_; }
  const Ref& ref() const { return ref_; }
  const Pid& owner() const { return owner_; }
  // %Task{owner: <0.1.0>, pid: <0.2.0>, ref: #Ref<0.3>}
  std::string to_string() const { return detail::task_text(owner_, pid_, ref_); }

 private:
  friend struct detail::TaskAccess;

  Task(Pid owner, Pid pid, Ref ref) : owner_(owner), pid_(pid), ref_(ref) {}

  // Monitors a task started with replying_task and lets it run.
  static Task started(Pid pid) {
    Ref ref =
        detail::monitor_alias(pid);  // the reply comes through it; dropped once the monitor is gone
    send(pid, detail::TaskGo{self(), ref});
    return Task(self(), pid, ref);
  }

  static Co<T> await_impl(Task t, Duration timeout) {
    detail::check_task_owner(t.owner_, t.pid_, "await");
    auto fail = [&](Reason r) {
      detail::call_failed(std::move(r), fmt::format("Task.await({}, {})", t.to_string(),
                                                    detail::timeout_text(timeout)));
    };
    detail::Msg* m = co_await detail::CallWait<reply_type>(t.ref_, timeout);
    if (m == nullptr) {
      demonitor(t.ref_, true);
      fail(Reason::timeout());
    }
    detail::MsgGuard guard{m};
    if (detail::is<Down>(m)) fail(detail::value_of<Down>(m).reason);
    demonitor(t.ref_, true);
    if constexpr (!std::is_void_v<T>)
      co_return std::move(detail::value_of<detail::CallReply<T>>(m).value);
  }

  static Co<std::optional<reply_type>> yield_impl(Task t, Duration timeout) {
    detail::check_task_owner(t.owner_, t.pid_, "yield");
    detail::Msg* m = co_await detail::CallWait<reply_type>(t.ref_, timeout);
    if (m == nullptr) co_return std::nullopt;
    detail::MsgGuard guard{m};
    if (detail::is<Down>(m)) {
      detail::call_failed(
          detail::value_of<Down>(m).reason,
          fmt::format("Task.yield({}, {})", t.to_string(), detail::timeout_text(timeout)));
    }
    demonitor(t.ref_, true);
    co_return std::move(detail::value_of<detail::CallReply<reply_type>>(m).value);
  }

  // As Elixir's: a monitor of its own, so that a task already done with (awaited, shut down)
  // answers at once with its noproc Down instead of waiting on a monitor that is gone.
  static Co<std::optional<reply_type>> shutdown_impl(Task t, Duration timeout, bool brutal) {
    detail::check_task_owner(t.owner_, t.pid_, "shutdown");
    Ref mon = monitor(t.pid_);
    unlink(t.pid_);
    otp::exit(t.pid_, brutal ? Reason::kill() : Reason::shutdown());
    auto ours = [mon](const Down& d) { return d.ref == mon; };
    if (!co_await receive<Down>(ours, timeout)) {
      otp::exit(t.pid_, Reason::kill());
      co_await receive<Down>(ours);
    }
    // The task's reply, when it sent one, came before its exit.
    detail::CallWait<reply_type> w(t.ref_, Duration::zero());
    detail::Msg* m = detail::take_now(w);
    demonitor(t.ref_, true);
    if (m == nullptr) co_return std::nullopt;
    detail::MsgGuard guard{m};
    if (detail::is<Down>(m)) co_return std::nullopt;
    co_return std::move(detail::value_of<detail::CallReply<reply_type>>(m).value);
  }

  Pid owner_;
  Pid pid_;
  Ref ref_;
};

namespace detail {
std::string tasks_text(const std::vector<std::string>& tasks, Duration timeout);
template <class T>
std::string tasks_text(const std::vector<Task<T>>& tasks, Duration timeout) {
  std::vector<std::string> each;
  each.reserve(tasks.size());
  for (const Task<T>& t : tasks) each.push_back(t.to_string());
  return tasks_text(each, timeout);
}
// What is left of `timeout` begun at `start` (infinity stays infinity).
inline Duration time_left(std::chrono::steady_clock::time_point start, Duration timeout) {
  if (timeout == infinity) return infinity;
  const auto spent = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
  return spent >= timeout ? Duration::zero() : timeout - spent;
}

// The replies that await_many and yield_many wait for, each labelled with its task's index;
// only the tasks' owner may wait for them (`who` names the function in the error).
template <class T>
RequestIds<typename Task<T>::reply_type, std::size_t> requests_of(const std::vector<Task<T>>& tasks,
                                                                  const char* who) {
  RequestIds<typename Task<T>::reply_type, std::size_t> waiting;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    check_task_owner(tasks[i].owner(), tasks[i].pid(), who);
    waiting.add(RequestId<typename Task<T>::reply_type>(tasks[i].ref()), i);
  }
  return waiting;
}
}  // namespace detail

// Elixir's Task.await_many: the values of `tasks`, in their order, awaited together within one
// `timeout` (not one each). When a task exits before replying, or the time runs out, throws
// ExitError ("exited in: Task.await_many([...], 5000)") with the task's reason or timeout,
// every task still running given up (unmonitored: no reply or Down of theirs arrives after).
// Only the tasks' owner may await them.
template <class T>
Co<std::vector<typename Task<T>::reply_type>> await_many(std::vector<Task<T>> tasks,
                                                         Duration timeout = default_await_timeout) {
  using R = typename Task<T>::reply_type;
  auto waiting = detail::requests_of(tasks, "await_many");
  std::vector<std::optional<R>> got(tasks.size());
  const auto start = std::chrono::steady_clock::now();
  while (!waiting.empty()) {
    auto answer = co_await receive_response(waiting, detail::time_left(start, timeout));
    if (!answer) detail::call_failed(Reason::timeout(), detail::tasks_text(tasks, timeout));
    if (!answer->result) {
      waiting.abandon();
      detail::call_failed(answer->result.reason(), detail::tasks_text(tasks, timeout));
    }
    got[answer->label].emplace(std::move(answer->result).value());
  }
  std::vector<R> values;
  values.reserve(got.size());
  for (auto& v : got) values.push_back(std::move(*v));
  co_return values;
}

// Elixir's Task.yield_many: waits up to `timeout` for all of `tasks` and gives, in their order,
// each one's answer: its value, its exit reason (a task that ended without replying), or nullopt
// for a task still running, which stays monitored (yield, await or shutdown it later).
template <class T>
Co<std::vector<std::optional<CallResult<typename Task<T>::reply_type>>>> yield_many(
    std::vector<Task<T>> tasks, Duration timeout = default_await_timeout) {
  using R = typename Task<T>::reply_type;
  auto waiting = detail::requests_of(tasks, "yield_many");
  std::vector<std::optional<CallResult<R>>> answers(tasks.size());
  const auto start = std::chrono::steady_clock::now();
  while (!waiting.empty()) {
    auto answer = co_await wait_response(waiting, detail::time_left(start, timeout));
    if (!answer) break;  // the others keep their monitors
    answers[answer->label].emplace(std::move(answer->result));
  }
  co_return answers;
}

}  // namespace otp

template <class T>
struct fmt::formatter<otp::Task<T>> : fmt::formatter<std::string_view> {
  auto format(const otp::Task<T>& t, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(t.to_string(), ctx);
  }
};

// Task's companions; each includes this header first.
#include "otp/async_stream.hpp"     // IWYU pragma: export
#include "otp/task_supervisor.hpp"  // IWYU pragma: export
