// otp::net::Address (otp/net/address.hpp).
#include "otp/net/address.hpp"

#include <charconv>
#include <stdexcept>

namespace otp::net {

Address Address::parse(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    throw std::invalid_argument("expected host:port, e.g. 127.0.0.1:4000");
  std::string_view host = text.substr(0, colon);
  const std::string_view digits = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (host.empty() || digits.empty() || error != std::errc() ||
      end != digits.data() + digits.size() || port > 65535 ||
      (digits.size() > 1 && digits[0] == '0'))
    throw std::invalid_argument(host.empty() ? "expected host:port, e.g. 127.0.0.1:4000"
                                             : "the port must be a number from 0 to 65535");
  return Address{std::string(host), static_cast<std::uint16_t>(port)};
}

std::string Address::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace otp::net
