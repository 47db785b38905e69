// otp::Reason — why a process exited, as a value.
//
// Erlang's exit reasons are terms; ours are a small closed set of kinds plus a
// text for the open-ended ones. The common reasons (normal, shutdown, kill,
// killed, noproc, timeout) carry no heap data, so copying a Reason is cheap.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace otp {

class Reason {
 public:
  enum class Kind : unsigned char {
    normal,     // the process finished
    shutdown,   // `shutdown`, or `{shutdown, term}` when detail() is set
    kill,       // the untrappable signal sent with exit(pid, Reason::kill())
    killed,     // how a process killed by `kill` is seen by others
    noproc,     // the target did not exist
    timeout,    // a wait ran out: a call, an await, a recv
    exception,  // `{exception, what}`: a C++ exception escaped the process
    other,      // any other term, e.g. `boom` or `{bad_return, ...}`
  };

  Reason() = default;  // normal

  static Reason normal() { return Reason{Kind::normal}; }
  static Reason shutdown() { return Reason{Kind::shutdown}; }
  static Reason shutdown(std::string term) { return Reason{Kind::shutdown, std::move(term)}; }
  static Reason kill() { return Reason{Kind::kill}; }
  static Reason killed() { return Reason{Kind::killed}; }
  static Reason noproc() { return Reason{Kind::noproc}; }
  static Reason timeout() { return Reason{Kind::timeout}; }
  static Reason exception(std::string what) { return Reason{Kind::exception, std::move(what)}; }
  // Any other reason, written as an Erlang term: `boom`, `{timeout, 5000}`.
  static Reason other(std::string term) { return Reason{Kind::other, std::move(term)}; }
  // Parses the names of the built-in reasons ("normal", "shutdown", "kill", ...);
  // anything else becomes other(text). Used by consoles and tests.
  static Reason parse(std::string_view text);

  Kind kind() const { return kind_; }
  bool is_normal() const { return kind_ == Kind::normal; }
  // shutdown or {shutdown, term}
  bool is_shutdown() const { return kind_ == Kind::shutdown; }
  bool is_kill() const { return kind_ == Kind::kill; }
  bool is_timeout() const { return kind_ == Kind::timeout; }
  // normal, shutdown and {shutdown, _}: the reasons a transient child is not restarted for,
  // and that are not logged as crashes.
  bool is_orderly() const { return is_normal() || is_shutdown(); }
  // The text of {shutdown, term}, the what() of an exception, the term of other().
  const std::string& detail() const;

  // Erlang-like rendering: normal, {shutdown, x}, {exception, "what"}, boom.
  std::string to_string() const;

  friend bool operator==(const Reason& a, const Reason& b) {
    return a.kind_ == b.kind_ && a.detail() == b.detail();
  }

 private:
  explicit Reason(Kind k) : kind_(k) {}
  Reason(Kind k, std::string text)
      : kind_(k), text_(std::make_shared<const std::string>(std::move(text))) {}

  Kind kind_ = Kind::normal;
  std::shared_ptr<const std::string> text_;
};

}  // namespace otp

template <>
struct fmt::formatter<otp::Reason> : fmt::formatter<std::string_view> {
  auto format(const otp::Reason& r, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(r.to_string(), ctx);
  }
};
