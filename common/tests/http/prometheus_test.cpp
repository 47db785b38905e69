// The Prometheus text writer and Stats: one HELP and TYPE per metric, cumulative buckets,
// escaped labels.
#include "otp/http/prometheus.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/http/stats.hpp"
#include "otp/otp.hpp"

namespace {

using otp::http::Prometheus;

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto i = text.find(needle); i != std::string::npos; i = text.find(needle, i + 1)) ++n;
  return n;
}

}  // namespace

TEST(Prometheus, CounterGetsTotalSuffixAndOneHelpAndType) {
  Prometheus out;
  out.counter("jobs", "Jobs done.", 42);
  EXPECT_EQ(out.str(), "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 42\n");
}

TEST(Prometheus, LabelledSamplesShareOneHeader) {
  Prometheus out;
  out.gauge("queue_length", "Jobs waiting.",
            Prometheus::Samples{{Prometheus::label("queue", "a"), 3},
                                {Prometheus::label("queue", "b"), 1.5}});
  EXPECT_EQ(out.str(),
            "# HELP queue_length Jobs waiting.\n# TYPE queue_length gauge\n"
            "queue_length{queue=\"a\"} 3\nqueue_length{queue=\"b\"} 1.5\n");
}

TEST(Prometheus, LabelValuesAreEscaped) {
  EXPECT_EQ(Prometheus::label("path", "a\"b\\c\nd"), R"(path="a\"b\\c\nd")");
}

TEST(Prometheus, HistogramBucketsAreCumulativeWithInf) {
  Prometheus out;
  const std::vector<double> bounds{0.1, 1};
  const std::vector<std::uint64_t> counts{2, 3, 1};
  out.histogram("latency_seconds", "Latency.", bounds, counts, 4.5, 6);
  EXPECT_EQ(out.str(),
            "# HELP latency_seconds Latency.\n# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{le=\"0.1\"} 2\nlatency_seconds_bucket{le=\"1\"} 5\n"
            "latency_seconds_bucket{le=\"+Inf\"} 6\nlatency_seconds_sum 4.5\n"
            "latency_seconds_count 6\n");
}

TEST(Prometheus, WritingAMetricTwiceThrows) {
  Prometheus out;
  out.gauge("x", "X.", 1);
  EXPECT_THROW(out.gauge("x", "X.", 2), std::logic_error);
}

TEST(Stats, CountsRequestsByStatusAndLatency) {
  otp::http::Stats stats;
  stats.record(200, 0.0001);
  stats.record(200, 0.3);
  stats.record(404, 3.0);
  stats.connection_opened();
  stats.connection_opened();
  stats.connection_closed();
  stats.record(431, 3.0);
  stats.refused(431);
  stats.connection_cut();
  EXPECT_EQ(stats.refusals(431), 1u);
  EXPECT_EQ(stats.connections_cut(), 1u);
  EXPECT_EQ(stats.requests(200), 2u);
  EXPECT_EQ(stats.requests(404), 1u);
  EXPECT_EQ(stats.requests_total(), 4u);
  EXPECT_EQ(stats.connections_open(), 1);
  EXPECT_EQ(stats.connections_total(), 2u);

  Prometheus out;
  stats.write(out);
  const auto& text = out.str();
  EXPECT_NE(text.find("http_requests_total{code=\"200\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_requests_total{code=\"404\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("http_request_duration_seconds_bucket{le=\"0.5\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("http_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("http_request_duration_seconds_count 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_connections_open 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_connections_total 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_refusals_total{code=\"431\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_connections_cut_total 1\n"), std::string::npos) << text;
  EXPECT_EQ(count_of(text, "# HELP "), 6);
  EXPECT_EQ(count_of(text, "# TYPE "), 6);
}

// runtime(): the runtime's own counters under a prefix, each with its HELP and TYPE.
TEST(Prometheus, RuntimeWritesTheProcessCountAndTheRestarts) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  Prometheus out;
  out.runtime("app");
  const std::string text = out.str();
  EXPECT_NE(text.find("# TYPE app_processes gauge\napp_processes "), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE app_restarts_total counter\napp_restarts_total "), std::string::npos)
      << text;
  EXPECT_EQ(text.find("app_processes 0\n"), std::string::npos) << text;  // `me` is one
}
