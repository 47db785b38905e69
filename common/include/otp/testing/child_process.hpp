// otp::testing::ChildProcess — a program a test starts, reads and always stops: the one way
// the tests run a server of their own (RedisServer, stage 05's `hang_ten serve`).
//
//   otp::testing::ChildProcess service({program, "serve", "--listen", "127.0.0.1:0"});
//   service.wait_for_output("serving http://");   // what it printed so far, once it has this
//   EXPECT_EQ(service.stop(SIGTERM), 0);          // its exit status; 128 + n after signal n
//
// The child gets `death_signal` when the test process dies (PR_SET_PDEATHSIG), so an aborted
// test leaves nothing running, and keeps none of the test's descriptors but stdin, stdout and
// stderr (a socket the test closes is closed). Its output, when captured, goes to an unlinked
// temporary file, which never fills up and blocks the child as a pipe would. The destructor
// kills a child still running (SIGKILL) and reaps it. POSIX (Linux) only; blocking; for tests.
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace otp::testing {

class ChildProcess {
 public:
  struct Options {
    bool capture_output = true;  // stdout and stderr into output(); else the test's own
    int death_signal = SIGKILL;  // what the child gets when the test process dies
  };

  // Runs argv[0] (looked up in PATH when it has no '/') with argv. One that cannot be run at
  // all exits at once with status 127.
  explicit ChildProcess(std::vector<std::string> argv) : ChildProcess(std::move(argv), {}) {}
  ChildProcess(std::vector<std::string> argv, Options options) {
    if (argv.empty()) throw std::invalid_argument("ChildProcess: no program");
    if (options.capture_output) {
      char path[] = "/tmp/otp-child-XXXXXX";
      out_ = ::mkostemp(path, O_CLOEXEC);
      if (out_ < 0) throw std::system_error(errno, std::generic_category(), "mkostemp");
      ::unlink(path);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    // Closed in the child by its exec (or its exit): until then a signal sent to the child would
    // reach the test's own handlers (a copy of them lives in the child until the exec), and be
    // lost. So the constructor returns only once the program runs.
    int exec_seen[2];
    if (::pipe2(exec_seen, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe2");
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, options.death_signal);
      if (::getppid() != parent) _exit(1);  // the test died before prctl
      if (out_ >= 0) {
        ::dup2(out_, STDOUT_FILENO);
        ::dup2(out_, STDERR_FILENO);
      }
      // The program starts with no signal blocked or ignored, whatever the test's thread had.
      sigset_t none;
      ::sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) ::signal(sig, SIG_DFL);
      ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // kept until the exec: exec_seen's end
      ::execvp(args[0], args.data());
      _exit(127);
    }
    ::close(exec_seen[1]);
    char byte = 0;
    while (::read(exec_seen[0], &byte, 1) < 0 && errno == EINTR) {
    }
    ::close(exec_seen[0]);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (running()) stop(SIGKILL);
    if (out_ >= 0) ::close(out_);
  }

  pid_t pid() const { return pid_; }

  // Whether it still runs (a child that has exited is reaped here: status() has its status).
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
    reaped(status);
    return false;
  }
  // Its exit status once it has ended: 128 + n when signal n ended it.
  std::optional<int> status() const { return status_; }

  // Sends `signal` and waits up to `timeout` for the end, then SIGKILL: its exit status.
  int stop(int signal = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    if (pid_ > 0) {
      ::kill(pid_, signal);
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      while (running()) {
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(pid_, SIGKILL);
          int status = 0;
          ::waitpid(pid_, &status, 0);
          reaped(status);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    output();
    return status_.value_or(-1);
  }

  // Everything it printed so far (captured output only).
  const std::string& output() {
    if (out_ < 0) return output_;
    char buf[4096];
    for (ssize_t n; (n = ::pread(out_, buf, sizeof buf, static_cast<off_t>(output_.size()))) > 0;)
      output_.append(buf, static_cast<std::size_t>(n));
    return output_;
  }

  // Until its output holds `text`: true; false when it ended first or `timeout` passed.
  bool wait_for_output(std::string_view text,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (output().find(text) == std::string::npos) {
      if (!running() || std::chrono::steady_clock::now() > deadline)
        return output().find(text) != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

 private:
  void reaped(int status) {
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
  std::optional<int> status_;
};

}  // namespace otp::testing
