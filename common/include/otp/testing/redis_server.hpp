// Test support: a real redis-server of the test's own, never the machine's.
//
// RedisServer starts `redis-server` (Debian's package, see scripts/deps.sh) bound to 127.0.0.1
// on a free port, with no persistence (`--save "" --appendonly no`) and a fresh temporary
// directory as `--dir` (its log is `redis.log` there), and returns once the server has logged that
// it is ready and answers PING.
// The port is found by binding port 0 and reading what the kernel chose; should another program
// take it before redis does, redis exits and the next free port is tried. `stop()` and `start()`
// end and restart the server on the same port (tests of reconnection and of callers waiting on a
// server that went away); `kill()` ends it with SIGKILL, as a crash would. The destructor stops
// the server and removes the directory. The server is a ChildProcess (child_process.hpp): it
// gets SIGTERM when the test process dies, so an aborted test leaves no server behind, and keeps
// none of the caller's descriptors: a socket the caller closes is closed, even when the server
// was (re)started while it was open.
// POSIX (Linux) only; blocking; meant for test code, not for processes of the runtime.
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "otp/testing/child_process.hpp"

namespace otp::testing {

class RedisServer {
 public:
  struct Options {
    std::string binary = "redis-server";  // looked up in PATH
    std::chrono::milliseconds start_timeout{10'000};
    std::chrono::milliseconds stop_timeout{10'000};
    std::vector<std::string> extra_args;  // e.g. {"--maxmemory", "1mb"}
  };

  RedisServer() : RedisServer(Options{}) {}
  explicit RedisServer(Options options) : options_(std::move(options)) {
    std::string dir_template = (std::filesystem::temp_directory_path() / "otp-redis-XXXXXX");
    if (::mkdtemp(dir_template.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "RedisServer: mkdtemp");
    }
    dir_ = dir_template;
    for (int attempt = 0;; ++attempt) {
      port_ = free_port();
      if (launch()) return;
      if (attempt == 4) {
        std::filesystem::remove_all(dir_);
        throw std::runtime_error("RedisServer: redis-server did not start:\n" + log());
      }
    }
  }

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  ~RedisServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://" + host_ + ":" + std::to_string(port_); }
  const std::filesystem::path& dir() const { return dir_; }
  bool running() const { return child_.has_value(); }

  // Starts the server again on the same port; throws if it does not come up.
  void start() {
    if (running()) return;
    const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    while (!launch()) {  // the port may take a moment to be free again
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("RedisServer: redis-server did not restart on port " +
                                 std::to_string(port_) + ":\n" + log());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // SIGTERM and wait (SIGKILL after stop_timeout): the server closes its connections and exits.
  void stop() { end(SIGTERM); }
  // SIGKILL: the server vanishes mid-conversation, as in a crash.
  void kill() { end(SIGKILL); }

  // The server's log so far.
  std::string log() const {
    std::ifstream in(dir_ / "redis.log");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  static std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "RedisServer: socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t length = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      const int error = errno;
      ::close(fd);
      throw std::system_error(error, std::generic_category(), "RedisServer: bind port 0");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  // Forks redis-server on port_ and waits until it answers; false if it exited first.
  bool launch() {
    // clang-format off
    std::vector<std::string> args = {
        options_.binary,
        "--port", std::to_string(port_),
        "--bind", host_,
        "--save", "",
        "--appendonly", "no",
        "--dir", dir_.string(),
        "--logfile", (dir_ / "redis.log").string(),
        "--daemonize", "no",
        "--protected-mode", "yes"};
    // clang-format on
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    std::error_code ignored;
    std::filesystem::remove(dir_ / "redis.log", ignored);
    child_.emplace(std::move(args),
                   ChildProcess::Options{.capture_output = false, .death_signal = SIGTERM});

    const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!child_->running()) {
        const int status = child_->status().value_or(-1);
        child_.reset();
        if (status == 127) {
          throw std::runtime_error("RedisServer: cannot run " + options_.binary +
                                   " (install it: scripts/deps.sh)");
        }
        return false;
      }
      // Our server, not one that took the port meanwhile: it logged to our directory.
      if (log().find("Ready to accept connections") != std::string::npos && answers_ping()) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    end(SIGKILL);
    return false;
  }

  bool answers_ping() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    timeval timeout{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
    bool pong = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      constexpr std::string_view ping = "*1\r\n$4\r\nPING\r\n";
      if (::send(fd, ping.data(), ping.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(ping.size())) {
        std::string answer;
        char chunk[64];
        while (answer.size() < 7) {
          const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
          if (n <= 0) break;
          answer.append(chunk, static_cast<std::size_t>(n));
        }
        pong = answer.starts_with("+PONG\r\n");  // "-LOADING ..." means: not yet
      }
    }
    ::close(fd);
    return pong;
  }

  void end(int signal) {
    if (!child_) return;
    child_->stop(signal, options_.stop_timeout);
    child_.reset();
  }

  Options options_;
  std::string host_ = "127.0.0.1";
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::optional<ChildProcess> child_;
};

}  // namespace otp::testing
