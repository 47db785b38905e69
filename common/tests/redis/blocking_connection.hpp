// Test code only: a plain blocking POSIX socket to a test's redis-server, to check the RESP codec
// against the real thing before the runtime's own sockets carry it. Reads in chunks of a size the
// test chooses, so that replies arrive split anywhere.
#pragma once

#include <cerrno>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "otp/redis/resp.hpp"

namespace otp_test {

class BlockingConnection {
 public:
  BlockingConnection(const std::string& host, std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    timeval timeout{10, 0};  // a bound for a broken test, never reached by a passing one
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      const int error = errno;
      ::close(fd_);
      throw std::system_error(error, std::generic_category(), "connect");
    }
  }
  BlockingConnection(const BlockingConnection&) = delete;
  BlockingConnection& operator=(const BlockingConnection&) = delete;
  ~BlockingConnection() { ::close(fd_); }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::system_error(errno, std::generic_category(), "send");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Reads until `count` replies are complete; each read takes at most chunk_size() bytes.
  std::vector<otp::redis::Reply> receive(std::size_t count,
                                         const std::function<std::size_t()>& chunk_size) {
    std::vector<otp::redis::Reply> replies;
    std::string chunk;
    while (true) {
      while (replies.size() < count) {
        auto reply = parser_.next();
        if (!reply) break;
        replies.push_back(std::move(*reply));
      }
      if (replies.size() == count) return replies;
      chunk.resize(chunk_size());
      const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
      if (n <= 0) throw std::runtime_error("recv: connection closed or timed out");
      parser_.feed(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
    }
  }

  otp::redis::Reply command(std::initializer_list<std::string_view> args) {
    send(otp::redis::encode(args));
    return receive(1, [] { return std::size_t{4096}; }).front();
  }

 private:
  int fd_ = -1;
  otp::redis::Parser parser_;
};

}  // namespace otp_test
