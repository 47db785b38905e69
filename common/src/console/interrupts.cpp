// See interrupts.hpp.
#include "interrupts.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

namespace otp::detail {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
int g_interrupt_pipe[2] = {-1, -1};

extern "C" void on_interrupt(int) {
  g_interrupted = 1;
  if (g_interrupt_pipe[1] >= 0) {
    const char byte = 'i';
    [[maybe_unused]] auto n = write(g_interrupt_pipe[1], &byte, 1);
  }
}

}  // namespace

void catch_interrupts() {
  if (g_interrupt_pipe[0] < 0 && pipe(g_interrupt_pipe) == 0) {
    for (int fd : g_interrupt_pipe) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a read at the prompt returns with EINTR
  sigaction(SIGINT, &sa, nullptr);
}

void drain_interrupts() {
  char buf[64];
  if (g_interrupt_pipe[0] >= 0) {
    while (read(g_interrupt_pipe[0], buf, sizeof buf) > 0) {
    }
  }
  g_interrupted = 0;
}

bool interrupted() { return g_interrupted != 0; }

int interrupt_fd() { return g_interrupt_pipe[0]; }

bool interruptible_sleep(Duration d) {
  using std::chrono::milliseconds;
  const auto until = std::chrono::steady_clock::now() + d;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return true;
    if (g_interrupt_pipe[0] < 0) {
      std::this_thread::sleep_for(left);
      return true;
    }
    pollfd p{g_interrupt_pipe[0], POLLIN, 0};
    const int wait = static_cast<int>(std::min<std::int64_t>(left.count(), 1'000'000));
    if (poll(&p, 1, wait) > 0 || g_interrupted != 0) {
      drain_interrupts();
      return false;
    }
  }
}

}  // namespace otp::detail
