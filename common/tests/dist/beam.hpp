// Test support for the `dist` tests: an epmd and Erlang nodes of the test's own, on 127.0.0.1,
// each a ChildProcess (otp/testing/child_process.hpp) stopped by its pid at the end.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "otp/testing/child_process.hpp"

namespace dist_test {

// A port the kernel had free a moment ago (bound to port 0, then released).
inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("free_port: no port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline bool accepts_connections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// `epmd -port <free port>`, listening on loopback, until the end of the test.
class EpmdServer {
 public:
  EpmdServer() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_port();
      process_ = std::make_unique<otp::testing::ChildProcess>(std::vector<std::string>{
          "epmd", "-port", std::to_string(port_), "-address", "127.0.0.1"});
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (process_->running() && std::chrono::steady_clock::now() < until) {
        if (accepts_connections(port_)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      process_->stop(SIGKILL);
    }
    throw std::runtime_error("EpmdServer: epmd did not start");
  }
  ~EpmdServer() { process_->stop(SIGKILL); }
  EpmdServer(const EpmdServer&) = delete;
  EpmdServer& operator=(const EpmdServer&) = delete;

  std::uint16_t port() const { return port_; }

  // What `epmd -names` prints for this epmd.
  std::string names() const {
    otp::testing::ChildProcess query({"epmd", "-port", std::to_string(port_), "-names"});
    query.stop(0, std::chrono::seconds(10));  // signal 0: only waits for its end
    return query.output();
  }

 private:
  std::uint16_t port_ = 0;
  std::unique_ptr<otp::testing::ChildProcess> process_;
};

// `erl -name <name> -setcookie <cookie> -noshell -eval <code>`, registered with `epmd`; what
// `code` prints with io:format is its output.
class ErlNode {
 public:
  ErlNode(const EpmdServer& epmd, std::string name, std::string cookie, std::string code)
      : name_(std::move(name)),
        process_({"env", "ERL_EPMD_PORT=" + std::to_string(epmd.port()), "erl", "-name", name_,
                  "-setcookie", std::move(cookie), "-noshell", "-start_epmd", "false", "-eval",
                  std::move(code)}) {}

  const std::string& name() const { return name_; }
  otp::testing::ChildProcess& process() { return process_; }
  bool wait_for_output(std::string_view text) {
    return process_.wait_for_output(text, std::chrono::seconds(30));
  }
  std::string output() { return process_.output(); }

 private:
  std::string name_;
  otp::testing::ChildProcess process_;
};

}  // namespace dist_test
