// otp::Task — a process that computes one value for the process that started
// it (Elixir's Task), and otp::TaskSupervisor, which starts tasks under itself.
//
//   auto t = otp::Task<int>::async([]() -> otp::Co<int> { co_return 42; });
//   int v = co_await t.await();                       // or ExitError after 5 s
//
//   std::optional<int> r = co_await t.yield(100ms);   // nullopt: not yet, still running
//   if (!r) r = co_await t.shutdown();                // stop it; its reply if it came
//
//   std::vector<int> sizes = co_await otp::async_stream(
//       urls, [](const std::string& url) { return fetch(url).size(); },
//       {.max_concurrency = 4, .timeout = 5s});       // in the order of `urls`
//
//   auto sup = co_await otp::TaskSupervisor::start_link();
//   auto job = co_await otp::TaskSupervisor::async_nolink(sup.pid(), [] { return risky(); });
//   int v = co_await job.await();                     // a crash is an ExitError here, not ours
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
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "otp/co.hpp"
#include "otp/gen_server.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "otp/supervisor.hpp"
#include "otp/timer.hpp"

namespace otp {

inline constexpr Duration default_await_timeout = std::chrono::seconds(5);

// Task::shutdown(brutal_kill): kill the task at once instead of asking it to stop.
struct BrutalKill {};
inline constexpr BrutalKill brutal_kill{};

namespace detail {

struct TaskAccess;

// Sent by the owner once it monitors the task: where the reply goes and its tag.
struct TaskGo {
  Pid owner;
  Ref ref;
};

template <class F>
using task_return_t = typename unwrap_co<std::invoke_result_t<F&>>::type;
// What the task's process sends: its function's result, Ok for void.
template <class F>
using task_reply_t = std::conditional_t<std::is_void_v<task_return_t<F>>, Ok, task_return_t<F>>;

// Logs the crash report of a task that ended with `reason` (unless orderly).
void report_task_crash(const Reason& reason, const Pid& owner);

template <class V, class F>
Co<V> run_task_fn(F& fn) {
  using Ret = std::invoke_result_t<F&>;
  if constexpr (unwrap_co<Ret>::is_co) {
    if constexpr (std::is_void_v<typename unwrap_co<Ret>::type>) {
      co_await fn();
      co_return Ok{};
    } else {
      co_return co_await fn();
    }
  } else if constexpr (std::is_void_v<Ret>) {
    fn();
    co_return Ok{};
  } else {
    co_return V(fn());
  }
}

// Runs a task's function; a crash is reported, then ends the process.
template <class V, class F>
Co<V> task_work(F& fn, Pid owner) {
  std::exception_ptr error;
  try {
    co_return co_await run_task_fn<V>(fn);
  } catch (...) {
    error = std::current_exception();
  }
  report_task_crash(reason_of(error), owner);
  std::rethrow_exception(error);
}

// The body of a task that replies: waits for its owner's TaskGo, runs, replies.
template <class V, class F>
Co<void> replying_task(F fn) {
  TaskGo go = co_await receive<TaskGo>();
  V value = co_await task_work<V>(fn, go.owner);
  send(Alias{go.owner, go.ref}, CallReply<V>{go.ref, std::move(value)});
}

// The body of a fire-and-forget task.
template <class F>
Co<void> detached_task(F fn, Pid starter) {
  co_await task_work<task_reply_t<F>>(fn, starter);
}

inline Co<void> run_body_co(Co<void> body) { co_await std::move(body); }

std::string task_text(const Pid& owner, const Pid& pid, const Ref& ref);
// Throws BadArg unless the calling process owns the task.
void check_task_owner(const Pid& owner, const Pid& pid, std::string_view what);

}  // namespace detail

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
// Starts tasks for TaskSupervisor and async_stream.
struct TaskAccess {
  template <class T>
  static Task<T> started(Pid pid) {
    return Task<T>::started(pid);
  }
};
}  // namespace detail

// How async_stream runs: at most max_concurrency tasks at once (0: one per
// hardware thread), each allowed `timeout` to reply.
struct StreamOptions {
  std::size_t max_concurrency = 0;
  Duration timeout = default_await_timeout;
};

namespace detail {
struct StreamTimeout {
  Ref stream;
  Ref task;
};
template <class Items, class F>
using stream_item_t = std::remove_cvref_t<decltype(*std::begin(std::declval<Items&>()))>;
}  // namespace detail

