// Workload "pingpong" (shared/anchors/WORKLOADS.md): r round trips between a
// pinger A and a ponger B.
//
//   bench_pingpong [r=1000000] [threads=N]
//
// Metric: ns_per_roundtrip.
#include <cstdint>

#include "bench_common.hpp"

namespace {

constexpr std::string_view kWorkload = "pingpong";

struct Go {};
struct Ping {
  otp::Pid from;  // the sender's address, explicit as on the BEAM
};
struct Pong {};
struct PingerDone {};
// The synchronous request that ends B: it replies with its count of pings.
struct StopRequest {
  otp::Pid from;
  otp::Ref ref;
};
struct PingCount {
  otp::Ref ref;
  std::int64_t pings;
};

otp::Co<void> ponger() {
  std::int64_t pings = 0;
  for (bool running = true; running;) {
    running = co_await otp::receive(
        [&](Ping ping) {
          ++pings;
          otp::send(ping.from, Pong{});
          return true;
        },
        [&](StopRequest req) {
          otp::send(req.from, PingCount{req.ref, pings});
          return false;
        });
  }
}

otp::Co<void> pinger(std::int64_t rounds, otp::Pid peer, otp::Pid coord) {
  co_await otp::receive<Go>();
  const otp::Pid me = otp::self();
  for (std::int64_t i = 0; i < rounds; ++i) {
    otp::send(peer, Ping{me});
    co_await otp::receive<Pong>();
  }
  otp::send(coord, PingerDone{});
}

void run(const bench::Params& p) {
  const long long r = p.at("r");
  if (r < 1) {
    bench::fail(kWorkload, "need r >= 1");
    return;
  }
  otp::Runtime rt{bench::runtime_options(p)};
  otp::Scoped me{rt};
  bench::info_system(rt);

  // Step 1 (untimed).
  const otp::Pid b = rt.spawn(ponger);
  const otp::Pid a = rt.spawn(pinger, std::int64_t{r}, b, me.pid());

  // Timed: go, r round trips, done.
  const auto t0 = bench::now_ns();
  me.send(a, Go{});
  me.receive<PingerDone>();
  const auto t1 = bench::now_ns();

  // Step 3: a synchronous request to B, which also stops it.
  const otp::Ref ref = otp::make_ref();
  me.send(b, StopRequest{me.pid(), ref});
  const std::int64_t pings =
      me.receive<PingCount>([&](const PingCount& c) { return c.ref == ref; }).pings;
  if (pings != r) bench::fail(kWorkload, "ponger saw {} pings, expected {}", pings, r);
  bench::info("r={} pings={}", r, pings);
  bench::result(kWorkload, "ns_per_roundtrip",
                static_cast<double>(t1 - t0) / static_cast<double>(r), "ns");
}

}  // namespace

int main(int argc, char** argv) {
  const auto params = bench::parse_args(kWorkload, argc, argv, {{"r", 1000000}});
  return bench::guarded(kWorkload, [&] { run(params); });
}
