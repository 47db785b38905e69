// A session's CSRF token: 32 bytes from the operating system's random generator, written in
// base64url without padding (43 characters). It is compared in constant time, and it never
// shows up in a log line, `tree`, `ps` or the observer: its formatter prints #Token<redacted>.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <sys/random.h>

namespace hang_ten {

class Token {
 public:
  static constexpr std::size_t bytes = 32;
  static constexpr std::size_t length = 43;  // base64url of 32 bytes, no padding

  Token() = default;  // none yet

  // A fresh token. getrandom(2) blocks only until the kernel's generator is seeded at boot.
  static Token generate() {
    // exercise: token-generate — 32 bytes from getrandom(2) (loop: it may give fewer), base64url
    std::array<unsigned char, bytes> raw{};
    for (std::size_t got = 0; got < raw.size();) {
      const ssize_t n = getrandom(raw.data() + got, raw.size() - got, 0);
      if (n < 0) throw std::runtime_error("getrandom failed");
      got += static_cast<std::size_t>(n);
    }
    return Token(base64url(raw));
    // end exercise
  }

  // A token read back from a stash.
  static Token from_text(std::string text) { return Token(std::move(text)); }

  // Whether `candidate` is this token. The time it takes depends on the candidate's length,
  // which is public, never on how many of its characters are right.
  bool matches(std::string_view candidate) const {
    // exercise: token-matches — constant time: OR the XOR of every byte, no early return
    if (candidate.size() != text_.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < text_.size(); ++i) {
      diff |= static_cast<unsigned char>(text_[i] ^ candidate[i]);
    }
    return diff == 0;
    // end exercise
  }

  // The token itself, for its owner only (the reply to the one who created the session).
  const std::string& reveal() const { return text_; }
  bool empty() const { return text_.empty(); }

 private:
  explicit Token(std::string text) : text_(std::move(text)) {}

  static std::string base64url(const std::array<unsigned char, bytes>& raw) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char b : raw) {
      acc = (acc << 8) | b;
      for (bits += 8; bits >= 6; bits -= 6) out += alphabet[(acc >> (bits - 6)) & 63];
    }
    if (bits > 0) out += alphabet[(acc << (6 - bits)) & 63];
    return out;
  }

  std::string text_;
};

}  // namespace hang_ten

template <>
struct fmt::formatter<hang_ten::Token> : fmt::formatter<std::string_view> {
  auto format(const hang_ten::Token&, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "#Token<redacted>");
  }
};
