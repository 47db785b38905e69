// otp::net::Address: host:port as a person types it, and the messages a mistake gets.
#include "otp/net/address.hpp"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace {

using otp::net::Address;

TEST(Address, ParsesAHostAndAPort) {
  EXPECT_EQ(Address::parse("127.0.0.1:4000").host, "127.0.0.1");
  EXPECT_EQ(Address::parse("127.0.0.1:4000").port, 4000);
  EXPECT_EQ(Address::parse("localhost:0").port, 0);
  EXPECT_EQ(Address::parse("redis.internal:65535").port, 65535);
}

TEST(Address, AnIpv6HostLosesItsBracketsAndGetsThemBackWhenPrinted) {
  const Address a = Address::parse("[::1]:4000");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 4000);
  EXPECT_EQ(a.to_string(), "[::1]:4000");
  EXPECT_EQ(Address::parse("127.0.0.1:80").to_string(), "127.0.0.1:80");
}

// Each mistake gets the message that says how to write it.
TEST(Address, AMistakeIsRefusedWithWhatToWriteInstead) {
  auto why = [](const char* text) {
    try {
      Address::parse(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  for (const char* text : {"4000", ":4000", "", "[]:4000"})
    EXPECT_EQ(why(text), "expected host:port, e.g. 127.0.0.1:4000") << text;
  for (const char* text : {"localhost:", "localhost:65536", "localhost:-1", "localhost:40a",
                           "localhost:04000", "localhost: 4000", "localhost:99999999999"})
    EXPECT_EQ(why(text), "the port must be a number from 0 to 65535") << text;
}

}  // namespace
