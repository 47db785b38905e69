// The machinery of otp::Task (otp/task.hpp): the body a task's process runs, and the
// types it computes from the task's function. Shared by Task, async_stream and
// TaskSupervisor.
//
// A replying task starts by waiting for TaskGo: the owner sends it once it
// monitors the task, so the reply can be tagged with the monitor's reference
// (and sent to its alias) as a GenServer call's is. A crash in the function is
// reported (a crash report naming the owner), then ends the process.
#pragma once

#include <chrono>
#include <exception>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "otp/co.hpp"
#include "otp/gen_server.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"

namespace otp {
// How long Task's await and async_stream's tasks wait by default.
inline constexpr Duration default_await_timeout = std::chrono::seconds(5);

template <class T = void>
class Task;  // otp/task.hpp
}  // namespace otp

namespace otp::detail {

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

// Starts tasks for TaskSupervisor and async_stream.
struct TaskAccess {
  template <class T>
  static Task<T> started(Pid pid) {
    return Task<T>::started(pid);
  }
};

// async_stream (otp/async_stream.hpp): a task of the stream `stream` ran out of time; the
// type of the items.
struct StreamTimeout {
  Ref stream;
  Ref task;
};
template <class Items, class F>
using stream_item_t = std::remove_cvref_t<decltype(*std::begin(std::declval<Items&>()))>;
}  // namespace otp::detail
