// otp::http::Stats — what a Server counts, for /metrics: requests by status, their latency,
// connections. Every counter is an atomic: connections count from their own processes.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "otp/http/prometheus.hpp"

namespace otp::http {

struct Stats {
  // The latency histogram's upper bounds, in seconds (+Inf is implied).
  static constexpr std::array<double, 12> buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                  0.05,   0.1,   0.25,   0.5,   1,    2.5};

  // One response sent with `status`, `seconds` after its request began to arrive.
  void record(int status, double seconds);
  void connection_opened();
  void connection_closed();
  // A request the server refused itself, before or instead of a route: 400 (bad framing), 403
  // and 421 (Options' Origin and Host), 408, 413, 415, 431, 503. Also counted by record.
  void refused(int status);
  // A connection cut by the server: its peer did not read its answers within write_timeout.
  void connection_cut();

  // Responses sent with `status` (100..599; any other counts as 599).
  std::uint64_t requests(int status) const;
  std::uint64_t requests_total() const;
  std::int64_t connections_open() const { return open_.load(std::memory_order_relaxed); }
  std::uint64_t connections_total() const { return accepted_.load(std::memory_order_relaxed); }
  std::uint64_t refusals(int status) const;
  std::uint64_t refusals_total() const;
  std::uint64_t connections_cut() const { return cut_.load(std::memory_order_relaxed); }

  // http_requests_total{code}, http_request_duration_seconds, http_connections_open,
  // http_connections_total, http_refusals_total{code}, http_connections_cut_total.
  void write(Prometheus& out) const;

 private:
  static constexpr int first_status = 100;
  std::array<std::atomic<std::uint64_t>, 500> by_status_{};
  std::array<std::atomic<std::uint64_t>, buckets.size() + 1> latency_{};  // the last: +Inf
  std::atomic<std::uint64_t> latency_sum_ns_{0};
  std::atomic<std::uint64_t> latency_count_{0};
  std::atomic<std::int64_t> open_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::array<std::atomic<std::uint64_t>, 500> refused_{};  // by status, as by_status_
  std::atomic<std::uint64_t> cut_{0};
};

}  // namespace otp::http