// Runs fn(item) for every item, each in a task linked to the caller, at most
// opts.max_concurrency at a time, and returns the results in the items' order.
// When a task exits without replying or takes longer than opts.timeout, the
// others are killed and ExitError is thrown ("Task.async_stream(...)", the
// task's reason or `timeout`).
template <class Items, class F>
auto async_stream(Items items, F fn, StreamOptions opts = {}) {
  using Item = detail::stream_item_t<Items, F>;
  auto bound = [fn](Item item) {
    return [fn, item = std::move(item)]() mutable { return fn(item); };
  };
  using Job = decltype(bound(std::declval<Item>()));
  using V = detail::task_reply_t<Job>;
  return [](Items items, decltype(bound) bound, StreamOptions opts) -> Co<std::vector<V>> {
    std::size_t limit = opts.max_concurrency;
    if (limit == 0) limit = std::max(1u, std::thread::hardware_concurrency());
    struct Running {
      Task<V> task;
      std::size_t index;
      TimerRef timer;
    };
    const Ref stream = make_ref();
    std::vector<std::optional<V>> results;
    std::vector<Running> running;
    auto find = [&](Ref ref) {
      return std::find_if(running.begin(), running.end(),
                          [ref](const Running& r) { return r.task.ref() == ref; });
    };
    auto ours = [&](Ref ref) { return find(ref) != running.end(); };
    auto it = std::begin(items);
    auto end = std::end(items);
    std::optional<Reason> failure;
    while (!failure && (it != end || !running.empty())) {
      while (running.size() < limit && it != end) {
        Job job = bound(*it);
        ++it;
        Pid pid = spawn_link(&detail::replying_task<V, Job>, std::move(job));
        Task<V> task = detail::TaskAccess::started<V>(pid);
        TimerRef timer;
        if (opts.timeout != infinity)
          timer = send_after(opts.timeout, self(), detail::StreamTimeout{stream, task.ref()});
        running.push_back(Running{task, results.size(), timer});
        results.emplace_back();
      }
      co_await receive(
          match<detail::CallReply<V>>([&](const detail::CallReply<V>& r) { return ours(r.ref); },
                                      [&](detail::CallReply<V> r) {
                                        auto at = find(r.ref);
                                        results[at->index].emplace(std::move(r.value));
                                        demonitor(r.ref, true);
                                        if (at->timer) cancel_timer(at->timer);
                                        running.erase(at);
                                      }),
          match<Down>([&](const Down& d) { return ours(d.ref); },
                      [&](Down d) { failure = std::move(d.reason); }),
          match<detail::StreamTimeout>(
              [&](const detail::StreamTimeout& t) { return t.stream == stream && ours(t.task); },
              [&](detail::StreamTimeout) { failure = Reason::timeout(); }));
    }
    for (Running& r : running) {
      unlink(r.task.pid());
      otp::exit(r.task.pid(), Reason::kill());
      demonitor(r.task.ref(), true);
      if (r.timer) cancel_timer(r.timer);
    }
    // A timer that fired while its task was replying.
    while (co_await receive<detail::StreamTimeout>(
        [&](const detail::StreamTimeout& t) { return t.stream == stream; }, Duration::zero())) {
    }
    if (failure) {
      detail::call_failed(std::move(*failure), fmt::format("Task.async_stream(..., {})",
                                                           detail::timeout_text(opts.timeout)));
    }
    std::vector<V> out;
    out.reserve(results.size());
    for (auto& r : results) out.push_back(std::move(*r));
    co_return out;
  }(std::move(items), std::move(bound), opts);
}

// A supervisor of tasks (Elixir's Task.Supervisor), which is a DynamicSupervisor: every task is
// a temporary child (never restarted) with a shutdown of 5 s, so DynamicSupervisor's
// which_children, count_children and terminate_child work on it too. When it stops, it stops
// its tasks in reverse start order, killing those still running after 5 s.
class TaskSupervisor {
 public:
  static Start start_link(Name name = {}, SupFlags flags = {}) {
    return detail::start_sup(true, std::move(name), flags, {}, detail::SupKind::task);
  }
  static Start start(Name name = {}, SupFlags flags = {}) {
    return detail::start_sup(false, std::move(name), flags, {}, detail::SupKind::task);
  }

  // Starts fn() under the supervisor, linked to it only; nobody awaits it.
  template <Destination Dest, class F>
  static Start start_child(Dest sup, F fn) {
    return DynamicSupervisor::start_child(
        server_ref(std::move(sup)), task_spec(detail::detached_task<F>(std::move(fn), self())));
  }
  // As Task::async, under the supervisor: the task is linked to both.
  template <Destination Dest, class F>
  static Co<Task<detail::task_return_t<F>>> async(Dest sup, F fn) {
    return async_impl(server_ref(std::move(sup)), std::move(fn), true);
  }
  // As async, but not linked to the caller: a crash of the task reaches the
  // caller only as an ExitError from await.
  template <Destination Dest, class F>
  static Co<Task<detail::task_return_t<F>>> async_nolink(Dest sup, F fn) {
    return async_impl(server_ref(std::move(sup)), std::move(fn), false);
  }
  // The running children.
  template <Destination Dest>
  static Co<std::vector<Pid>> children(Dest sup) {
    return running(server_ref(std::move(sup)));
  }

 private:
  // The child spec of a task whose process runs `body`.
  static ChildSpec task_spec(Co<void> body);
  static Co<std::vector<Pid>> running(ServerRef sup);
  template <class Dest>
  static ServerRef server_ref(Dest sup) {
    if constexpr (std::is_convertible_v<Dest, std::string_view> && !std::is_same_v<Dest, Pid>) {
      return ServerRef(std::string(std::string_view(sup)));
    } else {
      return ServerRef(std::move(sup));
    }
  }
  template <class F>
  static Co<Task<detail::task_return_t<F>>> async_impl(ServerRef sup, F fn, bool link_caller) {
    using T = detail::task_return_t<F>;
    using V = detail::task_reply_t<F>;
    // Named, not a temporary of the co_await's expression: GCC 12 would destroy
    // that temporary's coroutine handle as well.
    ChildSpec spec = task_spec(detail::replying_task<V, F>(std::move(fn)));
    StartResult started = co_await DynamicSupervisor::start_child(std::move(sup), std::move(spec));
    if (!started.ok())
      throw ExitError(started.reason(), "Task.Supervisor.async: " + started.to_string());
    if (link_caller) link(started.pid());
    co_return detail::TaskAccess::started<T>(started.pid());
  }
};

}  // namespace otp

template <class T>
struct fmt::formatter<otp::Task<T>> : fmt::formatter<std::string_view> {
  auto format(const otp::Task<T>& t, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(t.to_string(), ctx);
  }
};
