// The frames a connection carries once the handshake is done (erl_dist_protocol, "Protocol
// between Connected Nodes"), for the node's connection processes (otp/dist/node.hpp).
//
// Without a distribution header (the node does not advertise dist_hdr_atom_cache) a frame is the
// pass-through byte 112, the control message (a tuple whose first element is the operation),
// and, for the operations that carry one, the message (or the exit reason, or the spawn
// arguments); each term as term_to_binary writes it, version byte included:
//
//   112 | 131 {6, FromPid, '', net_kernel} | 131 {'$gen_call', {From, Tag}, {is_auth, Node}}
//
// decode_frame reads one, checking the whole frame: what is not that layout (another first
// byte, a control message that is not a tuple starting with an integer, a missing message,
// bytes after the last term, a term that does not decode) is an error, never a crash.
//
// answer gives the node's own answer to a frame it handles by itself, or nothing. Today that is
// net_kernel's is_auth, which net_adm:ping asks: a REG_SEND to net_kernel carrying
// {'$gen_call', {From, Tag}, {is_auth, Node}} is answered {Tag, yes}, as gen:reply sends it: to
// the alias when Tag is [alias | Alias] (or [[alias | Alias] | _]), with ALIAS_SEND; to From
// otherwise, with SEND.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "otp/dist/term.hpp"
#include "otp/result.hpp"

namespace otp::dist::detail {

inline constexpr unsigned char pass_through = 112;

// The operations of the control messages this file names (erts's DOP_ values).
namespace op {
inline constexpr std::int64_t send = 2;
inline constexpr std::int64_t reg_send = 6;
inline constexpr std::int64_t send_tt = 12;
inline constexpr std::int64_t reg_send_tt = 16;
inline constexpr std::int64_t send_sender = 22;
inline constexpr std::int64_t send_sender_tt = 23;
inline constexpr std::int64_t payload_exit = 24;
inline constexpr std::int64_t payload_exit_tt = 25;
inline constexpr std::int64_t payload_exit2 = 26;
inline constexpr std::int64_t payload_exit2_tt = 27;
inline constexpr std::int64_t payload_monitor_p_exit = 28;
inline constexpr std::int64_t spawn_request = 29;
inline constexpr std::int64_t spawn_request_tt = 30;
inline constexpr std::int64_t alias_send = 33;
inline constexpr std::int64_t alias_send_tt = 34;
}  // namespace op

struct ControlFrame {
  Term control;                 // a tuple; its first element an integer, the operation
  std::optional<Term> message;  // for the operations that carry one
  std::int64_t operation() const { return control.elements()[0].as_int(); }
};

// Whether the control message of `operation` is followed by a message (or a reason, or the
// arguments of a spawn).
bool carries_message(std::int64_t operation);

// One frame's bytes (without the length): the error is {bad_frame, "what"} or the codec's
// {bad_etf, Offset, "what"}, Offset counting from the frame's first byte.
Result<ControlFrame> decode_frame(std::string_view bytes);
// A frame's bytes (without the length), as decode_frame reads them.
std::string encode_frame(const Term& control, const std::optional<Term>& message = {});

// The frame this node sends back to `frame` by itself, or nothing; `self` is the pid it sends
// from.
std::optional<std::string> answer(const ControlFrame& frame, const ExternalPid& self);

}  // namespace otp::dist::detail
