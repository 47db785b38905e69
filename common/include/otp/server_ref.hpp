// What names a server and what starting one gives: StartResult (Elixir's {:ok, pid} | :ignore |
// {:error, reason}) and Start, the coroutine a start function returns; the destinations of calls,
// casts and stops (a pid, a Via, a Name or a local name: the concept Destination), and
// ServerRef, any of them as one value for APIs that are not templates (the supervisors').
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "otp/co.hpp"
#include "otp/names.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/runtime.hpp"

namespace otp {

// How long a call waits for its reply unless told otherwise (Elixir's 5,000 ms).
inline constexpr Duration default_call_timeout = std::chrono::seconds(5);

// What starting a process gives: Elixir's {:ok, pid}, :ignore or {:error, reason}.
class StartResult {
 public:
  enum class Kind : unsigned char { ok, ignore, already_started, error };

  static StartResult ok(Pid pid) { return StartResult{Kind::ok, pid, {}}; }
  static StartResult ignore() { return StartResult{Kind::ignore, {}, {}}; }
  static StartResult already_started(Pid pid) {
    return StartResult{Kind::already_started, pid, {}};
  }
  static StartResult error(Reason reason) {
    return StartResult{Kind::error, {}, std::move(reason)};
  }

  Kind kind() const { return kind_; }
  bool ok() const { return kind_ == Kind::ok; }
  explicit operator bool() const { return ok(); }
  // The started process (ok) or the one holding the name (already_started).
  Pid pid() const { return pid_; }
  // The error as a reason: {already_started, <0.1.0>} for already_started.
  Reason reason() const {
    if (kind_ == Kind::already_started)
      return Reason::other(fmt::format("{{already_started, {}}}", pid_));
    return reason_;
  }
  // Elixir's rendering: {:ok, <0.12.0>}, :ignore, {:error, {:already_started, <0.12.0>}}.
  std::string to_string() const;

 private:
  StartResult(Kind k, Pid p, Reason r) : kind_(k), pid_(p), reason_(std::move(r)) {}
  Kind kind_;
  Pid pid_;
  Reason reason_;
};

// What a start function returns: a coroutine that gives the StartResult, as in
// `static otp::Start start_link(std::string login)` (the same as otp::Co<otp::StartResult>).
using Start = Co<StartResult>;

class ServerRef;

namespace detail {
// Exactly a ServerRef (a template, so that nothing converts to one on the way).
template <std::same_as<ServerRef> R>
std::optional<Pid> whereis_dest(const R& r) {
  return r.whereis();
}
template <std::same_as<ServerRef> R>
std::string dest_text(const R& r) {
  return r.to_string();
}

// Where a call, cast or send may go: a pid, a Via name, or a local name.
inline std::optional<Pid> whereis_dest(const Pid& pid) {
  return pid ? std::optional<Pid>(pid) : std::nullopt;
}
inline std::optional<Pid> whereis_dest(const Via& via) { return via.whereis(); }
inline std::optional<Pid> whereis_dest(const Name& name) { return name.whereis(); }
inline std::optional<Pid> whereis_dest(std::string_view name) { return otp::whereis(name); }
inline std::string dest_text(const Pid& pid) { return pid.to_string(); }
inline std::string dest_text(const Via& via) {
  return fmt::format("{{:via, {}, \"{}\"}}", via.registry->registry_name(), via.key);
}
inline std::string dest_text(const Name& name) { return name.to_string(); }
inline std::string dest_text(std::string_view name) { return std::string(name); }

}  // namespace detail

// What a call, a cast or a stop may be addressed to: a Pid, a Via, a Name, or a local name (a
// string). A compiler error about a destination names this concept.
template <class Dest>
concept Destination = requires(const Dest& d) {
  detail::whereis_dest(d);
};

// Any destination as one value: a pid, a Via name or a local name (for APIs
// that are not templates, like the supervisors').
class ServerRef {
 public:
  ServerRef(Pid pid) : v_(pid) {}                         // NOLINT(google-explicit-constructor)
  ServerRef(Via via) : v_(std::move(via)) {}              // NOLINT(google-explicit-constructor)
  ServerRef(std::string name) : v_(std::move(name)) {}    // NOLINT(google-explicit-constructor)
  ServerRef(const char* name) : v_(std::string(name)) {}  // NOLINT(google-explicit-constructor)
  ServerRef(const Name& name) {                           // NOLINT(google-explicit-constructor)
    if (name.via().registry != nullptr) {
      v_ = name.via();
    } else {
      v_ = name.local_name();
    }
  }
  std::optional<Pid> whereis() const {
    return std::visit([](const auto& d) { return detail::whereis_dest(d); }, v_);
  }
  std::string to_string() const {
    return std::visit([](const auto& d) { return detail::dest_text(d); }, v_);
  }

 private:
  std::variant<Pid, Via, std::string> v_;
};

}  // namespace otp

template <>
struct fmt::formatter<otp::StartResult> : fmt::formatter<std::string_view> {
  auto format(const otp::StartResult& r, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(r.to_string(), ctx);
  }
};
