// otp::TaskSupervisor — starts tasks (otp/task.hpp) under itself, so that a crash
// of a task need not take its caller down (Elixir's Task.Supervisor).
//
//   auto sup = co_await otp::TaskSupervisor::start_link();
//   auto job = co_await otp::TaskSupervisor::async_nolink(sup.pid(), [] { return risky(); });
//   int v = co_await job.await();                     // a crash is an ExitError here, not ours
//   auto rs = co_await otp::TaskSupervisor::async_stream_nolink(sup.pid(), items, risky_on);
//   // rs[i].ok() ? *rs[i].value : rs[i].reason        // in the items' order
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "otp/co.hpp"
#include "otp/detail/stream.hpp"
#include "otp/detail/task.hpp"
#include "otp/process.hpp"
#include "otp/server_ref.hpp"
#include "otp/supervisor.hpp"
#include "otp/task.hpp"

namespace otp {

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
  // Elixir's Task.Supervisor.async_stream: as otp::async_stream, but each task is a child of
  // the supervisor, linked to the caller too. Co<std::vector<V>>.
  template <Destination Dest, class Items, class F>
  static Co<std::vector<detail::stream_reply_t<Items, F>>> async_stream(Dest sup, Items items, F fn,
                                                                        StreamOptions opts = {}) {
    auto run = stream_impl(server_ref(std::move(sup)), std::move(items), std::move(fn), opts, true);
    auto results = co_await std::move(run);
    co_return detail::stream_values(std::move(results));
  }
  // Elixir's Task.Supervisor.async_stream_nolink: the tasks are not linked to the caller; one
  // that exits without replying gives an element holding its reason instead of failing the
  // stream, and with opts.on_timeout = kill_task so does one that runs out of time (reason
  // `timeout`). Co<std::vector<StreamResult<V>>>.
  template <Destination Dest, class Items, class F>
  static Co<std::vector<StreamResult<detail::stream_reply_t<Items, F>>>> async_stream_nolink(
      Dest sup, Items items, F fn, StreamOptions opts = {}) {
    return stream_impl(server_ref(std::move(sup)), std::move(items), std::move(fn), opts, false);
  }
  // Elixir's Task.Supervisor.terminate_child: stops the task `pid` (shutdown, then a kill after
  // 5 s); false when it is not a task of this supervisor.
  template <Destination Dest>
  static Co<bool> terminate_child(Dest sup, Pid pid) {
    return DynamicSupervisor::terminate_child(server_ref(std::move(sup)), pid);
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
  template <class Items, class F>
  static Co<std::vector<StreamResult<detail::stream_reply_t<Items, F>>>> stream_impl(
      ServerRef sup, Items items, F fn, StreamOptions opts, bool link_caller) {
    using V = detail::stream_reply_t<Items, F>;
    auto start = [sup, link_caller](auto job) -> Co<Pid> {
      ChildSpec spec = task_spec(detail::replying_task<V, decltype(job)>(std::move(job)));
      StartResult started = co_await DynamicSupervisor::start_child(sup, std::move(spec));
      if (!started.ok())
        throw ExitError(started.reason(), "Task.Supervisor.async_stream: " + started.to_string());
      if (link_caller) link(started.pid());
      co_return started.pid();
    };
    auto run =
        detail::run_stream<V>(std::move(items), detail::stream_binder<Items>(std::move(fn)), opts,
                              std::move(start), !link_caller,
                              std::string(link_caller ? "Task.Supervisor.async_stream"
                                                      : "Task.Supervisor.async_stream_nolink"));
    co_return co_await std::move(run);
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
