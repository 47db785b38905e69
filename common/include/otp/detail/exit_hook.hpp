// Exit hooks: code that runs when a process exits, for tables keyed by pid
// (Registry, pg, Table owners). Not part of the public API.
#pragma once

#include <functional>

#include "otp/pid.hpp"
#include "otp/reason.hpp"

namespace otp::detail {

using ExitFn = std::function<void(const Pid& pid, const Reason& reason)>;

// Runs `fn(pid, reason)` when `pid`'s process exits: on the thread that retires
// it, after it stops being alive and its name is free, and before its links and
// monitors fire, so whoever hears of the exit finds the hook's work done.
// Returns false (and drops fn) when `pid` is not alive. Any thread.
bool on_exit(const Pid& pid, ExitFn fn);

}  // namespace otp::detail
