#include "otp/http/prometheus.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "otp/process.hpp"
#include "otp/supervisor.hpp"

namespace otp::http {

namespace {

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string counter_name(std::string_view name) {
  std::string n(name);
  if (!n.ends_with("_total")) n += "_total";
  return n;
}

}  // namespace

std::string Prometheus::label(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

void Prometheus::header(const std::string& name, std::string_view help, std::string_view type) {
  if (!names_.insert(name).second)
    throw std::logic_error("Prometheus: metric " + name + " written twice");
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, type);
}

void Prometheus::sample(std::string_view name, std::string_view labels, double value) {
  if (labels.empty()) {
    out_ += fmt::format("{} {}\n", name, number(value));
  } else {
    out_ += fmt::format("{}{{{}}} {}\n", name, labels, number(value));
  }
}

Prometheus& Prometheus::counter(std::string_view name, std::string_view help, double value) {
  return counter(name, help, Samples{{"", value}});
}

Prometheus& Prometheus::counter(std::string_view name, std::string_view help,
                                const Samples& samples) {
  const std::string n = counter_name(name);
  header(n, help, "counter");
  for (const auto& [labels, value] : samples) sample(n, labels, value);
  return *this;
}

Prometheus& Prometheus::gauge(std::string_view name, std::string_view help, double value) {
  return gauge(name, help, Samples{{"", value}});
}

Prometheus& Prometheus::gauge(std::string_view name, std::string_view help,
                              const Samples& samples) {
  const std::string n(name);
  header(n, help, "gauge");
  for (const auto& [labels, value] : samples) sample(n, labels, value);
  return *this;
}

Prometheus& Prometheus::histogram(std::string_view name, std::string_view help,
                                  std::span<const double> bounds,
                                  std::span<const std::uint64_t> counts, double sum,
                                  std::uint64_t count) {
  const std::string n(name);
  header(n, help, "histogram");
  const std::string bucket = n + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (i < counts.size()) cumulative += counts[i];
    sample(bucket, label("le", number(bounds[i])), static_cast<double>(cumulative));
  }
  sample(bucket, label("le", "+Inf"), static_cast<double>(count));
  sample(n + "_sum", "", sum);
  sample(n + "_count", "", static_cast<double>(count));
  return *this;
}

Prometheus& Prometheus::runtime(std::string_view prefix) {
  gauge(fmt::format("{}_processes", prefix), "Live processes in the runtime.",
        double(otp::process_count()));
  return counter(fmt::format("{}_restarts_total", prefix), "Children restarted by a supervisor.",
                 double(otp::Supervisor::restarts()));
}

}  // namespace otp::http
