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

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "otp/testing/http_client.hpp"

class Service {
 public:
  explicit Service(std::vector<std::string> args = {}) {
    std::vector<std::string> argv{OTP_PROGRAM, "serve", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // no service outlives an aborted test
      dup2(out[1], STDOUT_FILENO);
      dup2(out[1], STDERR_FILENO);  // the log too
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    close(out[1]);
    out_ = out[0];
    // "HangTen serving http://127.0.0.1:40123 (memory stash); ..."
    static const std::regex url(R"(serving http://([0-9.]+):([0-9]+))");
    std::smatch m;
    while (!std::regex_search(output_, m, url)) {
      if (!read_some(std::chrono::seconds(30)))
        throw std::runtime_error("hang_ten serve did not start; it printed: " + output_);
    }
    port_ = static_cast<std::uint16_t>(std::stoi(m[2]));
  }
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;
  ~Service() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
  }

  std::uint16_t port() const { return port_; }
  otp::testing::HttpClient client() const { return otp::testing::HttpClient("127.0.0.1", port_); }

  // SIGTERM, then the exit status (128 + signal when a signal ended it).
  int stop() { return end(SIGTERM); }
  // SIGKILL, as a crash of the machine would.
  void kill9() { end(SIGKILL); }
  // Everything it printed (and logged) so far.
  const std::string& output() {
    while (read_some(std::chrono::milliseconds(0))) {
    }
    return output_;
  }

 private:
  int end(int sig) {
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    while (read_some(std::chrono::milliseconds(0))) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  bool read_some(std::chrono::milliseconds timeout) {
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buf[4096];
    const ssize_t n = read(out_, buf, sizeof buf);
    if (n <= 0) return false;
    output_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::uint16_t port_ = 0;
  std::string output_;
};
