// otp::Pid, otp::Ref and otp::Alias — identities of processes, of monitors/timers, and
// of a process's switchable names.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

#include <fmt/format.h>

namespace otp {

namespace detail {
struct Proc;
}

// A process identifier. Like an Erlang pid it is a plain value: it may be
// copied freely, outlive its process, and is never reused for another process
// of the same runtime (the serial is unique). Sending to the pid of a process
// that has exited does nothing.
class Pid {
 public:
  Pid() = default;
  Pid(detail::Proc* proc, std::uint64_t serial) : proc_(proc), serial_(serial) {}

  // The process's unique number, shown as <0.N.0>.
  std::uint64_t id() const { return serial_; }
  explicit operator bool() const { return serial_ != 0; }
  detail::Proc* proc() const { return proc_; }

  std::string to_string() const { return fmt::format("<0.{}.0>", serial_); }

  friend bool operator==(const Pid& a, const Pid& b) { return a.serial_ == b.serial_; }
  friend auto operator<=>(const Pid& a, const Pid& b) { return a.serial_ <=> b.serial_; }

 private:
  detail::Proc* proc_ = nullptr;
  std::uint64_t serial_ = 0;
};

// A unique reference (make_ref): names a monitor, a timer, a call.
struct Ref {
  std::uint64_t id = 0;
  explicit operator bool() const { return id != 0; }
  std::string to_string() const { return fmt::format("#Ref<0.{}>", id); }
  friend bool operator==(const Ref&, const Ref&) = default;
  friend auto operator<=>(const Ref&, const Ref&) = default;
};

// A process alias (Erlang's alias/0, or a monitor made with an alias option):
// another name for process `pid` that it can switch off. A message sent to an
// alias reaches the process while the alias is active and is dropped once it
// is not, so a reply that comes too late never lands in the mailbox. Its
// reference is unique like any Ref (for a monitor alias, the monitor's).
struct Alias {
  Pid pid;
  Ref ref;
  explicit operator bool() const { return static_cast<bool>(ref); }
  std::string to_string() const { return ref.to_string(); }
  friend bool operator==(const Alias& a, const Alias& b) { return a.ref == b.ref; }
  friend auto operator<=>(const Alias& a, const Alias& b) { return a.ref <=> b.ref; }
};

}  // namespace otp

template <>
struct std::hash<otp::Pid> {
  std::size_t operator()(const otp::Pid& p) const noexcept {
    return std::hash<std::uint64_t>{}(p.id());
  }
};
template <>
struct std::hash<otp::Ref> {
  std::size_t operator()(const otp::Ref& r) const noexcept {
    return std::hash<std::uint64_t>{}(r.id);
  }
};
template <>
struct std::hash<otp::Alias> {
  std::size_t operator()(const otp::Alias& a) const noexcept {
    return std::hash<otp::Ref>{}(a.ref);
  }
};

template <>
struct fmt::formatter<otp::Pid> : fmt::formatter<std::string_view> {
  auto format(const otp::Pid& p, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(p.to_string(), ctx);
  }
};
template <>
struct fmt::formatter<otp::Ref> : fmt::formatter<std::string_view> {
  auto format(const otp::Ref& r, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(r.to_string(), ctx);
  }
};
template <>
struct fmt::formatter<otp::Alias> : fmt::formatter<otp::Ref> {
  auto format(const otp::Alias& a, fmt::format_context& ctx) const {
    return fmt::formatter<otp::Ref>::format(a.ref, ctx);
  }
};
