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
    case Kind::timeout:
      return "timeout";
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
  if (text == "timeout") return timeout();
  // {shutdown, term} (also written {:shutdown, term}), as Reason::to_string writes it.
  if (text.starts_with('{') && text.ends_with('}')) {
    std::string_view inner = text.substr(1, text.size() - 2);
    const std::size_t comma = inner.find(',');
    auto trim = [](std::string_view s) {
      const std::size_t b = s.find_first_not_of(' ');
      return b == std::string_view::npos ? std::string_view{}
                                         : s.substr(b, s.find_last_not_of(' ') - b + 1);
    };
    std::string_view head = trim(inner.substr(0, comma));
    if (comma != std::string_view::npos && (head == "shutdown" || head == ":shutdown")) {
      std::string_view term = trim(inner.substr(comma + 1));
      if (term.starts_with(':')) term.remove_prefix(1);
      if (!term.empty()) return shutdown(std::string(term));
    }
  }
  return other(std::string(text));
}

}  // namespace otp
