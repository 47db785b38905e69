// A console like a stage's hang_ten, without its application: `new <login>`, `show <login>` and
// `ls` over a set of logins, which Tab completes. console_terminal_test.cpp drives it on a terminal.
// A SIGUSR1 makes another thread log a warning, as a process would while the prompt waits.
#include <csignal>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "otp/console.hpp"
#include "otp/otp.hpp"

// A failure to start (a thread that cannot be made) ends the test program with std::terminate.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  // SIGUSR1 is blocked everywhere, before any thread starts, so that only the waiting thread
  // takes it; that thread blocks every other signal (a Ctrl-C's SIGINT is the console's, on
  // the main thread).
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigset_t all;
  sigfillset(&all);
  sigset_t before;
  pthread_sigmask(SIG_BLOCK, &all, &before);
  std::thread([usr1] {
    for (int sig = 0; sigwait(&usr1, &sig) == 0;) otp::log::warning("a record from another thread");
  }).detach();
  sigaddset(&before, SIGUSR1);
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  otp::Runtime rt;
  otp::Scoped me(rt);
  otp::Console console("hang_ten", me);
  std::set<std::string> logins;
  auto known = [&](const std::string& login) {
    if (!logins.contains(login))
      throw otp::ConsoleError(fmt::format("no session for \"{}\"", login));
    return login;
  };

  console.command("new", "<login>", "starts a session for <login>",
                  [&](const otp::Console::Args& a) {
                    if (!logins.insert(a[0]).second)
                      throw otp::ConsoleError("already started", "MatchError");
                    return std::string(":ok");
                  });
  console.command("show", "<login>", "prints the user", [&](const otp::Console::Args& a) {
    return fmt::format("%User{{login: \"{}\"}}", known(a[0]));
  });
  console.command("ls", "", "lists the logins", [&](const otp::Console::Args&) {
    return logins.empty() ? std::string("no sessions") : fmt::format("{}", fmt::join(logins, "\n"));
  });
  console.completions([&] { return std::vector<std::string>(logins.begin(), logins.end()); });
  return console.run(argc, argv);
}
