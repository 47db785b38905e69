// otp::observer — what is running: every process's identity, behaviour, status,
// mailbox, links and monitors, and the supervision tree, with text, JSON and
// Graphviz DOT renderings.
//
//   otp::Scoped me(rt);
//   auto tree = me.await(otp::observer::tree());
//   fmt::print("{}", otp::observer::render_text(tree));
//
// A process describes itself: the request is a signal that it answers at its
// next wait point, from its own thread, so nothing is read while it changes.
// A process that does not answer within the timeout (busy, or a plain thread's
// Scoped that is not receiving) is listed with status `busy` and what is known
// without asking (pid, parent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "otp/co.hpp"
#include "otp/pid.hpp"
#include "otp/runtime.hpp"

namespace otp {

struct ProcessInfo {
  enum class Status : unsigned char { running, waiting, exiting, busy };
  Pid pid;
  std::string name;  // the registered or via name, or empty
  std::string
      behaviour;       // GenServer, Supervisor, DynamicSupervisor, Task, StateMachine, or process
  std::string module;  // the C++ type behind a behaviour (Stash, ...), or empty
  Status status = Status::busy;
  std::size_t mailbox = 0;    // messages waiting
  std::uint64_t handled = 0;  // messages taken so far
  std::size_t memory = 0;  // bytes the runtime holds for it: its block, mailbox, links (no frame)
  bool traps_exits = false;
  Pid parent;  // the process that spawned it (empty: started from outside)
  std::vector<Pid> links;
  std::vector<Pid> monitors;      // processes it monitors
  std::vector<Pid> monitored_by;  // processes that monitor it
  std::string state;              // a behaviour's state, through its formatter
};

std::string to_string(ProcessInfo::Status s);

struct TreeNode {
  ProcessInfo info;
  std::vector<TreeNode> children;  // in start order
};

namespace observer {

inline constexpr Duration default_timeout = std::chrono::seconds(1);

// One process, or nullopt when it is not alive.
Co<std::optional<ProcessInfo>> info(Pid pid, Duration timeout = default_timeout);
// Every process of the caller's runtime, in pid order; without the plain threads' Scoped
// handles when `threads` is false (they answer only while they wait, so a console at its
// prompt would cost the whole timeout).
Co<std::vector<ProcessInfo>> processes(Duration timeout = default_timeout, bool threads = true);
// The processes as a forest by parent: roots are those without a live parent.
Co<std::vector<TreeNode>> tree(Duration timeout = default_timeout);
// The subtree under `root` (nullopt when it is not alive).
Co<std::optional<TreeNode>> tree(Pid root, Duration timeout = default_timeout);

// Renderers.
//   <0.7.0> users (DynamicSupervisor)
//   └─ <0.9.0> eric_sup (Supervisor)
//      ├─ <0.10.0> eric_stash (GenServer Stash)
std::string render_text(const std::vector<TreeNode>& forest);
// The process table: PID NAME BEHAVIOUR STATUS MAILBOX HANDLED, one line each.
std::string render_table(const std::vector<ProcessInfo>& processes);
std::string render_json(const std::vector<TreeNode>& forest);
std::string render_json(const std::vector<ProcessInfo>& processes);
// A Graphviz digraph of the tree; supervisors are boxes, workers ellipses.
std::string render_dot(const std::vector<TreeNode>& forest,
                       std::string_view title = "supervision tree");

}  // namespace observer

namespace detail {
// How a behaviour describes its process to the observer: set by the process
// itself (owner only) and cleared before its frame is destroyed.
struct Describer {
  std::string (*behaviour)(const void* self);
  std::string (*module)(const void* self);
  std::string (*name)(const void* self, const Pid& pid);  // a name other than a local one
  std::string (*state)(const void* self);
};
void set_describer(const Describer* d, const void* self) noexcept;
}  // namespace detail

}  // namespace otp
