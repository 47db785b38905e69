#include "otp/reason.hpp"

namespace otp {

namespace {
const std::string& empty_string() {
  static const std::string empty;
  return empty;
}
}  // namespace

const std::string& Reason::detail() const { return text_ ? *text_ : empty_string(); }

std::string Reason::to_string() const {
  switch (kind_) {
    case Kind::normal:
      return "normal";
    case Kind::shutdown:
      return text_ ? fmt::format("{{shutdown, {}}}", *text_) : "shutdown";
    case Kind::kill:
      return "kill";
    case Kind::killed:
      return "killed";
    case Kind::noproc:
      return "noproc";
    case Kind::exception:
      return fmt::format("{{exception, \"{}\"}}", detail());
    case Kind::other:
      return detail();
  }
  return "unknown";
}

Reason Reason::parse(std::string_view text) {
  if (text == "normal") return normal();
  if (text == "shutdown") return shutdown();
  if (text == "kill") return kill();
  if (text == "killed") return killed();
  if (text == "noproc") return noproc();
  return other(std::string(text));
}

}  // namespace otp
