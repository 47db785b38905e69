// otp::http::add_flags: the service's flags fill Options, and a mistake is refused by name.
#include "otp/http/flags.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;

// Parses `args` (after the program's name) into fresh Options; the error's text, if any.
std::string parse(std::vector<std::string> args, otp::http::Options& options) {
  CLI::App app("test");
  otp::http::add_flags(app, options);
  std::vector<const char*> argv{"test"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(HttpFlags, WithoutFlagsTheOptionsKeepTheirDefaultsAndOnlyLocalCallers) {
  otp::http::Options options;
  ASSERT_EQ(parse({}, options), "");
  EXPECT_EQ(options.address, "127.0.0.1");
  EXPECT_EQ(options.port, 4000);
  EXPECT_EQ(options.body_limit, otp::http::Options{}.body_limit);
  for (const char* name : {"localhost", "127.0.0.1", "::1", "[::1]"})
    EXPECT_TRUE(has(options.allowed_hosts, name)) << name;
  ASSERT_TRUE(options.allowed_origins);
  EXPECT_TRUE(options.allowed_origins->empty());  // the service's own origin only
}

TEST(HttpFlags, EachFlagFillsItsOption) {
  otp::http::Options options;
  ASSERT_EQ(parse({"--listen", "0.0.0.0:8080", "--body-limit", "10", "--header-limit", "20",
                   "--max-connections", "30", "--idle-timeout", "2s", "--read-timeout", "300ms",
                   "--allowed-host", "api.example", "--allowed-host", "b.example",
                   "--allowed-origin", "http://app.example:3000"},
                  options),
            "");
  EXPECT_EQ(options.address, "0.0.0.0");
  EXPECT_EQ(options.port, 8080);
  EXPECT_EQ(options.body_limit, 10u);
  EXPECT_EQ(options.header_limit, 20u);
  EXPECT_EQ(options.max_connections, 30u);
  EXPECT_EQ(options.idle_timeout, 2s);
  EXPECT_EQ(options.read_timeout, 300ms);
  for (const char* name : {"localhost", "api.example", "b.example"})  // and --listen's: the
    EXPECT_TRUE(has(options.allowed_hosts, name)) << name;            // server adds it
  ASSERT_TRUE(options.allowed_origins);
  EXPECT_EQ(*options.allowed_origins, std::vector<std::string>{"http://app.example:3000"});
}

TEST(HttpFlags, ABadAddressOrDurationIsRefusedSayingWhy) {
  otp::http::Options options;
  const auto listen = parse({"--listen", "4000"}, options);
  EXPECT_NE(listen.find("expected host:port, e.g. 127.0.0.1:4000"), std::string::npos) << listen;
  const auto port = parse({"--listen", "localhost:70000"}, options);
  EXPECT_NE(port.find("the port must be a number from 0 to 65535"), std::string::npos) << port;
  const auto idle = parse({"--idle-timeout", "soon"}, options);
  EXPECT_NE(idle.find("not a duration: \"soon\" (use e.g. 300ms"), std::string::npos) << idle;
}

}  // namespace
