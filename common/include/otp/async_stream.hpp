// otp::async_stream — runs a function on every item of a range, each call in a
// task of its own (otp/task.hpp), a few at a time, and gives the results in the
// range's order (Elixir's Task.async_stream).
//
//   std::vector<int> sizes = co_await otp::async_stream(
//       urls, [](const std::string& url) { return fetch(url).size(); },
//       {.max_concurrency = 4, .timeout = 5s});       // in the order of `urls`
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "otp/co.hpp"
#include "otp/detail/task.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "otp/task.hpp"
#include "otp/timer.hpp"

namespace otp {

// How async_stream runs: at most max_concurrency tasks at once (0: one per
// hardware thread), each allowed `timeout` to reply.
struct StreamOptions {
  std::size_t max_concurrency = 0;
  Duration timeout = default_await_timeout;
};

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

}  // namespace otp
