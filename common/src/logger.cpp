#include "otp/logger.hpp"

#include <atomic>
#include <cstdio>

namespace otp {

namespace {

std::atomic<Level> g_level{Level::info};
std::mutex g_m;
log::Sink g_sink;  // guarded by g_m

std::string_view level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::notice: return "notice";
    case Level::warning: return "warning";
    case Level::error: return "error";
    case Level::none: break;
  }
  return "none";
}

}  // namespace

namespace log {

void set_level(Level level) { g_level.store(level, std::memory_order_relaxed); }
Level level() { return g_level.load(std::memory_order_relaxed); }
bool enabled(Level l) { return l != Level::none && l >= g_level.load(std::memory_order_relaxed); }

Sink set_sink(Sink sink) {
  std::lock_guard lock(g_m);
  return std::exchange(g_sink, std::move(sink));
}

void write(LogRecord record) {
  std::lock_guard lock(g_m);
  if (g_sink) {
    g_sink(record);
    return;
  }
  std::string line = fmt::format("[{}] {}\n", level_name(record.level), record.text);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace log

void report(const CrashReport& r) {
  if (!log::enabled(Level::error)) return;
  std::string text = fmt::format("crash report: process {} ({}) exited\n    reason: {}", r.process,
                                 r.behaviour.empty() ? "process" : r.behaviour, r.reason);
  if (!r.last_message.empty()) text += fmt::format("\n    last message: {}", r.last_message);
  if (!r.state.empty()) text += fmt::format("\n    state: {}", r.state);
  log::write(LogRecord{Level::error, LogRecord::Kind::crash_report, std::move(text)});
}

void report(const SupervisorReport& r) {
  if (!log::enabled(Level::error)) return;
  log::write(LogRecord{Level::error, LogRecord::Kind::supervisor_report,
                       fmt::format("supervisor report: supervisor {}: {} of child {}\n    reason: {}\n    action: {}",
                                   r.supervisor, r.context, r.child, r.reason, r.action)});
}

LogCapture::LogCapture() : old_level_(log::level()) {
  old_ = log::set_sink([this](const LogRecord& r) {
    std::lock_guard lock(m_);
    records_.push_back(r);
  });
}

LogCapture::~LogCapture() {
  log::set_sink(std::move(old_));
  log::set_level(old_level_);
}

std::vector<LogRecord> LogCapture::records() const {
  std::lock_guard lock(m_);
  return records_;
}

bool LogCapture::contains(std::string_view needle) const {
  std::lock_guard lock(m_);
  for (const auto& r : records_)
    if (r.text.find(needle) != std::string::npos) return true;
  return false;
}

std::size_t LogCapture::count(LogRecord::Kind kind) const {
  std::lock_guard lock(m_);
  std::size_t n = 0;
  for (const auto& r : records_) n += r.kind == kind ? 1 : 0;
  return n;
}

}  // namespace otp
