// Workload "table" (shared/anchors/WORKLOADS.md): the coordinator fills a
// public set with n objects {K, {K, 2K}}; then `readers` processes each look
// up l MINSTD-chosen keys at once.
//
//   bench_table [n=1000000] [l=1000000] [readers=2] [threads=N]
//
// Metrics: ns_per_insert (one writer), ns_per_lookup (wall time over all the
// readers' lookups: the reciprocal of their total throughput).
#include <cstdint>
#include <utility>
#include <vector>

#include "bench_common.hpp"
#include "otp/table.hpp"

namespace {

constexpr std::string_view kWorkload = "table";

using Table = otp::Table<std::int64_t, std::pair<std::int64_t, std::int64_t>>;

struct Go {};
struct Hits {
  long long count;
};

// Waits for Go, does l lookups of keys drawn by MINSTD from `seed`, and reports
// how many returned the expected object.
otp::Co<void> reader(Table table, long long seed, long long l, long long n, otp::Pid coordinator) {
  co_await otp::receive<Go>();
  long long hits = 0;
  std::int64_t x = seed;
  for (long long i = 0; i < l; ++i) {
    x = x * 48271 % 2147483647;
    const std::int64_t k = x % n;
    const auto v = table.lookup(k);
    if (v && v->first == k && v->second == 2 * k) ++hits;
  }
  otp::send(coordinator, Hits{hits});
}

void run(const bench::Params& p) {
  const long long n = p.at("n");
  const long long l = p.at("l");
  const long long readers = p.at("readers");
  if (n < 1 || l < 1 || readers < 1) {
    bench::fail(kWorkload, "need n, l and readers >= 1");
    return;
  }
  otp::Runtime rt{bench::runtime_options(p)};
  otp::Scoped me{rt};
  bench::info_system(rt);

  // Step 1 (untimed): the table, owned by the coordinator, and the readers.
  auto table = Table::create({.access = otp::Access::public_, .name = "bench"});
  std::vector<otp::Pid> pids;
  for (long long j = 0; j < readers; ++j)
    pids.push_back(rt.spawn(reader, table, j + 1, l, n, me.pid()));

  // Region A: insert K = 0..n-1 in order.
  const auto t0 = bench::now_ns();
  for (std::int64_t k = 0; k < n; ++k) table.insert(k, {k, 2 * k});
  const auto t1 = bench::now_ns();
  if (static_cast<long long>(table.size()) != n)
    bench::fail(kWorkload, "table size {}, expected {}", table.size(), n);

  // Region B: every reader does its l lookups; it ends with the last report.
  long long hits = 0;
  const auto t2 = bench::now_ns();
  for (const auto& pid : pids) me.send(pid, Go{});
  for (long long j = 0; j < readers; ++j) hits += me.receive<Hits>().count;
  const auto t3 = bench::now_ns();
  if (hits != readers * l)
    bench::fail(kWorkload, "{} correct lookups, expected {}", hits, readers * l);

  bench::info("n={} l={} readers={} hits={}", n, l, readers, hits);
  bench::result(kWorkload, "ns_per_insert", static_cast<double>(t1 - t0) / static_cast<double>(n),
                "ns");
  bench::result(kWorkload, "ns_per_lookup",
                static_cast<double>(t3 - t2) / static_cast<double>(readers * l), "ns");
}

}  // namespace

int main(int argc, char** argv) {
  const auto params =
      bench::parse_args(kWorkload, argc, argv, {{"n", 1000000}, {"l", 1000000}, {"readers", 2}});
  return bench::guarded(kWorkload, [&] { run(params); });
}
