// GET /metrics: the service in Prometheus's text format. The HTTP server counts requests and
// their latency itself (otp::http::Stats); the rest is read when the page is asked for.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "hang_ten.hpp"
#include "otp/http/prometheus.hpp"
#include "otp/http/server.hpp"
#include "otp/http/stats.hpp"
#include "otp/otp.hpp"

namespace hang_ten {

struct Metrics {
  std::shared_ptr<otp::http::Stats> http = std::make_shared<otp::http::Stats>();
  std::atomic<std::uint64_t> valid{0};
  std::atomic<std::uint64_t> invalid{0};

  std::atomic<std::uint64_t> sessions_refused{0};

  void validated(bool ok) { (ok ? valid : invalid).fetch_add(1, std::memory_order_relaxed); }

  // A session refused past --max-sessions: counted, and logged at most once a second with the
  // count since the last line, so that a flood of opens cannot flood the log too.
  void refused_session() {
    sessions_refused.fetch_add(1, std::memory_order_relaxed);
    if (auto n = refusals_.event())
      otp::log::warning("{} new sessions refused with 503 since the last report: --max-sessions",
                        *n);
  }

  // Costs the same for ten sessions as for a million: counters the runtime and the sessions'
  // supervisor keep, never a walk of the processes (eight scrapers at once must not slow
  // validations down). With the Redis stash the sessions are Redis's to count (INFO keyspace),
  // so the page does not depend on Redis being up.
  otp::Co<std::string> render() {
    using P = otp::http::Prometheus;
    P out;
    out.runtime("hangten");  // hangten_processes, hangten_restarts_total
    if (sessions().in_processes()) {
      const auto counts = co_await otp::DynamicSupervisor::count_children(Supervisor::name);
      out.gauge("hangten_sessions", "Live sessions.", double(counts.active));
    }
    out.counter("hangten_sessions_refused_total", "New sessions refused past --max-sessions.",
                double(sessions_refused.load()));
    out.counter("hangten_validations_total", "Token validations by result.",
                P::Samples{{P::label("result", "valid"), double(valid.load())},
                           {P::label("result", "invalid"), double(invalid.load())}});
    http->write(out);
    co_return out.take();
  }

 private:
  otp::log::Throttle refusals_{std::chrono::seconds(1)};
};
inline Metrics metrics;

}  // namespace hang_ten
