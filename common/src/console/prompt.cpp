// The console's prompt (Console::prompt, otp/console.hpp): `hang_ten(1)> `, read by the line
// editor (libedit) with Tab completion (completion.hpp) and history kept in a file
// (history.hpp); Ctrl-C clears the line (interrupts.hpp), Ctrl-D leaves. Each line entered goes
// to perform(), as a line of -e or of stdin does.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include <editline/readline.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "completion.hpp"
#include "history.hpp"
#include "interrupts.hpp"
#include "otp/console.hpp"

namespace otp {

using detail::catch_interrupts;
using detail::drain_interrupts;
using detail::history_file;

int Console::prompt() {
  // The line editor reads its keys through this (set before its first use, which reads it).
  // It also wakes on Ctrl-C's byte in the interrupt pipe and then ends the line as at end of
  // input (the loop below tells the two apart), where a plain read() may retry after EINTR
  // and swallow the Ctrl-C. Keys come byte by byte: the commands are ASCII.
  rl_getc_function = [](FILE* in) -> int {
    for (;;) {
      if (detail::interrupted()) return EOF;
      const int interrupt_fd = detail::interrupt_fd();
      pollfd fds[2] = {{fileno(in), POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
      if (poll(fds, interrupt_fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) return EOF;
      if (detail::interrupted() || (fds[1].revents & POLLIN) != 0) return EOF;
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      unsigned char c = 0;
      const ssize_t n = read(fileno(in), &c, 1);
      if (n == 1) return c;
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
    char* raw = readline(prompt.c_str());
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
