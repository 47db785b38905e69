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

// The number of code points of `utf8`, or nothing when it is not well-formed UTF-8; allocates
// nothing.
std::optional<std::size_t> utf8_length(std::string_view utf8);

void append_utf8(std::string& out, std::uint32_t code_point);

// `latin1` (one byte per character) as UTF-8.
std::string latin1_to_utf8(std::string_view latin1);

// Whether every character of well-formed `utf8` is below 256, and then how many there are.
std::optional<std::size_t> latin1_length(std::string_view utf8);
// Appends well-formed `utf8` whose characters are all below 256 as Latin-1.
void append_latin1(std::string& out, std::string_view utf8);

}  // namespace otp::dist::detail
