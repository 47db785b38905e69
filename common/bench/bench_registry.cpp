// Workload "registry" (shared/anchors/WORKLOADS.md): n holder processes each
// register one unique key when told to; then `readers` processes look keys up
// at random.
//
//   bench_registry [n=100000] [l=1000000] [readers=2] [threads=N]
//
// Metrics: us_per_register (region A: the coordinator's message, the
// registration and the acknowledgement, per key), ns_per_lookup (region B: the
// wall-clock time of all readers' lookups divided by l, their total).
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "otp/registry.hpp"

namespace {

constexpr std::string_view kWorkload = "registry";

struct Register {
  std::string key;
};
struct Ack {
  bool ok;
};
struct Go {};
struct Hits {
  long long hits;
};
struct Stop {};

// The registry under test. Global, so that the process functions are plain
// functions taking their arguments by value (no wrapper frame).
otp::Registry<>* g_registry = nullptr;

otp::Co<void> holder(otp::Pid coordinator) {
  auto msg = co_await otp::receive<Register>();
  const bool ok = g_registry->register_key(std::move(msg.key)).ok;
  otp::send(coordinator, Ack{ok});
  co_await otp::receive<Stop>();
}

otp::Co<void> reader(otp::Pid coordinator, std::vector<std::string> keys,
                     std::vector<otp::Pid> pids, long long lookups, long long seed) {
  co_await otp::receive<Go>();
  const auto n = static_cast<long long>(keys.size());
  long long x = seed;
  long long hits = 0;
  for (long long i = 0; i < lookups; ++i) {
    x = x * 48271 % 2147483647;
    const auto idx = static_cast<std::size_t>(x % n);
    const auto found = g_registry->lookup(keys[idx]);
    if (found.size() == 1 && found[0].first == pids[idx]) ++hits;
  }
  otp::send(coordinator, Hits{hits});
}

void run(const bench::Params& p) {
  const long long n = p.at("n");
  const long long l = p.at("l");
  const long long readers = p.at("readers");
  if (n < 1 || l < 0 || readers < 1) {
    bench::fail(kWorkload, "need n >= 1, l >= 0 and readers >= 1");
    return;
  }
  otp::Registry<> registry(otp::Keys::unique, "anchor_registry");
  g_registry = &registry;
  otp::Runtime rt{bench::runtime_options(p)};
  otp::Scoped me{rt};
  bench::info_system(rt);

  // Step 1 (untimed): the keys, and n holders waiting for their key.
  std::vector<std::string> keys;
  keys.reserve(static_cast<std::size_t>(n));
  for (long long i = 0; i < n; ++i) keys.push_back("key-" + std::to_string(i));
  std::vector<otp::Pid> holders;
  holders.reserve(static_cast<std::size_t>(n));
  for (long long i = 0; i < n; ++i) holders.push_back(rt.spawn(holder, me.pid()));

  // Region A: each holder registers its key and acknowledges.
  const auto t0 = bench::now_ns();
  for (std::size_t i = 0; i < holders.size(); ++i) me.send(holders[i], Register{keys[i]});
  long long failed = 0;
  for (long long i = 0; i < n; ++i) failed += me.receive<Ack>().ok ? 0 : 1;
  const auto t1 = bench::now_ns();

  if (failed != 0) bench::fail(kWorkload, "{} registrations failed", failed);
  const auto count = static_cast<long long>(registry.count());
  if (count != n) bench::fail(kWorkload, "registry has {} keys, expected {}", count, n);

  // Step 3 (untimed): the readers, each with its share, its seed and copies of the arrays.
  std::vector<otp::Pid> reader_pids;
  for (long long j = 0; j < readers; ++j)
    reader_pids.push_back(
        rt.spawn(reader, me.pid(), keys, holders, bench::share(l, readers, j), j + 1));

  // Region B: every reader does its lookups and reports its hits.
  const auto t2 = bench::now_ns();
  for (const auto& r : reader_pids) me.send(r, Go{});
  long long hits = 0;
  for (long long j = 0; j < readers; ++j) hits += me.receive<Hits>().hits;
  const auto t3 = bench::now_ns();

  if (hits != l) bench::fail(kWorkload, "{} of {} lookups returned the registered pid", hits, l);
  bench::info("n={} l={} readers={} registered={} hits={} shards={}", n, l, readers, count, hits,
              otp::detail::lock_shards);
  bench::result(kWorkload, "us_per_register",
                static_cast<double>(t1 - t0) / 1000.0 / static_cast<double>(n), "us");
  bench::result(kWorkload, "ns_per_lookup",
                static_cast<double>(t3 - t2) / static_cast<double>(std::max(l, 1LL)), "ns");
  for (const auto& h : holders) me.send(h, Stop{});
}

}  // namespace

int main(int argc, char** argv) {
  const auto params =
      bench::parse_args(kWorkload, argc, argv, {{"n", 100000}, {"l", 1000000}, {"readers", 2}});
  return bench::guarded(kWorkload, [&] { run(params); });
}
