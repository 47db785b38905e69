// UTF-8 and Latin-1 helpers shared by otp::Term and the ETF codec.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otp::dist::detail {

// The code points of `utf8`, or nothing when it is not well-formed UTF-8 (overlong forms,
// surrogates and code points above 0x10FFFF are refused, as Erlang refuses them).
std::optional<std::vector<std::uint32_t>> utf8_code_points(std::string_view utf8);

void append_utf8(std::string& out, std::uint32_t code_point);

// `latin1` (one byte per character) as UTF-8.
std::string latin1_to_utf8(std::string_view latin1);

// `utf8` as Latin-1 when every character is below 256; nothing otherwise.
std::optional<std::string> utf8_to_latin1(std::string_view utf8);

}  // namespace otp::dist::detail
