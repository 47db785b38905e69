// MD5 as RFC 1321 specifies it: 64-byte blocks, four rounds of sixteen steps on four 32-bit
// words, little-endian throughout. The round constants are the integer parts of
// 2^32 * |sin(i + 1)|, computed once (a double represents each exactly enough).
#include "otp/dist/detail/md5.hpp"

#include <cmath>
#include <cstddef>
#include <cstring>

namespace otp::dist::detail {

namespace {

struct Constants {
  std::array<std::uint32_t, 64> k{};
  Constants() {
    for (std::size_t i = 0; i < 64; ++i)
      k[i] = static_cast<std::uint32_t>(
          std::floor(std::fabs(std::sin(static_cast<double>(i + 1))) * 4294967296.0));
  }
};

constexpr std::array<unsigned, 64> shifts{
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,  //
    5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,  //
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,  //
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

std::uint32_t rotl(std::uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

void block(std::array<std::uint32_t, 4>& h, const std::uint8_t* p) {
  static const Constants c;
  std::uint32_t m[16];
  for (std::size_t i = 0; i < 16; ++i)
    m[i] = std::uint32_t{p[4 * i]} | std::uint32_t{p[4 * i + 1]} << 8 |
           std::uint32_t{p[4 * i + 2]} << 16 | std::uint32_t{p[4 * i + 3]} << 24;
  std::uint32_t a = h[0], b = h[1], cc = h[2], d = h[3];
  for (std::size_t i = 0; i < 64; ++i) {
    std::uint32_t f = 0;
    std::size_t g = 0;
    if (i < 16) {
      f = (b & cc) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & cc);
      g = (5 * i + 1) % 16;
    } else if (i < 48) {
      f = b ^ cc ^ d;
      g = (3 * i + 5) % 16;
    } else {
      f = cc ^ (b | ~d);
      g = (7 * i) % 16;
    }
    const std::uint32_t next = b + rotl(a + f + c.k[i] + m[g], shifts[i]);
    a = d;
    d = cc;
    cc = b;
    b = next;
  }
  h[0] += a;
  h[1] += b;
  h[2] += cc;
  h[3] += d;
}

}  // namespace

Digest md5(std::string_view data) {
  std::array<std::uint32_t, 4> h{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
  std::size_t whole = data.size() / 64 * 64;
  for (std::size_t at = 0; at < whole; at += 64) block(h, bytes + at);
  // The tail, a 1 bit, zeros up to 56 bytes mod 64, the length in bits (little-endian).
  std::uint8_t tail[128] = {};
  const std::size_t rest = data.size() - whole;
  if (rest > 0) std::memcpy(tail, bytes + whole, rest);
  tail[rest] = 0x80;
  const std::size_t tail_size = rest < 56 ? 64 : 128;
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (std::size_t i = 0; i < 8; ++i)
    tail[tail_size - 8 + i] = static_cast<std::uint8_t>(bits >> (8 * i));
  for (std::size_t at = 0; at < tail_size; at += 64) block(h, tail + at);
  Digest out{};
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h[i] >> (8 * j));
  return out;
}

}  // namespace otp::dist::detail
