// Workloads "call" (clients=1) and "call_par" (clients=2; "call_par<n>" for
// more) (shared/anchors/WORKLOADS.md): clients make k synchronous `inc` calls in
// total to one otp::GenServer counter, addressed by pid.
//
//   bench_call [k=1000000] [clients=1] [threads=N]
//
// Metric: ns_per_call (the whole region divided by k: with several clients, the
// reciprocal of the total throughput).
#include <cstdint>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

// The server: a counter. `inc` adds 1 and replies with the new value; `get`
// replies with the value.
class Counter : public otp::GenServer<Counter, std::uint64_t> {
 public:
  struct Inc {};
  struct Get {};

  std::uint64_t init(std::uint64_t start) { return start; }
  std::uint64_t handle_call(Inc) { return ++state(); }
  std::uint64_t handle_call(Get) { return state(); }
};

struct Go {};
struct Done {
  std::int64_t violations;
};

// A client: waits for `go`, makes its calls one after another and reports the
// replies that were not greater than the previous one it saw. A failed call
// (the server gone, a timeout) ends the client's calls and counts as a violation.
otp::Co<void> client(otp::Pid server, std::int64_t calls, otp::Pid coord) {
  co_await otp::receive<Go>();
  std::int64_t violations = 0;
  std::uint64_t last = 0;
  try {
    for (std::int64_t i = 0; i < calls; ++i) {
      const std::uint64_t v = co_await Counter::call(server, Counter::Inc{});
      if (v <= last) ++violations;
      last = v;
    }
  } catch (const otp::ExitError&) {
    ++violations;
  }
  otp::send(coord, Done{violations});
}

void run(std::string_view workload, const bench::Params& p) {
  const long long k = p.at("k");
  const long long nc = p.at("clients");
  if (nc < 1 || k < nc) {
    bench::fail(workload, "need clients >= 1 and k >= clients");
    return;
  }
  otp::Runtime rt{bench::runtime_options(p)};
  otp::Scoped me{rt};
  bench::info_system(rt);

  // Step 1 (untimed): the server, started from the coordinator, and the clients.
  const otp::StartResult started = me.await(Counter::start(std::uint64_t{0}));
  if (!started) {
    bench::fail(workload, "the server did not start: {}", started);
    return;
  }
  const otp::Pid server = started.pid();
  std::vector<otp::Pid> clients;
  for (long long i = 0; i < nc; ++i)
    clients.push_back(rt.spawn(client, server, std::int64_t{bench::share(k, nc, i)}, me.pid()));

  // Timed: go to every client, then one done per client.
  const auto t0 = bench::now_ns();
  for (const auto& c : clients) me.send(c, Go{});
  std::int64_t violations = 0;
  for (long long i = 0; i < nc; ++i) violations += me.receive<Done>().violations;
  const auto t1 = bench::now_ns();

  // Step 3: a final synchronous get, then stop the server.
  const std::uint64_t final_count = me.await(Counter::call(server, Counter::Get{}));
  me.await(otp::stop(server));
  if (final_count != static_cast<std::uint64_t>(k))
    bench::fail(workload, "server counted {} calls, expected {}", final_count, k);
  if (violations != 0) bench::fail(workload, "{} non-monotonic or failed replies", violations);
  bench::info("k={} clients={} final={}", k, nc, final_count);
  bench::result(workload, "ns_per_call", static_cast<double>(t1 - t0) / static_cast<double>(k),
                "ns");
}

std::string workload_name(long long clients) {
  if (clients == 1) return "call";
  if (clients == 2) return "call_par";
  return "call_par" + std::to_string(clients);
}

}  // namespace

int main(int argc, char** argv) {
  const auto params = bench::parse_args("call", argc, argv, {{"k", 1000000}, {"clients", 1}});
  const std::string workload = workload_name(params.at("clients"));
  return bench::guarded(workload, [&] { run(workload, params); });
}
