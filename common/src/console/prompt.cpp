// The console's prompt (Console::prompt, otp/console.hpp): `hang_ten(1)> `, read by the line
// editor (libedit) with Tab completion (completion.hpp) and history kept in a file
// (history.hpp); Ctrl-C clears the line (interrupts.hpp), Ctrl-D leaves. Each line entered goes
// to perform(), as a line of -e or of stdin does. Log records that come while it waits for a
// key are printed above the prompt, which is drawn again below them (LogAbovePrompt).
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include <editline/readline.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include "../log_line.hpp"
#include "completion.hpp"
#include "history.hpp"
#include "interrupts.hpp"
#include "otp/console.hpp"
#include "otp/logger.hpp"

namespace otp {

using detail::catch_interrupts;
using detail::drain_interrupts;
using detail::history_file;

namespace {

// A log record that comes while the line editor has the terminal (a supervisor's report, a
// process's warning, from any thread) would be written into the middle of the prompt and the
// half-typed line, and the line editor would not know to draw them again. So from the prompt
// until the line is entered, records go into a pipe; the key reader, which waits on it beside
// the keys, clears the prompt's row, prints them and has the line editor draw the prompt and
// the line again below them. Records written while a command runs go to stderr at once, as
// without a console. A sink that the program set before the prompt is left in place: its
// records are not the terminal's.
class LogAbovePrompt;
LogAbovePrompt* g_log = nullptr;  // while prompt() runs: the key reader's

class LogAbovePrompt {
 public:
  LogAbovePrompt() {
    if (pipe2(fds_, O_NONBLOCK | O_CLOEXEC) != 0) return;
    log::Sink theirs = log::set_sink([this](const LogRecord& r) { take(r); });
    installed_ = !theirs;
    if (!installed_) log::set_sink(std::move(theirs));
    g_log = this;
  }
  ~LogAbovePrompt() {
    g_log = nullptr;
    if (installed_) log::set_sink({});
    for (const int fd : fds_)
      if (fd >= 0) close(fd);
  }
  LogAbovePrompt(const LogAbovePrompt&) = delete;
  LogAbovePrompt& operator=(const LogAbovePrompt&) = delete;

  // The pipe's read end, for the key reader's poll (-1: records go to stderr as they come).
  int fd() const { return installed_ ? fds_[0] : -1; }

  // While the line editor has the terminal (from before the prompt is drawn until the line is
  // entered) records wait in the pipe; the key reader shows them (show). Once the line is
  // entered, what is still in the pipe is printed as it is, and records go to stderr at once.
  void editing(bool on) {
    const int saved = errno;  // readline's, which the prompt reads after (EINTR: Ctrl-C)
    std::lock_guard lock(m_);
    editing_ = on;
    if (!on && take_pipe(text_) > 0) std::fwrite(text_.data(), 1, text_.size(), stderr);
    errno = saved;
  }

  // Prints the records waiting in the pipe on the prompt's row, emptied first, then has the
  // line editor draw the prompt and the line being typed below them. The key reader only,
  // inside the line editor.
  void show() {
    if (take_pipe(text_) == 0) return;
    std::fputs("\r\x1b[K", stdout);
    std::fflush(stdout);
    std::fwrite(text_.data(), 1, text_.size(), stderr);
    std::fflush(stderr);
    rl_forced_update_display();
  }

 private:
  // The sink, called under the logger's lock. A record too long for one write to the pipe
  // (PIPE_BUF, which a pipe takes whole or not at all) or one that finds the pipe full goes to
  // stderr at once: out of place on the screen, but not lost.
  void take(const LogRecord& r) {
    const std::string text = log::detail::line(r);
    std::lock_guard lock(m_);
    if (editing_ && text.size() <= PIPE_BUF &&
        write(fds_[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()))
      return;
    std::fwrite(text.data(), 1, text.size(), stderr);
  }

  // Empties the pipe into `out`; its size.
  std::size_t take_pipe(std::string& out) const {
    out.clear();
    char buf[4096];
    for (ssize_t n; (n = read(fds_[0], buf, sizeof buf)) > 0;)
      out.append(buf, static_cast<std::size_t>(n));
    return out.size();
  }

  int fds_[2] = {-1, -1};
  bool installed_ = false;
  std::mutex m_;
  bool editing_ = false;  // guarded by m_
  std::string text_;      // the key reader's
};

}  // namespace

int Console::prompt() {
  // The line editor reads its keys through this (set before its first use, which reads it).
  // It also wakes on Ctrl-C's byte in the interrupt pipe and then ends the line as at end of
  // input (the loop below tells the two apart), where a plain read() may retry after EINTR
  // and swallow the Ctrl-C. Keys come byte by byte: the commands are ASCII.
  rl_getc_function = [](FILE* in) -> int {
    const int log_fd = g_log != nullptr ? g_log->fd() : -1;
    for (;;) {
      if (detail::interrupted()) return EOF;
      // The interrupt pipe and the log pipe are left out of poll when absent (fd -1).
      pollfd fds[3] = {
          {fileno(in), POLLIN, 0}, {detail::interrupt_fd(), POLLIN, 0}, {log_fd, POLLIN, 0}};
      if (poll(fds, 3, -1) < 0 && errno != EINTR) return EOF;
      if (detail::interrupted() || (fds[1].revents & POLLIN) != 0) return EOF;
      if ((fds[2].revents & POLLIN) != 0) g_log->show();
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      unsigned char c = 0;
      const ssize_t n = read(fileno(in), &c, 1);
      if (n == 1) return static_cast<int>(c);
      if (n < 0 && errno == EINTR) continue;
      return EOF;
    }
  };
  const std::string history = history_file(program_);
  using_history();
  if (!history.empty()) read_history(history.c_str());
  std::vector<std::string> command_names;
  for (const Command& c : commands_) command_names.push_back(c.name);
  std::vector<std::string> arguments;
  const detail::TabCompletion completion(command_names, arguments);
  catch_interrupts();
  LogAbovePrompt log_above;  // records that come at the prompt are shown above it
  for (int n = 1; !done_;) {
    arguments.clear();
    if (completions_ && !stopped()) {
      try {
        arguments = completions_();
      } catch (const std::exception&) {  // nothing to complete
      }
    }
    const std::string prompt = fmt::format("{}({})> ", program_, n);
    drain_interrupts();
    errno = 0;
    log_above.editing(true);
    char* raw = readline(prompt.c_str());
    log_above.editing(false);
    if (raw == nullptr) {
      // Ctrl-C: the line is dropped, a fresh prompt. The line editor's own handler passes the
      // signal on to ours, which another thread may run a moment later: EINTR tells it as well.
      if (detail::interrupted() || errno == EINTR) {
        out_ << '\n' << std::flush;
        continue;
      }
      out_ << '\n' << std::flush;  // Ctrl-D: leave on a line of our own
      break;
    }
    std::string line = raw;
    std::free(raw);  // NOLINT(cppcoreguidelines-no-malloc): readline's buffer
    // A Ctrl-C that came once the line was entered is the command's: it stays pending, so a
    // `sleep` ends at once, instead of the line being dropped.
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    add_history(line.c_str());
    if (!history.empty()) write_history(history.c_str());
    perform(line);
    ++n;
  }
  signal(SIGINT, SIG_DFL);
  return 0;
}

}  // namespace otp
