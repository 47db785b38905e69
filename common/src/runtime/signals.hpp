// The signals between processes: links, monitors, exit signals, Down messages, receive
// timeouts and the observer's "describe yourself". They travel in the mailbox as messages of
// their own kind (SigKind, otp/detail/mailbox.hpp) and are handled by drain() (process.cpp)
// before the process's own messages are matched, so a receive never sees them.
#pragma once

#include <cstdint>
#include <optional>

#include "otp/detail/mailbox.hpp"
#include "otp/observer.hpp"
#include "otp/pid.hpp"
#include "otp/reason.hpp"

namespace otp::detail {

struct LinkSig {
  Pid from;
};
struct UnlinkSig {
  Pid from;
};
struct MonitorSig {
  Ref ref;
  Pid watcher;
};
struct DemonitorSig {
  Ref ref;
};
struct ExitSig {
  Pid from;
  Reason reason;
  bool linked;
};
struct DownSig {
  Ref ref;
  Pid pid;
  Reason reason;
};
struct TimeoutSig {
  std::uint32_t seq;
};
struct InfoSig {
  Pid requester;
  Ref ref;  // an alias of the requester: the reply goes through it (see observer.cpp, ask)
};          // observer: describe yourself
struct InfoReply {
  Ref ref;
  std::optional<ProcessInfo> info;
};
template <>
inline constexpr SigKind sig_kind_of<LinkSig> = SigKind::link;
template <>
inline constexpr SigKind sig_kind_of<UnlinkSig> = SigKind::unlink;
template <>
inline constexpr SigKind sig_kind_of<MonitorSig> = SigKind::monitor;
template <>
inline constexpr SigKind sig_kind_of<DemonitorSig> = SigKind::demonitor;
template <>
inline constexpr SigKind sig_kind_of<ExitSig> = SigKind::exit;
template <>
inline constexpr SigKind sig_kind_of<DownSig> = SigKind::down;
template <>
inline constexpr SigKind sig_kind_of<TimeoutSig> = SigKind::timeout;
template <>
inline constexpr SigKind sig_kind_of<InfoSig> = SigKind::info;

}  // namespace otp::detail
