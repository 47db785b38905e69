// The loop behind otp::async_stream (otp/async_stream.hpp) and TaskSupervisor's
// async_stream and async_stream_nolink (otp/task_supervisor.hpp), with the options and
// elements they share. Include one of those headers, not this one.
//
// The loop starts a task per item, at most max_concurrency at once, each a replying task
// (otp/detail/task.hpp) that it monitors, and takes replies, Downs and its own timers in
// whatever order they come; results go in a slot per item. It needs Task<V> complete only
// when instantiated, so otp/task.hpp and its companions may include it in any order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "otp/co.hpp"
#include "otp/detail/task.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "otp/timer.hpp"

namespace otp {

// What async_stream_nolink does with a task that runs out of time: exit (the stream fails
// with `timeout`), or kill_task (the task is killed and its element is an exit with reason
// `timeout`). Elixir's :on_timeout.
enum class OnTimeout { exit, kill_task };

// How a stream runs: at most max_concurrency tasks at once (0: one per hardware thread),
// each allowed `timeout` to reply; results in the items' order, or as they come when
// `ordered` is false. on_timeout applies to async_stream_nolink, whose elements can hold an
// exit; the other streams always fail on a timeout.
struct StreamOptions {
  std::size_t max_concurrency = 0;
  Duration timeout = default_await_timeout;
  bool ordered = true;
  OnTimeout on_timeout = OnTimeout::exit;
};

// An element of async_stream_nolink: the task's value ({:ok, value}) or the reason it
// exited ({:exit, reason}).
template <class V>
struct StreamResult {
  std::optional<V> value;  // empty: the task exited with `reason`
  Reason reason;
  bool ok() const { return value.has_value(); }
};

namespace detail {

// The loop behind every async_stream: start(job) -> Co<Pid> starts a task (a replying_task
// linked as its caller wants), at most opts.max_concurrency at once. A task that exits
// without replying fails the stream, or, when `nolink`, gives its element an exit; a task
// out of time fails the stream unless `nolink` with on_timeout kill_task. On failure the
// tasks still running are killed and ExitError is thrown naming `what`; when a start throws,
// they are killed and its exception goes on.
template <class V, class Items, class Bound, class Start>
Co<std::vector<StreamResult<V>>> run_stream(Items items, Bound bound, StreamOptions opts,
                                            Start start, bool nolink, std::string what) {
  using Job = decltype(bound(std::declval<stream_item_t<Items, Bound>>()));
  std::size_t limit = opts.max_concurrency;
  if (limit == 0) limit = std::max(1u, std::thread::hardware_concurrency());
  struct Running {
    Task<V> task;
    std::size_t index;
    TimerRef timer;
  };
  const Ref stream = make_ref();
  std::vector<std::optional<StreamResult<V>>> results;
  std::vector<std::size_t> done;  // indexes in the order their tasks ended
  std::vector<Running> running;
  auto find = [&](Ref ref) {
    return std::find_if(running.begin(), running.end(),
                        [ref](const Running& r) { return r.task.ref() == ref; });
  };
  auto ours = [&](Ref ref) { return find(ref) != running.end(); };
  auto finish = [&](typename std::vector<Running>::iterator at, StreamResult<V> result) {
    results[at->index].emplace(std::move(result));
    done.push_back(at->index);
    if (at->timer) cancel_timer(at->timer);
    running.erase(at);
  };
  auto it = std::begin(items);
  auto end = std::end(items);
  std::optional<Reason> failure;
  std::exception_ptr start_failed;  // thrown again once the running tasks are killed
  while (!failure && !start_failed && (it != end || !running.empty())) {
    while (running.size() < limit && it != end) {
      Job job = bound(*it);
      ++it;
      Pid pid;
      try {
        pid = co_await start(std::move(job));
      } catch (...) {
        start_failed = std::current_exception();
        break;
      }
      Task<V> task = TaskAccess::started<V>(pid);
      TimerRef timer;
      if (opts.timeout != infinity)
        timer = send_after(opts.timeout, self(), StreamTimeout{stream, task.ref()});
      running.push_back(Running{task, results.size(), timer});
      results.emplace_back();
    }
    if (start_failed) break;
    co_await receive(
        match<CallReply<V>>([&](const CallReply<V>& r) { return ours(r.ref); },
                            [&](CallReply<V> r) {
                              demonitor(r.ref, true);
                              finish(find(r.ref), StreamResult<V>{std::move(r.value), {}});
                            }),
        match<Down>([&](const Down& d) { return ours(d.ref); },
                    [&](Down d) {
                      if (nolink) {
                        finish(find(d.ref), StreamResult<V>{std::nullopt, std::move(d.reason)});
                      } else {
                        failure = std::move(d.reason);
                      }
                    }),
        match<StreamTimeout>(
            [&](const StreamTimeout& t) { return t.stream == stream && ours(t.task); },
            [&](StreamTimeout t) {
              if (!nolink || opts.on_timeout == OnTimeout::exit) {
                failure = Reason::timeout();
                return;
              }
              auto at = find(t.task);
              unlink(at->task.pid());
              otp::exit(at->task.pid(), Reason::kill());
              demonitor(t.task, true);
              at->timer = TimerRef{};  // it fired
              finish(at, StreamResult<V>{std::nullopt, Reason::timeout()});
            }));
  }
  for (Running& r : running) {
    unlink(r.task.pid());
    otp::exit(r.task.pid(), Reason::kill());
    demonitor(r.task.ref(), true);
    if (r.timer) cancel_timer(r.timer);
  }
  // A timer that fired while its task was replying.
  while (co_await receive<StreamTimeout>([&](const StreamTimeout& t) { return t.stream == stream; },
                                         Duration::zero())) {
  }
  if (start_failed) std::rethrow_exception(start_failed);
  if (failure) {
    call_failed(std::move(*failure), fmt::format("{}(..., {})", what, timeout_text(opts.timeout)));
  }
  std::vector<StreamResult<V>> out;
  out.reserve(results.size());
  if (opts.ordered) {
    for (auto& r : results) out.push_back(std::move(*r));
  } else {
    for (std::size_t i : done) out.push_back(std::move(*results[i]));
  }
  co_return out;
}

// fn bound to each item, as a task's function; V, what the task replies.
template <class Items, class F>
auto stream_binder(F fn) {
  return [fn](stream_item_t<Items, F> item) {
    return [fn, item = std::move(item)]() mutable { return fn(item); };
  };
}
template <class Items, class F>
using stream_reply_t = task_reply_t<decltype(stream_binder<Items, F>(std::declval<F>())(
    std::declval<stream_item_t<Items, F>>()))>;

// The values of a stream none of whose elements holds an exit.
template <class V>
std::vector<V> stream_values(std::vector<StreamResult<V>> results) {
  std::vector<V> out;
  out.reserve(results.size());
  for (auto& r : results) out.push_back(std::move(*r.value));
  return out;
}

}  // namespace detail

}  // namespace otp
