// Test support: `hang_ten serve` as a child process on a free loopback port, and a client for it.
//
//   Service service({"--stash", redis.url()});   // returns once it printed its URL
//   auto client = service.client();              // otp::testing::HttpClient
//   EXPECT_EQ(service.stop(), 0);                // SIGTERM, then its exit status
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "otp/testing/child_process.hpp"
#include "otp/testing/http_client.hpp"

class Service {
 public:
  explicit Service(std::vector<std::string> args = {}) : process_(argv(std::move(args))) {
    // "HangTen serving http://127.0.0.1:40123 (memory stash); ..."
    static const std::regex url(R"(serving http://([0-9.]+):([0-9]+))");
    std::smatch m;
    if (!process_.wait_for_output(" stash); ") || !std::regex_search(output(), m, url))
      throw std::runtime_error("hang_ten serve did not start; it printed: " + output());
    port_ = static_cast<std::uint16_t>(std::stoi(m[2]));
  }

  std::uint16_t port() const { return port_; }
  otp::testing::HttpClient client() const { return otp::testing::HttpClient("127.0.0.1", port_); }

  // SIGTERM, then the exit status (128 + signal when a signal ended it; killed after 30 s).
  int stop() { return process_.stop(SIGTERM); }
  // SIGKILL, as a crash of the machine would.
  void kill9() { process_.stop(SIGKILL); }
  // Everything it printed (and logged) so far.
  const std::string& output() { return process_.output(); }

 private:
  static std::vector<std::string> argv(std::vector<std::string> args) {
    std::vector<std::string> out{OTP_PROGRAM, "serve", "--listen", "127.0.0.1:0"};
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }

  otp::testing::ChildProcess process_;
  std::uint16_t port_ = 0;
};
