// Helpers shared by the bench_* programs, which implement the anchor workloads of
// shared/anchors/WORKLOADS.md on the otp runtime:
//   * key=value command-line parameters (plus threads=N, the scheduler threads);
//   * the monotonic clock in nanoseconds and the resident set size;
//   * the RESULT / INFO / ERROR lines, formatted exactly as the anchors print them;
//   * share(total, parts, i).
//
// Output contract (WORKLOADS.md, "Output"): stdout carries only RESULT, INFO and
// ERROR lines. A failed check prints `ERROR <workload> ...` and makes the program
// exit with status 1; a bad argument prints `ERROR <workload> ...` and exits 2.
#pragma once

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <unistd.h>

#include "otp/otp.hpp"

namespace bench {

// Parameter name -> value. Ordered, so that the usage line lists keys alphabetically.
using Params = std::map<std::string, long long, std::less<>>;

namespace detail {
inline int failed_checks = 0;

inline void flush_line() { std::fflush(stdout); }

[[noreturn]] inline void bad_argument(std::string_view workload, std::string_view arg,
                                      const Params& accepted) {
  fmt::print("ERROR {} bad argument '{}'; accepted keys:", workload, arg);
  for (const auto& [key, value] : accepted) fmt::print(" {}={}", key, value);
  fmt::print("\n");
  flush_line();
  std::exit(2);
}

inline bool parse_integer(std::string_view text, long long& out) {
  if (text.empty()) return false;
  std::string s{text};
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  out = v;
  return true;
}
}  // namespace detail

// Reads `key=value` arguments (decimal integers) over `defaults`. Every program
// also accepts `threads=N`: the runtime's scheduler threads, by default one per
// hardware thread (as the BEAM's scheduler count and the CAF anchors' default).
inline Params parse_args(std::string_view workload, int argc, char** argv, Params defaults) {
  defaults.emplace("threads",
                   static_cast<long long>(std::max(1u, std::thread::hardware_concurrency())));
  const Params accepted = defaults;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    const auto eq = arg.find('=');
    if (eq == std::string_view::npos) detail::bad_argument(workload, arg, accepted);
    auto it = defaults.find(arg.substr(0, eq));
    long long value = 0;
    if (it == defaults.end() || !detail::parse_integer(arg.substr(eq + 1), value))
      detail::bad_argument(workload, arg, accepted);
    it->second = value;
  }
  return defaults;
}

// Runtime options for the parsed parameters.
inline otp::Options runtime_options(const Params& p) {
  otp::Options o;
  const long long t = p.at("threads");
  o.threads = t > 0 ? static_cast<unsigned>(t) : 0;
  return o;
}

// Monotonic clock (std::chrono::steady_clock), in nanoseconds.
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Resident set size: the second field of /proc/self/statm (pages) times the page size.
inline long long rss_bytes() {
  long long total_pages = 0;
  long long resident_pages = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%lld %lld", &total_pages, &resident_pages) != 2) resident_pages = 0;
    std::fclose(f);
  }
  return resident_pages * static_cast<long long>(sysconf(_SC_PAGESIZE));
}

// Sleeps one millisecond: the polling interval of every "wait until".
inline void sleep_1ms() { std::this_thread::sleep_for(std::chrono::milliseconds(1)); }

// Polls `done()` once a millisecond until it holds (checked before the first sleep).
template <class Pred>
void wait_until(Pred done) {
  while (!done()) sleep_1ms();
}

// RESULT <workload> <metric> <value> <unit>: ns with one decimal, us with three,
// bytes rounded to an integer (half away from zero, like Erlang's round/1).
inline void result(std::string_view workload, std::string_view metric, double value,
                   std::string_view unit) {
  if (unit == "ns") {
    fmt::print("RESULT {} {} {:.1f} {}\n", workload, metric, value, unit);
  } else if (unit == "bytes") {
    fmt::print("RESULT {} {} {} {}\n", workload, metric, std::llround(value), unit);
  } else {
    fmt::print("RESULT {} {} {:.3f} {}\n", workload, metric, value, unit);
  }
  detail::flush_line();
}

// INFO <text>
template <class... A>
void info(fmt::format_string<A...> f, A&&... args) {
  fmt::print("INFO {}\n", fmt::format(f, std::forward<A>(args)...));
  detail::flush_line();
}

// ERROR <workload> <text>: a failed check; the program's exit status becomes 1.
template <class... A>
void fail(std::string_view workload, fmt::format_string<A...> f, A&&... args) {
  ++detail::failed_checks;
  fmt::print("ERROR {} {}\n", workload, fmt::format(f, std::forward<A>(args)...));
  detail::flush_line();
}

// The exit status: 0 when every check passed, 1 otherwise.
inline int exit_status() { return detail::failed_checks == 0 ? 0 : 1; }

// The parameters of the system, as an INFO line.
inline void info_system(const otp::Runtime& rt) {
  info("otp scheduler_threads={} hw_threads={}", rt.threads(), std::thread::hardware_concurrency());
}

// share(T, P, i): T div P; the last part (i = P-1) also takes T mod P.
inline long long share(long long total, long long parts, long long i) {
  return total / parts + (i == parts - 1 ? total % parts : 0);
}

// Runs a workload's body; an exception that escapes it is reported as an ERROR
// line (exit status 1), like the BEAM anchors' crashed coordinator.
template <class Body>
int guarded(std::string_view workload, Body body) {
  try {
    body();
  } catch (const std::exception& e) {
    fail(workload, "crashed: {}", e.what());
  } catch (...) {
    fail(workload, "crashed: unknown exception");
  }
  return exit_status();
}

}  // namespace bench
