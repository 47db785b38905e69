// MD5 (RFC 1321, from OpenSSL), for the distribution handshake's digests only: the handshake proves that both
// nodes know the cookie with MD5(cookie ++ challenge as decimal text). Not for anything that
// needs a secure hash.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace otp::dist::detail {

using Digest = std::array<std::uint8_t, 16>;

Digest md5(std::string_view data);

}  // namespace otp::dist::detail
