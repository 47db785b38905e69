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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "otp/testing/http_client.hpp"

class Service {
 public:
  explicit Service(std::vector<std::string> args = {}) {
    std::vector<std::string> argv{OTP_PROGRAM, "serve", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    // Its output goes to a file, which never fills up as a pipe would.
    char path[] = "/tmp/hang_ten-serve-XXXXXX";
    out_ = mkstemp(path);
    if (out_ < 0) throw std::runtime_error("mkstemp failed");
    unlink(path);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // no service outlives an aborted test
      dup2(out_, STDOUT_FILENO);
      dup2(out_, STDERR_FILENO);  // the log too
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    // "HangTen serving http://127.0.0.1:40123 (memory stash); ..."
    static const std::regex url(R"(serving http://([0-9.]+):([0-9]+))");
    std::smatch m;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!std::regex_search(output(), m, url)) {
      if (std::chrono::steady_clock::now() > give_up || waitpid(pid_, nullptr, WNOHANG) != 0)
        throw std::runtime_error("hang_ten serve did not start; it printed: " + output_);
      usleep(1000);
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
    char buf[4096];
    for (ssize_t n; (n = pread(out_, buf, sizeof buf, static_cast<off_t>(output_.size()))) > 0;)
      output_.append(buf, static_cast<std::size_t>(n));
    return output_;
  }

 private:
  // Sends `sig`; a service still running 30 s later is killed (status 128 + 9).
  int end(int sig) {
    kill(pid_, sig);
    int status = 0;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > give_up) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      usleep(1000);
    }
    pid_ = -1;
    output();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::uint16_t port_ = 0;
  std::string output_;
};
