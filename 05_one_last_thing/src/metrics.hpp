// GET /metrics: the service in Prometheus's text format. The HTTP server counts requests and
// their latency itself (otp::http::Stats); the rest is read when the page is asked for.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "hang_ten.hpp"
#include "otp/http/prometheus.hpp"
#include "otp/http/server.hpp"
#include "otp/http/stats.hpp"
#include "otp/observer.hpp"
#include "otp/otp.hpp"

namespace hang_ten {

struct Metrics {
  std::shared_ptr<otp::http::Stats> http = std::make_shared<otp::http::Stats>();
  std::atomic<std::uint64_t> valid{0};
  std::atomic<std::uint64_t> invalid{0};

  void validated(bool ok) { (ok ? valid : invalid).fetch_add(1, std::memory_order_relaxed); }

  otp::Co<std::string> render() {
    const auto processes = co_await otp::observer::processes();
    std::size_t largest = 0;
    for (const auto& p : processes) largest = std::max(largest, p.mailbox);
    const auto sessions = (co_await logins()).size();

    using P = otp::http::Prometheus;
    P out;
    out.gauge("hangten_processes", "Live processes in the runtime.", double(processes.size()));
    out.gauge("hangten_sessions", "Live sessions.", double(sessions));
    out.counter("hangten_restarts_total", "Children restarted by a supervisor.",
                double(otp::Supervisor::restarts()));
    out.counter("hangten_validations_total", "Token validations by result.",
                P::Samples{{P::label("result", "valid"), double(valid.load())},
                           {P::label("result", "invalid"), double(invalid.load())}});
    out.gauge("hangten_mailbox_max", "The longest mailbox of any process now.", double(largest));
    http->write(out);
    co_return out.take();
  }
};
inline Metrics metrics;

}  // namespace hang_ten
