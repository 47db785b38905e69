// concurrency_foundations: each idea of the lab once, with what it prints.
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include <fmt/ranges.h>

#include "async.hpp"
#include "parallel_enum.hpp"
#include "shared_state.hpp"

using namespace std::chrono_literals;

namespace {

struct Never {};

otp::Co<int> never_answers() {
  co_await otp::receive<Never>();
  co_return 0;
}

otp::Co<void> tour() {
  const otp::Pid counter = lab::SharedState<int>::start(0);
  for (int i = 0; i < 3; ++i) lab::SharedState<int>::update(counter, [](int n) { return n + 1; });
  const int count = co_await lab::SharedState<int>::get(counter);
  fmt::print("SharedState: {} holds {} after three updates\n", counter, count);

  auto job = lab::execute_async([] { return 6 * 7; });
  const int answer = co_await lab::await(job);
  fmt::print("await: {} answered {}\n", job.pid, answer);

  auto slow = lab::execute_async(never_answers);
  const auto late = co_await lab::await(slow, 100ms);
  fmt::print("await 100ms: {}, and {} is {}\n", late ? "a value" : "timeout", slow.pid,
             otp::is_alive(slow.pid) ? "still running" : "gone");

  auto killed = lab::execute_async(never_answers);
  const auto none = co_await lab::await_or_kill(killed, 100ms);
  const otp::Ref ref = otp::monitor(killed.pid);
  otp::Down down =
      co_await otp::receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
  fmt::print("await_or_kill 100ms: {}, and {} exited with {}\n", none ? "a value" : "timeout",
             killed.pid, down.reason);

  auto fine = lab::execute_async_monitored([] { return 6 * 7; });
  const auto ok = co_await lab::await(fine, 100ms);
  auto crashing = lab::execute_async_monitored([]() -> int { throw std::runtime_error("boom"); });
  const auto crashed = co_await lab::await(crashing, 100ms);
  auto stuck = lab::execute_async_monitored(never_answers);
  const auto timed_out = co_await lab::await(stuck, 100ms);
  fmt::print("monitored: {}, {}, {}\n", ok.value(), crashed.to_string(), timed_out.to_string());

  const std::vector<int> numbers{1, 2, 3, 4, 5};
  const auto squares = co_await lab::ParallelEnum::map(numbers, [](int n) { return n * n; });
  const auto pids =
      co_await lab::ParallelEnum::map(numbers, [](int) { return otp::self().to_string(); });
  fmt::print("ParallelEnum.map: {} from {}\n", squares, pids);
}

}  // namespace

int main() {
  otp::log::set_level(otp::Level::none);  // the crash in the tour is on purpose
  otp::Runtime rt;
  otp::Scoped me(rt);
  me.await(tour());
  return 0;
}
