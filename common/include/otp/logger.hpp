// otp::log — levels, fmt formatting, and the reports behaviours write.
//
//   otp::log::info("user {} logged in", login);
//   otp::log::set_level(otp::Level::warning);   // drop debug, info and notice
//
// Behaviours write two kinds of report, in the spirit of Erlang's SASL:
// a crash report when a process dies abnormally (which process, why, the last
// message it handled, its state) and a supervisor report when a supervisor
// acts on a child's exit (supervisor, child, reason, action). Everything goes to
// stderr unless a sink is set; a LogCapture collects records in tests.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "otp/detail/type_name.hpp"
#include "otp/pid.hpp"
#include "otp/reason.hpp"

namespace otp {

enum class Level : unsigned char { debug, info, notice, warning, error, none };

struct LogRecord {
  enum class Kind : unsigned char { message, crash_report, supervisor_report };
  Level level = Level::info;
  Kind kind = Kind::message;
  std::string text;  // the whole report for the report kinds
};

namespace log {

using Sink = std::function<void(const LogRecord&)>;

// Records below this level are dropped (Level::none drops everything).
void set_level(Level level);
Level level();
bool enabled(Level level);
// Replaces where records go; an empty sink means stderr. Returns the old one.
Sink set_sink(Sink sink);
void write(LogRecord record);

template <class... A>
void at(Level lvl, fmt::format_string<A...> f, A&&... args) {
  if (enabled(lvl))
    write(LogRecord{lvl, LogRecord::Kind::message, fmt::format(f, std::forward<A>(args)...)});
}
template <class... A>
void debug(fmt::format_string<A...> f, A&&... args) {
  at(Level::debug, f, std::forward<A>(args)...);
}
template <class... A>
void info(fmt::format_string<A...> f, A&&... args) {
  at(Level::info, f, std::forward<A>(args)...);
}
template <class... A>
void notice(fmt::format_string<A...> f, A&&... args) {
  at(Level::notice, f, std::forward<A>(args)...);
}
template <class... A>
void warning(fmt::format_string<A...> f, A&&... args) {
  at(Level::warning, f, std::forward<A>(args)...);
}
template <class... A>
void error(fmt::format_string<A...> f, A&&... args) {
  at(Level::error, f, std::forward<A>(args)...);
}

// For a line that a flood would repeat (a refusal per request): at most one line per period,
// which says how many events it stands for. Safe from any number of processes at once.
//
//   static otp::log::Throttle refused(std::chrono::seconds(1));
//   if (auto n = refused.event()) otp::log::warning("{} refused since the last line", *n);
class Throttle {
 public:
  explicit Throttle(std::chrono::nanoseconds period) : period_(period.count()) {}
  // Counts one event. When a line is due (the first event, or the first a period after the last
  // line), the events since the last line, this one included; else nothing.
  std::optional<std::uint64_t> event() {
    pending_.fetch_add(1, std::memory_order_relaxed);
    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    std::int64_t next = next_.load(std::memory_order_relaxed);
    if (now < next || !next_.compare_exchange_strong(next, now + period_)) return std::nullopt;
    return pending_.exchange(0, std::memory_order_relaxed);  // another event may be in it
  }

 private:
  const std::int64_t period_;
  std::atomic<std::uint64_t> pending_{0};
  std::atomic<std::int64_t> next_{0};  // steady ns: no line before it
};

}  // namespace log

// A process died with a reason other than normal/shutdown.
struct CrashReport {
  std::string process;    // "<0.12.0>" or "<0.12.0> name"
  std::string behaviour;  // "GenServer", "Task", ...
  Reason reason;
  std::string last_message;  // the message being handled, as far as it can be shown
  std::string state;         // the state, as far as it can be shown
};
// A supervisor acted on a child's exit (or failed to start one).
struct SupervisorReport {
  std::string supervisor;
  std::string child;  // id and pid
  Reason reason;
  std::string
      context;  // child_terminated, start_error, shutdown_error, reached_max_restart_intensity
  std::string action;  // restarting, not restarting, shutting down
};
void report(const CrashReport& r);
void report(const SupervisorReport& r);
// How reports name a process: "<0.12.0>", or "<0.12.0> name" when it has a name.
std::string process_label(const Pid& pid, std::string_view name);

// Collects every record written while it lives (instead of writing them to
// the previous sink). For tests; one at a time.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<LogRecord> records() const;
  // True when some record's text contains `needle`.
  bool contains(std::string_view needle) const;
  std::size_t count(LogRecord::Kind kind) const;

 private:
  mutable std::mutex m_;
  std::vector<LogRecord> records_;
  log::Sink old_;
  Level old_level_;
};

namespace detail {
// A value as a report shows it: fmt's text when T is formattable, else its type's name.
template <class T>
std::string describe(const T& v) {
  if constexpr (fmt::is_formattable<T>::value) {
    return fmt::format("{}", v);
  } else {
    return std::string(type_name<T>());
  }
}
}  // namespace detail

}  // namespace otp
