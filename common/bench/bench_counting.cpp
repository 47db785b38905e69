// Workloads "counting" (p=1) and "fanin" (p=2; "fanin<p>" for p > 2)
// (shared/anchors/WORKLOADS.md): p producers send c `inc` messages in total to
// one counter.
//
//   bench_counting [c=10000000] [p=1] [threads=N]
//
// Metric: ns_per_msg.
#include <cstdint>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

// The scheduler is cooperative: a process runs until it waits. A producer that
// sent all its messages in one go would keep its scheduler thread to itself,
// and the counter (woken onto that same thread) could not run until the
// producer was done. So a producer yields its thread every kSendsPerYield sends.
// This is cooperative scheduling, not flow control: the producer never waits
// for the counter, it only lets other processes have a turn.
constexpr std::int64_t kSendsPerYield = 1000;

struct Go {};
struct Inc {};
struct Sync {
  otp::Pid from;
  otp::Ref ref;
};
struct Synced {
  otp::Ref ref;
};
struct Get {
  otp::Pid from;
  otp::Ref ref;
};
struct Count {
  otp::Ref ref;
  std::uint64_t count;
};
struct Done {};
struct Stop {};

otp::Co<void> counter() {
  std::uint64_t count = 0;
  for (bool running = true; running;) {
    running = co_await otp::receive(
        [&](Inc) {
          ++count;
          return true;
        },
        [](Sync s) {
          otp::send(s.from, Synced{s.ref});
          return true;
        },
        [&](Get g) {
          otp::send(g.from, Count{g.ref, count});
          return true;
        },
        [](Stop) { return false; });
  }
}

otp::Co<void> producer(otp::Pid counter_pid, std::int64_t share, otp::Pid coord) {
  co_await otp::receive<Go>();
  // a. The share of incs, as fast as possible (yielding the thread now and then).
  for (std::int64_t i = 1; i <= share; ++i) {
    otp::send(counter_pid, Inc{});
    if (i % kSendsPerYield == 0) co_await otp::yield();
  }
  // b. A synchronous request: its reply shows that all our incs were handled.
  const otp::Ref ref = otp::make_ref();
  otp::send(counter_pid, Sync{otp::self(), ref});
  co_await otp::receive<Synced>([&](const Synced& s) { return s.ref == ref; });
  // c.
  otp::send(coord, Done{});
}

void run(std::string_view workload, const bench::Params& p) {
  const long long c = p.at("c");
  const long long np = p.at("p");
  if (np < 1 || c < np) {
    bench::fail(workload, "need p >= 1 and c >= p");
    return;
  }
  otp::Runtime rt{bench::runtime_options(p)};
  otp::Scoped me{rt};
  bench::info_system(rt);

  // Step 1 (untimed).
  const otp::Pid counter_pid = rt.spawn(counter);
  std::vector<otp::Pid> producers;
  for (long long i = 0; i < np; ++i)
    producers.push_back(
        rt.spawn(producer, counter_pid, std::int64_t{bench::share(c, np, i)}, me.pid()));

  // Timed: go, p dones, then a synchronous get.
  const auto t0 = bench::now_ns();
  for (const auto& pr : producers) me.send(pr, Go{});
  for (long long i = 0; i < np; ++i) me.receive<Done>();
  const otp::Ref ref = otp::make_ref();
  me.send(counter_pid, Get{me.pid(), ref});
  const std::uint64_t count = me.receive<Count>([&](const Count& r) { return r.ref == ref; }).count;
  const auto t1 = bench::now_ns();

  me.send(counter_pid, Stop{});
  if (count != static_cast<std::uint64_t>(c))
    bench::fail(workload, "counter has {}, expected {}", count, c);
  bench::info("c={} p={} count={} sends_per_yield={}", c, np, count, kSendsPerYield);
  bench::result(workload, "ns_per_msg", static_cast<double>(t1 - t0) / static_cast<double>(c),
                "ns");
}

std::string workload_name(long long p) {
  if (p == 1) return "counting";
  if (p == 2) return "fanin";
  return "fanin" + std::to_string(p);
}

}  // namespace

int main(int argc, char** argv) {
  const auto params = bench::parse_args("counting", argc, argv, {{"c", 10000000}, {"p", 1}});
  const std::string workload = workload_name(params.at("p"));
  return bench::guarded(workload, [&] { run(workload, params); });
}
