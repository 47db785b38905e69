// Ctrl-C at the console: a flag, and a byte in a pipe that a sleep or the prompt waits on (a
// signal handler may only write). catch_interrupts() installs the handler (without SA_RESTART, so
// a read at the prompt returns with EINTR); the prompt's key reader polls interrupt_fd() beside
// the terminal.
#pragma once

#include "otp/runtime.hpp"  // otp::Duration

namespace otp::detail {

void catch_interrupts();
// Forgets the Ctrl-Cs seen so far (the flag and the pipe's bytes).
void drain_interrupts();
// Whether a Ctrl-C came since the last drain_interrupts().
bool interrupted();
// The pipe's reading end (-1 before catch_interrupts()).
int interrupt_fd();
// Sleeps `d` on the real clock; false when Ctrl-C interrupted it.
bool interruptible_sleep(Duration d);

}  // namespace otp::detail
