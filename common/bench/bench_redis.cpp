// Workload "redis" (not an anchor workload): the runtime's Redis client, otp::redis::Connection,
// against a running redis-server, in redis-benchmark's three settings (bench/run.sh redis runs
// both on the same server):
//   c1.P1   one caller process, one command at a time;
//   c50.P1  50 caller processes sharing one connection, one command at a time each;
//   c1.P16  one caller process sending pipelines of 16 commands.
// GET and SET of redis-benchmark's key and 3-byte value (`key:__rand_int__`, "xxx").
//
//   bench_redis port=6379 [n=100000] [n_pipelined=1000000] [threads=N]
//
// Prints `RESULT redis.<get|set>.c<clients>.P<depth> req_per_s <n> req/s`, as run.sh prints
// redis-benchmark's.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench_common.hpp"
#include "otp/redis/connection.hpp"

namespace {

using otp::redis::Reply;

struct Done {
  std::int64_t failures;
};

// Makes `commands` requests of `depth` commands each (depth 1: command, else pipeline).
otp::Co<void> caller(otp::Pid conn, std::string op, std::int64_t requests, int depth,
                     otp::Pid report) {
  std::vector<std::string_view> args{op};
  args.push_back("key:__rand_int__");
  if (op == "SET") args.push_back("xxx");
  const std::vector<std::vector<std::string_view>> batch(static_cast<std::size_t>(depth), args);
  std::int64_t failures = 0;
  for (std::int64_t i = 0; i < requests; ++i) {
    if (depth == 1) {
      auto r = co_await otp::redis::command(conn, args, std::chrono::seconds(30));
      if (!r.ok() || r.value().is_error()) ++failures;
    } else {
      auto r = co_await otp::redis::pipeline(conn, batch, std::chrono::seconds(30));
      if (!r.ok() || r.value().size() != batch.size()) ++failures;
    }
  }
  otp::send(report, Done{failures});
}

void run(otp::Scoped& me, otp::Pid conn, std::string_view op, int clients, int depth, long long n) {
  const std::string workload =
      fmt::format("redis.{}.c{}.P{}", op == "GET" ? "get" : "set", clients, depth);
  const long long requests = n / depth;
  const std::int64_t start = bench::now_ns();
  for (int c = 0; c < clients; ++c) {
    me.runtime().spawn(caller, conn, std::string(op), bench::share(requests, clients, c), depth,
                       me.pid());
  }
  std::int64_t failures = 0;
  for (int c = 0; c < clients; ++c) failures += me.receive<Done>().failures;
  const double seconds = static_cast<double>(bench::now_ns() - start) / 1e9;
  if (failures != 0) bench::fail(workload, "{} requests failed", failures);
  fmt::print("RESULT {} req_per_s {:.1f} req/s\n", workload,
             static_cast<double>(requests * depth) / seconds);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  auto params = bench::parse_args("redis", argc, argv,
                                  {{"port", 6379}, {"n", 100000}, {"n_pipelined", 1000000}});
  return bench::guarded("redis", [&] {
    otp::Runtime rt(bench::runtime_options(params));
    otp::Scoped me(rt);
    bench::info_system(rt);
    auto started = me.await(otp::redis::Connection::start_link(
        {.host = "127.0.0.1", .port = static_cast<std::uint16_t>(params.at("port"))}));
    if (!started) {
      bench::fail("redis", "the connection did not start: {}", started.to_string());
      return;
    }
    const otp::Pid conn = started.pid();
    const std::vector<std::string_view> ping{"PING"};
    bool up = false;
    for (int attempt = 0; attempt < 100 && !up; ++attempt) {
      auto r = me.await(otp::redis::command(conn, ping, std::chrono::seconds(1)));
      up = r.ok() && !r.value().is_error();
      if (!up) bench::sleep_1ms();
    }
    if (!up) {
      bench::fail("redis", "no PONG from 127.0.0.1:{}", params.at("port"));
      return;
    }
    struct Setting {
      int clients;
      int depth;
    };
    for (Setting s : {Setting{1, 1}, Setting{50, 1}, Setting{1, 16}}) {
      const long long n = s.depth > 1 ? params.at("n_pipelined") : params.at("n");
      run(me, conn, "SET", s.clients, s.depth, n);  // redis-benchmark's order: SET, then GET
      run(me, conn, "GET", s.clients, s.depth, n);
    }
  });
}
