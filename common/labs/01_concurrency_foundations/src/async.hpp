// Async: run a function in a process of its own and wait for its result, built in four steps
// (each step is one function below, and each fixes what the one before it could not do).
//
//   auto job = lab::execute_async([] { return 6 * 7; });
//   int v = co_await lab::await(job);                                // 1. waits forever
//   std::optional<int> r = co_await lab::await(job, 100ms);          // 2. nullopt after 100 ms
//   std::optional<int> k = co_await lab::await_or_kill(job, 100ms);  // 3. ... and kills the job
//
//   auto watched = lab::execute_async_monitored([] { return 6 * 7; });
//   otp::Result<int> m = co_await lab::await(watched, 100ms);        // 4. the value, the job's
//                                                                    //    crash reason, or killed
//
// The job sends {ref, value} to the process that started it; the reference, made before the
// spawn, tells this reply apart from every other message. Steps 1-3 cannot tell a job that
// crashed from a slow one: both just never answer. Step 4 monitors the job, so a crash arrives
// as a Down carrying the reason. Once the value is in, the monitor is dropped with flush, so no
// Down for this job can be left behind in the mailbox.
//
// A job's function returns a value, or otp::Co<value> when it must wait for messages itself.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "otp/otp.hpp"

namespace lab {

namespace detail {
template <class R>
struct Unwrap {
  using type = R;
};
template <class R>
struct Unwrap<otp::Co<R>> {
  using type = R;
};
template <class F>
using ResultOf = typename Unwrap<std::invoke_result_t<F&>>::type;

template <class F>
otp::Co<ResultOf<F>> run(F& fun) {
  if constexpr (std::is_same_v<std::invoke_result_t<F&>, ResultOf<F>>) {
    co_return fun();
  } else {
    co_return co_await fun();
  }
}
}  // namespace detail

// What a job sends back: its value, tagged with the job's reference.
template <class T>
struct AsyncReply {
  otp::Ref ref;
  T value;
};

template <class T>
struct Job {
  otp::Pid pid;
  otp::Ref ref;
};

template <class F, class T = detail::ResultOf<F>>
Job<T> execute_async(F fun) {
  const otp::Pid parent = otp::self();
  const otp::Ref ref = otp::make_ref();
  // exercise: async-execute — spawn a process that runs fun and sends {ref, value} to the caller
  const otp::Pid pid = otp::spawn([parent, ref, fun]() mutable -> otp::Co<void> {
    T value = co_await detail::run(fun);
    otp::send(parent, AsyncReply<T>{ref, std::move(value)});
  });
  return {pid, ref};
  // end exercise
}

// Step 1: blocks until the reply comes, which is never if the job crashed.
template <class T>
otp::Co<T> await(Job<T> job) {
  auto reply = co_await otp::receive<AsyncReply<T>>(
      [&](const AsyncReply<T>& r) { return r.ref == job.ref; });
  co_return std::move(reply.value);
}

// Step 2: nullopt when the reply has not come within `timeout`; the job goes on running.
template <class T>
otp::Co<std::optional<T>> await(Job<T> job, otp::Duration timeout) {
  auto reply = co_await otp::receive<AsyncReply<T>>(
      [&](const AsyncReply<T>& r) { return r.ref == job.ref; }, timeout);
  if (!reply) co_return std::nullopt;
  co_return std::move(reply->value);
}

// Step 3: as step 2, and a job that is late is killed, so it stops using the machine.
template <class T>
otp::Co<std::optional<T>> await_or_kill(Job<T> job, otp::Duration timeout) {
  // exercise: async-await-or-kill — wait up to the timeout; on a timeout, kill the job's process
  std::optional<T> value = co_await await(job, timeout);
  if (!value) otp::exit(job.pid, otp::Reason::kill());
  co_return value;
  // end exercise
}

// Step 4: the job is monitored from the start.
template <class T>
struct MonitoredJob {
  otp::Pid pid;
  otp::Ref ref;      // the reply's tag
  otp::Ref monitor;  // the monitor's reference, in the Down
};

// Spawned and monitored in one step (spawn_monitor): a monitor made after the spawn could find
// a job that failed at once already gone, and its Down would say noproc instead of the reason.
template <class F, class T = detail::ResultOf<F>>
MonitoredJob<T> execute_async_monitored(F fun) {
  const otp::Pid parent = otp::self();
  const otp::Ref ref = otp::make_ref();
  auto [pid, monitor] = otp::spawn_monitor([parent, ref, fun]() mutable -> otp::Co<void> {
    T value = co_await detail::run(fun);
    otp::send(parent, AsyncReply<T>{ref, std::move(value)});
  });
  return {pid, ref, monitor};
}

// The value; or the reason the job died with; or, when it is late, `killed`: the job is killed
// and its Down awaited, so that the reason returned is the one the job really died with.
template <class T>
otp::Co<otp::Result<T>> await(MonitoredJob<T> job, otp::Duration timeout) {
  // exercise: async-monitored — the reply (then demonitor, flush), the Down, or kill and wait
  std::optional<otp::Result<T>> result;
  co_await otp::receive(
      otp::match<AsyncReply<T>>([&](const AsyncReply<T>& r) { return r.ref == job.ref; },
                                [&](AsyncReply<T> r) {
                                  otp::demonitor(job.monitor, true);  // true: flush its Down
                                  result.emplace(std::move(r.value));
                                }),
      otp::match<otp::Down>([&](const otp::Down& d) { return d.ref == job.monitor; },
                            [&](otp::Down d) { result.emplace(d.reason); }),
      otp::after(timeout, [] {}));
  if (result) co_return std::move(*result);
  otp::exit(job.pid, otp::Reason::kill());
  otp::Down down =
      co_await otp::receive<otp::Down>([&](const otp::Down& d) { return d.ref == job.monitor; });
  co_return down.reason;
  // end exercise
}

}  // namespace lab
