// Workload "ring" (shared/anchors/WORKLOADS.md): a token makes m hops around a
// ring of n processes.
//
//   bench_ring [n=1000] [m=10000000] [threads=N]
//
// Metric: ns_per_hop. run.sh keeps n at 1000 for the anchor comparison; its
// `growth` pseudo-workload varies n to show how the cost of a hop grows with
// the number of processes.
#include <cstdint>
#include <vector>

#include "bench_common.hpp"

namespace {

constexpr std::string_view kWorkload = "ring";

struct Next {
  otp::Pid pid;
};
struct Ready {};
// The token carries the number of hops still to make.
struct Token {
  std::int64_t hops_left;
};
struct Done {
  std::int64_t idx;
};
struct Stop {};

otp::Co<void> ring_node(std::int64_t idx, otp::Pid coord) {
  const otp::Pid next = (co_await otp::receive<Next>()).pid;
  otp::send(coord, Ready{});
  for (bool running = true; running;) {
    running = co_await otp::receive(
        [&](Token t) {
          if (t.hops_left == 0) {
            otp::send(coord, Done{idx});
          } else {
            otp::send(next, Token{t.hops_left - 1});
          }
          return true;
        },
        [](Stop) { return false; });
  }
}

void run(const bench::Params& p) {
  const long long n = p.at("n");
  const long long m = p.at("m");
  if (n < 2 || m < 1) {
    bench::fail(kWorkload, "need n >= 2 and m >= 1");
    return;
  }
  otp::Runtime rt{bench::runtime_options(p)};
  otp::Scoped me{rt};
  bench::info_system(rt);

  // Step 1 (untimed): build the ring and wait for every node's ack.
  std::vector<otp::Pid> nodes;
  nodes.reserve(static_cast<std::size_t>(n));
  for (long long i = 0; i < n; ++i) nodes.push_back(rt.spawn(ring_node, std::int64_t{i}, me.pid()));
  for (long long i = 0; i < n; ++i) me.send(nodes[i], Next{nodes[(i + 1) % n]});
  for (long long i = 0; i < n; ++i) me.receive<Ready>();

  // Timed: m hops, ended by done(i).
  const auto t0 = bench::now_ns();
  me.send(nodes[0], Token{m});
  const std::int64_t final_idx = me.receive<Done>().idx;
  const auto t1 = bench::now_ns();

  // Step 3: check, then untimed teardown.
  if (final_idx != m % n)
    bench::fail(kWorkload, "token ended at node {}, expected {}", final_idx, m % n);
  for (const auto& node : nodes) me.send(node, Stop{});
  bench::info("n={} m={} final_node={}", n, m, final_idx);
  bench::result(kWorkload, "ns_per_hop", static_cast<double>(t1 - t0) / static_cast<double>(m),
                "ns");
}

}  // namespace

int main(int argc, char** argv) {
  const auto params = bench::parse_args(kWorkload, argc, argv, {{"n", 1000}, {"m", 10000000}});
  return bench::guarded(kWorkload, [&] { run(params); });
}
