// Test support: drives a built console program (a stage's hang_ten) as a user would, a whole
// script at once (run_console), one command at a time (ConsoleSession), reading each answer
// before sending the next command, or keystroke by keystroke on a terminal (PtySession), for
// what only happens at the interactive prompt: line editing, Ctrl-C, Ctrl-D, history, Tab.
// POSIX only; PtySession needs libutil's forkpty (link `util`).
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

namespace otp::testing {

inline bool read_line(FILE* from, std::string& line) {
  line.clear();
  for (int c; (c = std::fgetc(from)) != EOF;) {
    if (c == '\n') return true;
    line += static_cast<char>(c);
  }
  return !line.empty();
}

// Runs `<binary> <args>` through the shell, its logs (stderr) dropped; returns its output lines.
inline std::vector<std::string> run_console(const std::string& binary, const std::string& args) {
  std::vector<std::string> lines;
  FILE* out = popen((binary + " " + args + " 2>/dev/null").c_str(), "r");
  if (out == nullptr) return lines;
  for (std::string line; read_line(out, line);) lines.push_back(line);
  pclose(out);
  return lines;
}

// A console kept running between commands.
class ConsoleSession {
 public:
  explicit ConsoleSession(const std::string& binary, const std::string& args = "") {
    int in[2];
    int out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;  // dup2 clears it
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(open("/dev/null", O_WRONLY), 2);
      const std::string command = "exec " + binary + " " + args;
      execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
  }
  ConsoleSession(const ConsoleSession&) = delete;
  ConsoleSession& operator=(const ConsoleSession&) = delete;
  ~ConsoleSession() {
    if (to_ != nullptr) std::fclose(to_);  // end of input: the console exits
    if (from_ != nullptr) std::fclose(from_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }

  // Sends one command and returns the first line of its answer.
  std::string operator()(const std::string& command) {
    std::string line;
    if (to_ == nullptr) return line;
    std::fputs((command + "\n").c_str(), to_);
    std::fflush(to_);
    read_line(from_, line);
    return line;
  }

 private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

// A fresh directory under the system's temporary one, removed with what it holds.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "hang_ten.XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A console on a pseudo-terminal: keystrokes in, the screen's bytes (echo, prompts, answers,
// terminal escapes) out. Every wait is bounded; a wait that runs out returns false, it never
// decides a test by how long something took.
class PtySession {
 public:
  static constexpr std::chrono::seconds bound{10};

  // Runs `binary args...` with `env` set on top of the test's own environment (a value of
  // nullopt unsets the variable).
  PtySession(const std::string& binary, const std::vector<std::string>& args,
             const std::vector<std::pair<std::string, std::optional<std::string>>>& env) {
    winsize size{};
    size.ws_row = 24;
    size.ws_col = 80;
    pid_ = forkpty(&fd_, nullptr, nullptr, &size);
    if (pid_ == 0) {
      for (const auto& [name, value] : env) {
        if (value) {
          setenv(name.c_str(), value->c_str(), 1);
        } else {
          unsetenv(name.c_str());
        }
      }
      std::vector<char*> argv{const_cast<char*>(binary.c_str())};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    if (pid_ < 0) fd_ = -1;
  }
  PtySession(const PtySession&) = delete;
  PtySession& operator=(const PtySession&) = delete;
  ~PtySession() {
    if (pid_ > 0 && !status_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }

  bool started() const { return pid_ > 0 && fd_ >= 0; }
  // The console's process (to send it a signal).
  pid_t pid() const { return pid_; }

  // Types `keys` as they are: "\x03" is Ctrl-C, "\x04" Ctrl-D, "\t" Tab, "\x1b[A" the Up arrow.
  void type(std::string_view keys) {
    while (fd_ >= 0 && !keys.empty()) {
      const ssize_t n = write(fd_, keys.data(), keys.size());
      if (n <= 0) return;
      keys.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Until the screen shows `text` past what earlier waits consumed; consumes up to its end.
  bool wait_for(std::string_view text) {
    const auto give_up = std::chrono::steady_clock::now() + bound;
    for (;;) {
      if (const std::size_t at = screen_.find(text, seen_); at != std::string::npos) {
        seen_ = at + text.size();
        return true;
      }
      if (!read_some(give_up)) return false;
    }
  }

  // Until the program reads the keyboard key by key (a line editor runs: the terminal is out of
  // canonical mode), or, with `editing` false, line by line again. Keys typed a moment too early
  // would meet the terminal's own line discipline instead of the console's.
  bool wait_for_editing(bool editing = true) {
    const auto give_up = std::chrono::steady_clock::now() + bound;
    for (termios t{}; tcgetattr(fd_, &t) == 0;) {
      if (((t.c_lflag & ICANON) == 0) == editing) return true;
      if (std::chrono::steady_clock::now() >= give_up) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 1) > 0) read_some(give_up);  // the terminal has no event for a mode change
    }
    return false;
  }

  // Until the program exits; its exit status, or nullopt if it is still running at the bound or
  // ended by a signal. Reads the screen to the end.
  std::optional<int> wait_exit() {
    const auto give_up = std::chrono::steady_clock::now() + bound;
    while (read_some(give_up)) {
    }
    for (;;) {
      int status = 0;
      if (const pid_t r = waitpid(pid_, &status, WNOHANG); r == pid_) {
        status_ = status;
        break;
      } else if (r < 0) {
        return std::nullopt;
      }
      if (std::chrono::steady_clock::now() >= give_up) return std::nullopt;
      pollfd none{-1, 0, 0};
      poll(&none, 0, 10);  // the pty closed just before the exit: a moment for it
    }
    if (!WIFEXITED(*status_)) return std::nullopt;
    return WEXITSTATUS(*status_);
  }

  // Everything shown so far, and what came after the last successful wait_for.
  const std::string& screen() const { return screen_; }
  std::string rest() const { return screen_.substr(seen_); }

 private:
  // Reads what the terminal has, waiting for it until `give_up`; false at the bound or the end.
  bool read_some(std::chrono::steady_clock::time_point give_up) {
    if (fd_ < 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        give_up - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (const int r = poll(&p, 1, static_cast<int>(left.count())); r <= 0)
      return r < 0 && errno == EINTR;
    char buf[4096];
    const ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) return false;  // EIO: the program has gone, and the terminal with it
    screen_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string screen_;
  std::size_t seen_ = 0;
  std::optional<int> status_;
};

inline bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

// The pid in "{:ok, <0.N.0>}".
inline std::string pid_of(const std::string& ok) { return ok.substr(6, ok.size() - 7); }

}  // namespace otp::testing
