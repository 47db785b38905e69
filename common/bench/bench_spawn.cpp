// Workload "spawn" (shared/anchors/WORKLOADS.md): spawn n processes that each
// bump a shared counter and wait for `stop`; then stop them all.
//
//   bench_spawn [n=1000000] [threads=N]
//
// Metrics: spawn_us_per_proc, mem_bytes_per_proc (resident set growth),
// teardown_us_per_proc. Larger or smaller n shows how the cost grows with the
// number of live processes (run.sh's `growth` pseudo-workload).
#include <atomic>
#include <vector>

#include "bench_common.hpp"

namespace {

constexpr std::string_view kWorkload = "spawn";

struct Stop {};

// The measuring aid of step 1: how many processes have run. Global, so that the
// process function is captureless and takes no arguments: the runtime then
// starts it without a wrapper coroutine frame around it.
std::atomic<long long> g_started{0};

otp::Co<void> waiter() {
  g_started.fetch_add(1, std::memory_order_relaxed);
  co_await otp::receive<Stop>();
}

void run(const bench::Params& p) {
  const long long n = p.at("n");
  if (n < 1) {
    bench::fail(kWorkload, "need n >= 1");
    return;
  }
  otp::Runtime rt{bench::runtime_options(p)};
  otp::Scoped me{rt};
  bench::info_system(rt);

  // Step 1 (untimed). The coordinator's array of n pids is allocated and filled
  // (every page touched) before mem0 is taken.
  std::vector<otp::Pid> pids(static_cast<std::size_t>(n));
  const std::size_t base = rt.process_count();
  const long long mem0 = bench::rss_bytes();

  // Region A: spawn n processes; it ends when every one has run and is waiting.
  const auto t0 = bench::now_ns();
  for (auto& pid : pids) pid = rt.spawn(waiter);
  bench::wait_until([&] { return g_started.load(std::memory_order_relaxed) >= n; });
  const auto t1 = bench::now_ns();

  // Step 3 (untimed).
  const long long mem1 = bench::rss_bytes();
  const long long alive = static_cast<long long>(rt.process_count()) - static_cast<long long>(base);
  if (alive != n) bench::fail(kWorkload, "expected {} live processes, found {}", n, alive);

  // Region B: stop them all; it ends when the live count is back to base.
  const auto t2 = bench::now_ns();
  for (const auto& pid : pids) me.send(pid, Stop{});
  bench::wait_until([&] { return rt.process_count() <= base; });
  const auto t3 = bench::now_ns();

  bench::info("n={} started={} live_after_teardown={}", n, g_started.load(),
              static_cast<long long>(rt.process_count()) - static_cast<long long>(base));
  bench::result(kWorkload, "spawn_us_per_proc",
                static_cast<double>(t1 - t0) / 1000.0 / static_cast<double>(n), "us");
  bench::result(kWorkload, "mem_bytes_per_proc",
                static_cast<double>(mem1 - mem0) / static_cast<double>(n), "bytes");
  bench::result(kWorkload, "teardown_us_per_proc",
                static_cast<double>(t3 - t2) / 1000.0 / static_cast<double>(n), "us");
}

}  // namespace

int main(int argc, char** argv) {
  const auto params = bench::parse_args(kWorkload, argc, argv, {{"n", 1000000}});
  return bench::guarded(kWorkload, [&] { run(params); });
}
