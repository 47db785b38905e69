// Workload "restart" (shared/anchors/WORKLOADS.md): a one_for_one supervisor with
// one permanent, locally registered GenServer worker. The client crashes the
// worker with a call, then calls it by name until the restarted worker answers.
//
//   bench_restart [x=100000] [batch=0] [threads=N]
//
// batch=B > 0 is the variant `restart_batched`: a fresh supervisor every B
// restarts, its start and stop untimed. Metric: us_per_restart.
#include <cstdint>

#include "bench_common.hpp"

namespace {

constexpr const char* kName = "anchor_restart_worker";

struct Worker : otp::GenServer<Worker, otp::Ok> {
  struct Ping {};
  struct Crash {};
  otp::Ok init() { return {}; }
  otp::Pid handle_call(Ping) { return otp::self(); }
  otp::Pid handle_call(Crash) { otp::exit(otp::Reason::other("boom")); }
};

struct Go {};
struct Done {
  std::int64_t retries;
  bool ok;
  std::string error;
};

// Makes `count` restarts, from the client process.
otp::Co<void> client(std::int64_t count, otp::Pid coord) {
  co_await otp::receive<Go>();
  std::int64_t retries = 0;
  otp::Pid old = co_await Worker::call(kName, Worker::Ping{});
  const otp::Pid first = old;
  // try_call: the failures here are expected, so they come back as values.
  for (std::int64_t i = 0; i < count; ++i) {
    auto crashed = co_await Worker::try_call(kName, Worker::Crash{});
    if (crashed.ok() || !(crashed.reason() == otp::Reason::other("boom"))) {
      otp::send(coord, Done{retries, false,
                            "crash call gave " + (crashed.ok() ? std::string("a reply")
                                                               : crashed.reason().to_string())});
      co_return;
    }
    for (;;) {
      auto now = co_await Worker::try_call(kName, Worker::Ping{});
      if (now.ok() && now.value() != old) {
        old = now.value();
        break;
      }
      if (!now.ok() && now.reason().kind() != otp::Reason::Kind::noproc) {
        otp::send(coord, Done{retries, false, "ping failed with " + now.reason().to_string()});
        co_return;
      }
      if (!now.ok()) co_await otp::yield();
      ++retries;
    }
  }
  otp::send(coord, Done{retries, old != first || count == 0, "worker pid did not change"});
}

void run(const bench::Params& p) {
  const long long x = p.at("x");
  const long long batch = p.at("batch");
  const std::string_view workload = batch > 0 ? "restart_batched" : "restart";
  if (x < 1 || batch < 0) {
    bench::fail(workload, "need x >= 1 and batch >= 0");
    return;
  }
  otp::log::set_level(otp::Level::none);  // three reports per restart would dominate
  otp::Runtime rt{bench::runtime_options(p)};
  otp::Scoped me{rt};
  bench::info_system(rt);
  const int intensity = static_cast<int>(2 * x + 10);
  std::int64_t elapsed = 0, retries = 0;
  for (long long done = 0; done < x;) {
    const long long count = batch > 0 ? std::min(batch, x - done) : x;
    otp::ChildSpec worker{.id = "worker",
                          .start = [] { return Worker::start_link(otp::Name::local(kName)); }};
    auto sup = me.await(otp::Supervisor::start_link(
        {worker}, {.max_restarts = intensity, .max_seconds = std::chrono::seconds(1)}));
    if (!sup.ok()) {
      bench::fail(workload, "supervisor start failed: {}", sup.to_string());
      return;
    }
    const otp::Pid c = rt.spawn(client, std::int64_t{count}, me.pid());
    const auto t0 = bench::now_ns();
    me.send(c, Go{});
    Done d = me.receive<Done>();
    const auto t1 = bench::now_ns();
    elapsed += t1 - t0;
    retries += d.retries;
    if (!d.ok) bench::fail(workload, "{}", d.error);
    me.unlink(sup.pid());
    me.await(otp::stop(sup.pid(), otp::Reason::shutdown()));
    done += count;
  }
  bench::info("x={} batch={} retries(noproc)={} intensity={} period_s=1", x, batch, retries,
              intensity);
  bench::result(workload, "us_per_restart",
                static_cast<double>(elapsed) / 1000.0 / static_cast<double>(x), "us");
}

}  // namespace

int main(int argc, char** argv) {
  const auto params = bench::parse_args("restart", argc, argv, {{"x", 100000}, {"batch", 0}});
  return bench::guarded("restart", [&] { run(params); });
}
