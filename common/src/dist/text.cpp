#include "otp/dist/detail/text.hpp"

namespace otp::dist::detail {

namespace {

// Calls f(code_point) for each character; false at the first malformed one.
template <class F>
bool each_code_point(std::string_view s, F&& f) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t c = 0;
    if (b0 < 0x80) {
      n = 1;
      c = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      n = 2;
      c = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      n = 3;
      c = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      n = 4;
      c = b0 & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      c = (c << 6) | (b & 0x3F);
    }
    static constexpr std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < least[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
    f(c);
    i += n;
  }
  return true;
}

}  // namespace

std::optional<std::vector<std::uint32_t>> utf8_code_points(std::string_view s) {
  std::vector<std::uint32_t> out;
  out.reserve(s.size());
  if (!each_code_point(s, [&](std::uint32_t c) { out.push_back(c); })) return std::nullopt;
  return out;
}

std::optional<std::size_t> utf8_length(std::string_view s) {
  std::size_t n = 0;
  if (!each_code_point(s, [&](std::uint32_t) { ++n; })) return std::nullopt;
  return n;
}

std::optional<std::size_t> latin1_length(std::string_view utf8) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < utf8.size(); ++i, ++n) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    if (b >= 0x80) {
      if (b != 0xC2 && b != 0xC3) return std::nullopt;
      ++i;
    }
  }
  return n;
}

void append_latin1(std::string& out, std::string_view utf8) {
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    if (b < 0x80) {
      out.push_back(static_cast<char>(b));
    } else {
      out.push_back(
          static_cast<char>(((b & 0x03) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3F)));
    }
  }
}

void append_utf8(std::string& out, std::uint32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string latin1_to_utf8(std::string_view latin1) {
  std::string out;
  out.reserve(latin1.size());
  for (char c : latin1) append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

}  // namespace otp::dist::detail
