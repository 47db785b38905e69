#include "otp/http/stats.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace otp::http {

void Stats::record(int status, double seconds) {
  const int i = std::clamp(status, first_status, 599) - first_status;
  by_status_[static_cast<std::size_t>(i)].fetch_add(1, std::memory_order_relaxed);
  seconds = std::max(seconds, 0.0);
  const auto b = std::lower_bound(buckets.begin(), buckets.end(), seconds) - buckets.begin();
  latency_[static_cast<std::size_t>(b)].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(static_cast<std::uint64_t>(std::llround(seconds * 1e9)),
                            std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
}

void Stats::connection_opened() {
  accepted_.fetch_add(1, std::memory_order_relaxed);
  open_.fetch_add(1, std::memory_order_relaxed);
}

void Stats::connection_closed() { open_.fetch_sub(1, std::memory_order_relaxed); }

void Stats::refused(int status) {
  const int i = std::clamp(status, first_status, 599) - first_status;
  refused_[static_cast<std::size_t>(i)].fetch_add(1, std::memory_order_relaxed);
}

void Stats::connection_cut() { cut_.fetch_add(1, std::memory_order_relaxed); }

std::uint64_t Stats::refusals(int status) const {
  const int i = std::clamp(status, first_status, 599) - first_status;
  return refused_[static_cast<std::size_t>(i)].load(std::memory_order_relaxed);
}

std::uint64_t Stats::refusals_total() const {
  std::uint64_t n = 0;
  for (const auto& c : refused_) n += c.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t Stats::requests(int status) const {
  const int i = std::clamp(status, first_status, 599) - first_status;
  return by_status_[static_cast<std::size_t>(i)].load(std::memory_order_relaxed);
}

std::uint64_t Stats::requests_total() const {
  std::uint64_t n = 0;
  for (const auto& c : by_status_) n += c.load(std::memory_order_relaxed);
  return n;
}

void Stats::write(Prometheus& out) const {
  Prometheus::Samples codes;
  for (std::size_t i = 0; i < by_status_.size(); ++i) {
    const auto n = by_status_[i].load(std::memory_order_relaxed);
    if (n != 0) {
      const auto code = std::to_string(static_cast<int>(i) + first_status);
      codes.emplace_back(Prometheus::label("code", code), static_cast<double>(n));
    }
  }
  out.counter("http_requests_total", "HTTP responses sent, by status code.", codes);
  Prometheus::Samples refusals;
  for (std::size_t i = 0; i < refused_.size(); ++i) {
    const auto n = refused_[i].load(std::memory_order_relaxed);
    if (n != 0) {
      const auto code = std::to_string(static_cast<int>(i) + first_status);
      refusals.emplace_back(Prometheus::label("code", code), static_cast<double>(n));
    }
  }
  out.counter("http_refusals_total",
              "Requests the server refused itself (bad framing, limits, timeouts, Host, Origin), "
              "by status code.",
              refusals);

  std::array<std::uint64_t, buckets.size() + 1> counts{};
  for (std::size_t i = 0; i < counts.size(); ++i)
    counts[i] = latency_[i].load(std::memory_order_relaxed);
  // A request recorded while this reads may be in a bucket and not yet in the count: the count
  // is at least the buckets' sum, so that +Inf is never below the last bucket.
  std::uint64_t in_buckets = 0;
  for (auto c : counts) in_buckets += c;
  const auto count = std::max(latency_count_.load(std::memory_order_relaxed), in_buckets);
  const double sum = static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  out.histogram("http_request_duration_seconds",
                "Time from a request's first byte to its response being sent.", buckets, counts,
                sum, count);

  out.gauge("http_connections_open", "HTTP connections open now.",
            static_cast<double>(connections_open()));
  out.counter("http_connections_total", "HTTP connections accepted.",
              static_cast<double>(connections_total()));
  out.counter("http_connections_cut_total",
              "HTTP connections cut because their peer did not read the answers.",
              static_cast<double>(connections_cut()));
}

}  // namespace otp::http
