// The WebSocket frame codec: see ws_frame.hpp.
#include "ws_frame.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/core/detail/sha1.hpp>

namespace otp::http::detail::ws {

namespace {

constexpr std::uint64_t control_limit = 125;

bool known(std::uint8_t op) { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

}  // namespace

std::string encode(Opcode opcode, std::string_view payload, bool fin, std::optional<Mask> mask) {
  std::string out;
  out.reserve(payload.size() + 14);
  out += static_cast<char>((fin ? 0x80 : 0x00) | static_cast<std::uint8_t>(opcode));
  const std::uint8_t mask_bit = mask ? 0x80 : 0x00;
  const std::uint64_t n = payload.size();
  if (n <= 125) {
    out += static_cast<char>(mask_bit | n);
  } else if (n <= 0xFFFF) {
    out += static_cast<char>(mask_bit | 126);
    for (int shift = 8; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
  }
  if (!mask) {
    out += payload;
    return out;
  }
  for (auto b : *mask) out += static_cast<char>(b);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out += static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ (*mask)[i % 4]);
  return out;
}

Decoded decode(std::string_view bytes, bool require_mask, std::size_t limit) {
  Decoded d;
  if (bytes.size() < 2) return d;
  const auto b0 = static_cast<std::uint8_t>(bytes[0]);
  const auto b1 = static_cast<std::uint8_t>(bytes[1]);
  const std::uint8_t op = b0 & 0x0F;
  const bool masked = (b1 & 0x80) != 0;
  d.frame.fin = (b0 & 0x80) != 0;
  d.frame.opcode = static_cast<Opcode>(op);
  if ((b0 & 0x70) != 0 || !known(op) || masked != require_mask) {
    d.status = Status::protocol;
    return d;
  }
  std::size_t at = 2;
  std::uint64_t n = b1 & 0x7F;
  const std::size_t extra = n == 126 ? 2 : n == 127 ? 8 : 0;
  if (bytes.size() < at + extra) return d;
  if (extra != 0) {
    n = 0;
    for (std::size_t i = 0; i < extra; ++i) n = (n << 8) | static_cast<std::uint8_t>(bytes[at + i]);
    at += extra;
    if ((n >> 63) != 0) {  // the most significant bit of a 64-bit length must be 0
      d.status = Status::protocol;
      return d;
    }
  }
  if (is_control(d.frame.opcode) && (!d.frame.fin || n > control_limit)) {
    d.status = Status::protocol;
    return d;
  }
  if (n > limit) {
    d.status = Status::too_big;
    return d;
  }
  Mask mask{};
  if (masked) {
    if (bytes.size() < at + 4) return d;
    for (std::size_t i = 0; i < 4; ++i) mask[i] = static_cast<std::uint8_t>(bytes[at + i]);
    at += 4;
  }
  if (bytes.size() - at < n) return d;
  d.frame.payload.assign(bytes.substr(at, static_cast<std::size_t>(n)));
  if (masked) {
    for (std::size_t i = 0; i < d.frame.payload.size(); ++i)
      d.frame.payload[i] =
          static_cast<char>(static_cast<std::uint8_t>(d.frame.payload[i]) ^ mask[i % 4]);
  }
  d.consumed = at + static_cast<std::size_t>(n);
  d.status = Status::frame;
  return d;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xFF);
  out += reason.substr(0, control_limit - 2);
  return out;
}

std::string accept_key(std::string_view key) {
  namespace bd = boost::beast::detail;
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  bd::sha1_context ctx;
  bd::init(ctx);
  bd::update(ctx, key.data(), key.size());
  bd::update(ctx, guid.data(), guid.size());
  unsigned char digest[bd::sha1_context::digest_size];
  bd::finish(ctx, digest);
  std::string out(bd::base64::encoded_size(sizeof digest), '\0');
  out.resize(bd::base64::encode(out.data(), digest, sizeof digest));
  return out;
}

}  // namespace otp::http::detail::ws
