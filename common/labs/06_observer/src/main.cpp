// observer_lab: four applications side by side, to explore in the web observer
// (observer_lab --help).
//
//   observer_lab --observer 0              starts them, prints the observer's URL, then a prompt
//   observer_lab --redis 127.0.0.1:6379    uses that Redis instead of starting a redis-server
//
// Without --redis it starts a redis-server of its own on a free loopback port (and stops it on
// quit); when there is none to start, it says so and runs the other three applications.
#include <cstdio>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "observer_lab.hpp"
#include "otp/console.hpp"
#include "otp/net/address.hpp"
#include "otp/testing/redis_server.hpp"

using Args = otp::Console::Args;

namespace {

int jobs_per_second(const std::string& word) {
  if (word == "0") return 0;
  if (word == "low") return lab::Load::low;
  if (word == "high") return lab::Load::high;
  throw otp::ConsoleError("load: 0, low or high, not " + word);
}

otp::redis::Options redis_address(const std::string& text) {
  try {
    auto address = otp::net::Address::parse(text);
    return {.host = address.host, .port = address.port};
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("--redis {}: {}", text, e.what()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<otp::testing::RedisServer> redis_server;  // outlives the runtime's connections
  otp::Runtime rt;
  otp::Scoped me(rt);
  otp::Console console("observer_lab", me);
  std::string redis;
  console.cli().add_option("--redis", redis,
                           "host:port of a Redis to use (default: a redis-server of its own)");

  console.command("load", "<0|low|high>", "sets the load generator's rate (low: 50 jobs/s)",
                  [&](const Args& a) {
                    me.await(lab::LoadGenerator::call(
                        lab::LoadGenerator::name, lab::LoadGenerator::Rate{jobs_per_second(a[0])}));
                    return ":ok";
                  });
  console.command("slow", "<worker> [delay]",
                  "makes a worker sleep this long before each job (default 200ms)",
                  [&](const Args& a) {
                    if (!a[0].starts_with("worker_") || !rt.whereis(a[0]))
                      throw otp::ConsoleError("no worker " + a[0]);
                    const auto delay = otp::parse_duration(a.size() > 1 ? a[1] : "200ms");
                    if (!delay) throw otp::ConsoleError(otp::duration_error(a[1]));
                    lab::Worker::cast(a[0], lab::Worker::Slow{*delay});
                    return ":ok";
                  });
  console.command("new", "<login>", "starts a session", [&](const Args& a) {
    return me.await(lab::Sessions::start_session(a[0])).to_string();
  });
  console.command("visit", "<login> [times]", "visits a session (once, or this many times)",
                  [&](const Args& a) {
                    int visits = 0;
                    for (int i = 0, n = a.size() > 1 ? std::stoi(a[1]) : 1; i < n; ++i)
                      visits = me.await(lab::Sessions::visit(a[0]));
                    return std::to_string(visits);
                  });

  return console.run(argc, argv, [&] {
    lab::Options options;
    if (!redis.empty()) {
      options.redis = redis_address(redis);
    } else {
      try {
        redis_server.emplace();
        options.redis =
            otp::redis::Options{.host = redis_server->host(), .port = redis_server->port()};
        std::printf("redis: started redis-server on %s\n", redis_server->url().c_str());
      } catch (const std::exception& e) {
        std::printf(
            "redis: no redis-server, so no Redis pool (%s); give --redis host:port to "
            "use a running one\n",
            e.what());
      }
    }
    lab::start_applications(console.applications(), me, options);
  });
}
