// The frames after the handshake (otp/dist/detail/control.hpp).
#include "otp/dist/detail/control.hpp"

#include <fmt/format.h>

#include "otp/dist/etf.hpp"

namespace otp::dist::detail {

namespace {

Reason bad_frame(std::string_view what) {
  return Reason::other(fmt::format("{{bad_frame, \"{}\"}}", what));
}

// One term with its version byte at `bytes[at]`; `at` moves past it.
Result<Term> read_term(std::string_view bytes, std::size_t& at) {
  if (at >= bytes.size() || static_cast<unsigned char>(bytes[at]) != etf::version_byte)
    return Reason::other(fmt::format("{{bad_etf, {}, \"no version byte\"}}", at));
  ++at;
  return etf::decode_one(bytes, at);
}

// The operations known to carry nothing after their control message.
bool carries_nothing(std::int64_t operation) {
  switch (operation) {
    case 1:   // LINK
    case 3:   // EXIT
    case 4:   // UNLINK
    case 5:   // NODE_LINK
    case 7:   // GROUP_LEADER
    case 8:   // EXIT2
    case 13:  // EXIT_TT
    case 18:  // EXIT2_TT
    case 19:  // MONITOR_P
    case 20:  // DEMONITOR_P
    case 21:  // MONITOR_P_EXIT
    case 31:  // SPAWN_REPLY
    case 32:  // SPAWN_REPLY_TT
    case 35:  // UNLINK_ID
    case 36:  // UNLINK_ID_ACK
      return true;
    default:
      return false;
  }
}

// The alias of a gen_call's Tag ([alias | Alias] or [[alias | Alias] | _]), or null.
const Term* alias_of(const Term& tag) {
  if (tag.type() != Term::Type::list) return nullptr;
  const Term& head = tag.elements()[0];
  if (head.is_atom("alias") && tag.elements().size() == 1 && tag.tail().is_reference())
    return &tag.tail();
  if (head.type() == Term::Type::list && head.elements().size() == 1 &&
      head.elements()[0].is_atom("alias") && head.tail().is_reference())
    return &head.tail();
  return nullptr;
}

// {'$gen_call', {From, Tag}, {is_auth, Node}}: From and Tag, or false.
bool is_auth_call(const Term& message, const Term*& from, const Term*& tag) {
  if (!message.is_tuple() || message.elements().size() != 3) return false;
  const auto call = message.elements();
  if (!call[0].is_atom("$gen_call") || !call[1].is_tuple() || call[1].elements().size() != 2)
    return false;
  const Term& request = call[2];
  if (!request.is_tuple() || request.elements().size() != 2 ||
      !request.elements()[0].is_atom("is_auth"))
    return false;
  from = &call[1].elements()[0];
  tag = &call[1].elements()[1];
  return from->is_pid();
}

}  // namespace

bool carries_message(std::int64_t operation) {
  switch (operation) {
    case op::send:
    case op::reg_send:
    case op::send_tt:
    case op::reg_send_tt:
    case op::send_sender:
    case op::send_sender_tt:
    case op::payload_exit:
    case op::payload_exit_tt:
    case op::payload_exit2:
    case op::payload_exit2_tt:
    case op::payload_monitor_p_exit:
    case op::spawn_request:
    case op::spawn_request_tt:
    case op::alias_send:
    case op::alias_send_tt:
      return true;
    default:
      return false;
  }
}

Result<ControlFrame> decode_frame(std::string_view bytes) {
  if (bytes.empty() || static_cast<unsigned char>(bytes[0]) != pass_through)
    return bad_frame("not a pass-through frame");
  std::size_t at = 1;
  auto control = read_term(bytes, at);
  if (!control) return control.reason();
  const Term& c = control.value();
  if (!c.is_tuple() || c.elements().empty() || !c.elements()[0].is_integer() ||
      c.elements()[0].is_big())
    return bad_frame("the control message is not a tuple starting with an integer");
  ControlFrame frame{c, std::nullopt};
  const std::int64_t operation = frame.operation();
  // An operation not known here may carry a message; one known to carry none may not.
  if (carries_message(operation) || (!carries_nothing(operation) && at < bytes.size())) {
    auto message = read_term(bytes, at);
    if (!message) return message.reason();
    frame.message = std::move(message).value();
  }
  if (at != bytes.size()) return bad_frame("bytes after the last term");
  return frame;
}

std::string encode_frame(const Term& control, const std::optional<Term>& message) {
  std::string out(1, static_cast<char>(pass_through));
  const etf::EncodeOptions utf8{.minor_version = 2};
  out += etf::encode(control, utf8);
  if (message) out += etf::encode(*message, utf8);
  return out;
}

std::optional<std::string> answer(const ControlFrame& frame, const ExternalPid& self) {
  const std::int64_t operation = frame.operation();
  if (operation != op::reg_send && operation != op::reg_send_tt) return std::nullopt;
  const auto control = frame.control.elements();
  if (control.size() < 4 || !control[3].is_atom("net_kernel") || !frame.message)
    return std::nullopt;
  const Term* from = nullptr;
  const Term* tag = nullptr;
  if (!is_auth_call(*frame.message, from, tag)) return std::nullopt;
  Term reply = Term::tuple({*tag, Term::atom("yes")});
  if (const Term* alias = alias_of(*tag))
    return encode_frame(Term::tuple({op::alias_send, Term::pid(self), *alias}), reply);
  return encode_frame(Term::tuple({op::send, Term::atom(""), *from}), reply);
}

}  // namespace otp::dist::detail
