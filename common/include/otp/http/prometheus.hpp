// otp::http::Prometheus — the Prometheus text exposition format (version 0.0.4), written by hand.
//
//   otp::http::Prometheus out;
//   out.counter("jobs", "Jobs done.", 42);                          // jobs_total 42
//   out.gauge("queue_length", "Jobs waiting.", {{Prometheus::label("queue", "a"), 3}});
//   return Response::text(200, out.take(), Prometheus::content_type);
//
// Each metric gets one # HELP and one # TYPE line, before its samples; writing a name twice
// throws std::logic_error. Counters are named ..._total (appended when missing).
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otp::http {

class Prometheus {
 public:
  // Label sets as written between the braces (`code="200",method="GET"`), and the value.
  using Samples = std::vector<std::pair<std::string, double>>;
  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

  Prometheus& counter(std::string_view name, std::string_view help, double value);
  Prometheus& counter(std::string_view name, std::string_view help, const Samples& samples);
  Prometheus& gauge(std::string_view name, std::string_view help, double value);
  Prometheus& gauge(std::string_view name, std::string_view help, const Samples& samples);
  // counts[i]: the observations in bucket i alone (not cumulative), one per bound (a last one
  // for +Inf may follow; it is not read: the +Inf bucket is `count`). The output is cumulative.
  Prometheus& histogram(std::string_view name, std::string_view help,
                        std::span<const double> bounds, std::span<const std::uint64_t> counts,
                        double sum, std::uint64_t count);

  // The runtime's own figures, named after `prefix`: <prefix>_processes (a gauge: live
  // processes) and <prefix>_restarts_total (children restarted by any supervisor). Both are
  // counters the runtime keeps, so a scrape costs the same at ten processes as at a million.
  Prometheus& runtime(std::string_view prefix);

  // name="value", the value escaped (\\, \", \n).
  static std::string label(std::string_view name, std::string_view value);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void header(const std::string& name, std::string_view help, std::string_view type);
  void sample(std::string_view name, std::string_view labels, double value);

  std::string out_;
  std::set<std::string, std::less<>> names_;
};

}  // namespace otp::http
