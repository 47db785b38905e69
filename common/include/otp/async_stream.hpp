// otp::async_stream — runs a function on every item of a range, each call in a
// task of its own (otp/task.hpp), a few at a time, and gives the results in the
// range's order (Elixir's Task.async_stream).
//
//   std::vector<int> sizes = co_await otp::async_stream(
//       urls, [](const std::string& url) { return fetch(url).size(); },
//       {.max_concurrency = 4, .timeout = 5s});       // in the order of `urls`
//
// TaskSupervisor::async_stream and async_stream_nolink (otp/task_supervisor.hpp)
// run their tasks under a supervisor through the same loop (detail::run_stream).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "otp/co.hpp"
#include "otp/detail/stream.hpp"
#include "otp/detail/task.hpp"
#include "otp/process.hpp"
#include "otp/task.hpp"

namespace otp {

// Runs fn(item) for every item, each in a task linked to the caller, at most
// opts.max_concurrency at a time, and returns the results in the items' order (as they come
// when opts.ordered is false). When a task exits without replying or takes longer than
// opts.timeout, the others are killed and ExitError is thrown ("Task.async_stream(...)",
// the task's reason or `timeout`).
template <class Items, class F>
Co<std::vector<detail::stream_reply_t<Items, F>>> async_stream(Items items, F fn,
                                                               StreamOptions opts = {}) {
  using V = detail::stream_reply_t<Items, F>;
  auto bound = detail::stream_binder<Items>(std::move(fn));
  auto start = [](auto job) -> Co<Pid> {
    co_return spawn_link(&detail::replying_task<V, decltype(job)>, std::move(job));
  };
  // Named, not temporaries of the co_await's expression (see TaskSupervisor::async_impl).
  auto run = detail::run_stream<V>(std::move(items), std::move(bound), opts, start, false,
                                   std::string("Task.async_stream"));
  std::vector<StreamResult<V>> results = co_await std::move(run);
  co_return detail::stream_values(std::move(results));
}

}  // namespace otp
