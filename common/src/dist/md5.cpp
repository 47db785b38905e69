// MD5 through OpenSSL's libcrypto: the handshake's digests only (otp/dist/detail/md5.hpp).
#include "otp/dist/detail/md5.hpp"

#include <stdexcept>

#include <openssl/evp.h>

namespace otp::dist::detail {

Digest md5(std::string_view data) {
  Digest digest{};
  unsigned int size = 0;
  // EVP_md5 is in OpenSSL's default provider; a build that leaves it out (FIPS-only) cannot
  // take part in Erlang's handshake at all.
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_md5(), nullptr) != 1 ||
      size != digest.size())
    throw std::runtime_error("otp::dist: OpenSSL gives no MD5, which the handshake needs");
  return digest;
}

}  // namespace otp::dist::detail
