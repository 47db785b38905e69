// otp::net::Address — a host and a port as a person writes them: "127.0.0.1:4000",
// "localhost:6379", "[::1]:4000".
//
//   auto listen = otp::net::Address::parse(argv[1]);   // throws std::invalid_argument
//   options.address = listen.host;                     // "::1" for "[::1]:4000"
//   options.port = listen.port;
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace otp::net {

struct Address {
  std::string host;  // a name or an address, without the brackets of an IPv6 one
  std::uint16_t port = 0;

  // The host is what comes before the last ':' (brackets around it removed), the port what
  // follows: a number from 0 to 65535. Anything else throws std::invalid_argument with a message
  // fit for the person who typed it: "expected host:port, e.g. 127.0.0.1:4000" or "the port
  // must be a number from 0 to 65535".
  static Address parse(std::string_view text);

  // "host:port", brackets around an IPv6 host: parse's inverse.
  std::string to_string() const;
};

}  // namespace otp::net
