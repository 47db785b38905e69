// Workload "skynet" (shared/anchors/WORKLOADS.md): a tree of processes, ten
// children each, down to `leaves` leaves numbered 0..leaves-1. A leaf sends its
// number to its parent; an inner process sends the sum of its children's
// answers. The root's sum must be leaves * (leaves - 1) / 2.
//
//   bench_skynet [leaves=1000000] [rounds=3] [threads=N]
//
// Metrics (the best round): ms_per_tree, ns_per_process (the round's time over
// every process of the tree, leaves + leaves/10 + ... + 1).
#include <algorithm>
#include <cstdint>
#include <vector>

#include <fmt/ranges.h>

#include "bench_common.hpp"

namespace {

constexpr std::string_view kWorkload = "skynet";

struct Sum {
  std::int64_t value;
};

// Plain values for parameters: the coroutine frame holds them, with no wrapper
// frame around it (see otp::spawn).
otp::Co<void> skynet(otp::Pid parent, std::int64_t num, std::int64_t size) {
  if (size == 1) {
    otp::send(parent, Sum{num});
    co_return;
  }
  const std::int64_t child = size / 10;
  const otp::Pid me = otp::self();
  for (std::int64_t i = 0; i < 10; ++i) otp::spawn(skynet, me, num + i * child, child);
  std::int64_t sum = 0;
  for (int i = 0; i < 10; ++i) sum += (co_await otp::receive<Sum>()).value;
  otp::send(parent, Sum{sum});
}

bool power_of_ten(long long n) {
  while (n > 1 && n % 10 == 0) n /= 10;
  return n == 1;
}

long long processes(long long leaves) { return leaves == 1 ? 1 : leaves + processes(leaves / 10); }

void run(const bench::Params& p) {
  const long long leaves = p.at("leaves");
  const long long rounds = p.at("rounds");
  if (!power_of_ten(leaves) || rounds < 1) {
    bench::fail(kWorkload, "need leaves a power of 10 and rounds >= 1, got leaves={} rounds={}",
                leaves, rounds);
    return;
  }
  otp::Runtime rt{bench::runtime_options(p)};
  otp::Scoped me{rt};
  bench::info_system(rt);

  const std::size_t base = rt.process_count();
  const long long expected = leaves * (leaves - 1) / 2;
  std::vector<std::int64_t> times;
  for (long long r = 0; r < rounds; ++r) {
    // Untimed: the previous tree is gone (its root may still be ending).
    bench::wait_until([&] { return rt.process_count() <= base; });
    const auto t0 = bench::now_ns();
    rt.spawn(skynet, me.pid(), std::int64_t{0}, std::int64_t{leaves});
    const std::int64_t sum = me.receive<Sum>().value;
    const auto t1 = bench::now_ns();
    if (sum != expected) bench::fail(kWorkload, "sum {}, expected {}", sum, expected);
    times.push_back(t1 - t0);
  }

  std::vector<std::int64_t> times_ms;
  for (const auto t : times) times_ms.push_back(t / 1000000);
  bench::info("leaves={} rounds={} sum={} times_ms={}", leaves, rounds, expected,
              fmt::join(times_ms, ","));
  const auto best = static_cast<double>(*std::min_element(times.begin(), times.end()));
  bench::result(kWorkload, "ms_per_tree", best / 1e6, "ms");
  bench::result(kWorkload, "ns_per_process", best / static_cast<double>(processes(leaves)), "ns");
}

}  // namespace

int main(int argc, char** argv) {
  const auto params =
      bench::parse_args(kWorkload, argc, argv, {{"leaves", 1000000}, {"rounds", 3}});
  return bench::guarded(kWorkload, [&] { run(params); });
}
