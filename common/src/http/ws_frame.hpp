// The WebSocket frame codec (RFC 6455, section 5): pure functions over bytes, used by
// websocket.cpp. Not installed.
//
// A frame: FIN, three reserved bits (no extension is negotiated, so they must be 0), a 4-bit
// opcode, a mask bit, a 7-bit length (126: a 16-bit length follows, 127: a 64-bit one), the
// 4-byte masking key when masked, then the payload. Client frames must be masked, server frames
// are not. Control frames (close, ping, pong) carry at most 125 bytes and are never fragmented.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otp::http::detail::ws {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

constexpr bool is_control(Opcode op) { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

using Mask = std::array<std::uint8_t, 4>;

struct Frame {
  bool fin = true;
  Opcode opcode = Opcode::text;
  std::string payload;  // unmasked
};

// A frame's bytes: masked with `mask` when given (a client's), else unmasked (a server's).
std::string encode(Opcode opcode, std::string_view payload, bool fin = true,
                   std::optional<Mask> mask = std::nullopt);

// What decode found at the front of the bytes.
enum class Status : std::uint8_t {
  frame,      // a whole frame, `consumed` bytes long
  need_more,  // an incomplete frame: wait for more bytes
  protocol,   // a protocol error (close 1002)
  too_big,    // a payload over the limit (close 1009)
};

struct Decoded {
  Status status = Status::need_more;
  Frame frame;
  std::size_t consumed = 0;
};

// Decodes the first frame of `bytes`. A server passes require_mask (client frames must be
// masked); `limit` bounds a frame's payload.
Decoded decode(std::string_view bytes, bool require_mask, std::size_t limit);

// A close frame's payload: the status code, then the reason (cut to fit 125 bytes).
std::string close_payload(std::uint16_t code, std::string_view reason);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
std::string accept_key(std::string_view key);

}  // namespace otp::http::detail::ws
