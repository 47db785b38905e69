#include "otp/logger.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <vector>

#include "log_line.hpp"

namespace otp {

namespace {

std::atomic<Level> g_level{Level::info};
std::mutex g_m;
log::Sink g_sink;  // guarded by g_m

std::string_view level_name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::notice:
      return "notice";
    case Level::warning:
      return "warning";
    case Level::error:
      return "error";
    case Level::none:
      break;
  }
  return "none";
}

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// snake_case -> SnakeCase; a name with a capital letter is kept.
std::string camel(std::string_view segment) {
  if (std::ranges::any_of(segment,
                          [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }))
    return std::string(segment);
  std::string out;
  bool up = true;
  for (char c : segment) {
    if (c == '_') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

// CallMsg<Server, Request> -> Request (the same for CastMsg).
std::string unwrap_messages(std::string s) {
  for (std::string_view wrapper : {"CallMsg<", "CastMsg<"}) {
    for (std::size_t at; (at = s.find(wrapper)) != std::string::npos;) {
      std::size_t begin = at;  // take the qualification (otp::detail::) with it
      while (begin > 0 && (ident_char(s[begin - 1]) || s[begin - 1] == ':')) --begin;
      std::size_t i = at + wrapper.size();
      int depth = 1;
      std::size_t comma = std::string::npos;
      for (; i < s.size() && depth > 0; ++i) {
        if (s[i] == '<') ++depth;
        if (s[i] == '>') --depth;
        if (s[i] == ',' && depth == 1 && comma == std::string::npos) comma = i;
      }
      if (depth != 0 || comma == std::string::npos) return s;
      std::string request = s.substr(comma + 1, i - 1 - (comma + 1));
      request.erase(0, request.find_first_not_of(' '));
      s.replace(begin, i - begin, request);
    }
  }
  return s;
}

}  // namespace

std::string module_name(std::string_view type) {
  std::string s(type);
  for (std::string_view junk : {"(anonymous namespace)::", "{anonymous}::"}) {
    for (std::size_t at; (at = s.find(junk)) != std::string::npos;) s.erase(at, junk.size());
  }
  s = unwrap_messages(std::move(s));
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (!ident_char(s[i]) || (i > 0 && ident_char(s[i - 1]))) {
      out += s[i++];
      continue;
    }
    std::vector<std::string_view> path;  // identifiers joined by ::
    std::size_t end = i;
    for (;;) {
      std::size_t j = end;
      while (j < s.size() && ident_char(s[j])) ++j;
      path.emplace_back(s.data() + end, j - end);
      end = j;
      if (end + 2 < s.size() && s.compare(end, 2, "::") == 0 && ident_char(s[end + 2])) {
        end += 2;
      } else {
        break;
      }
    }
    if (path.size() == 1 || path.front() == "std") {
      out.append(s, i, end - i);
    } else {
      std::size_t first = 0;
      while (first + 1 < path.size() && (path[first] == "otp" || path[first] == "detail")) ++first;
      for (std::size_t k = first; k < path.size(); ++k)
        out += (k > first ? "." : "") + camel(path[k]);
    }
    i = end;
  }
  return out;
}

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
  const std::string text = detail::line(record);
  std::fwrite(text.data(), 1, text.size(), stderr);
}

std::string detail::line(const LogRecord& record) {
  return fmt::format("[{}] {}\n", level_name(record.level), record.text);
}

}  // namespace log

std::string process_label(const Pid& pid, std::string_view name) {
  return name.empty() ? pid.to_string() : fmt::format("{} {}", pid, name);
}

void report(const CrashReport& r) {
  if (!log::enabled(Level::error)) return;
  std::string text = fmt::format("crash report: process {} ({}) exited\n    reason: {}", r.process,
                                 r.behaviour.empty() ? "process" : module_name(r.behaviour),
                                 module_name(r.reason.to_string()));
  if (!r.last_message.empty())
    text += fmt::format("\n    last message: {}", module_name(r.last_message));
  if (!r.state.empty()) text += fmt::format("\n    state: {}", r.state);
  log::write(LogRecord{Level::error, LogRecord::Kind::crash_report, std::move(text)});
}

void report(const SupervisorReport& r) {
  if (!log::enabled(Level::error)) return;
  log::write(LogRecord{
      Level::error, LogRecord::Kind::supervisor_report,
      fmt::format(
          "supervisor report: supervisor {}: {} of child {}\n    reason: {}\n    action: {}",
          r.supervisor, r.context, module_name(r.child), module_name(r.reason.to_string()),
          r.action)});
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
