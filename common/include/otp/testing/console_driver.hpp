// Test support: drives a built console program (a stage's hang_ten) as a user would, a whole
// script at once (run_console), or one command at a time (ConsoleSession), reading each answer
// before sending the next command. POSIX only.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

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

inline bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// The pid in "{:ok, <0.N.0>}".
inline std::string pid_of(const std::string& ok) { return ok.substr(6, ok.size() - 7); }

}  // namespace otp::testing
