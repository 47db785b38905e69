// otp::ProcessGroups — Erlang's pg: named groups of processes, one scope per object.
//
// Data structure (in pg.cpp). Group shards (64, chosen by the top bits of the
// group's hash): a std::shared_mutex and a hash table (detail::FlatTable) group
// -> members, in join order, a pid once per join. And the pid index shared with
// Registry (otp/detail/pid_index.hpp): each member's exit hook for this scope
// lists the hashes of the groups it joined, once per join; a process has it
// from its first join until it exits.
//
// Threads. Any thread may call anything. members() and which_groups() take only
// shared locks, so readers never block each other. join and leave take the
// process's hook list, then the group shard's lock (the pid index's lock
// order); the exit hook runs on the thread that retires the process, before its
// links and monitors fire. So a join of a process that has exited does nothing,
// and once a Down for a member arrives, it is in no group of this scope (the
// argument is in pid_index.hpp).
//
// Lifetime. The state lives in an object the exit hooks share: destroying a
// ProcessGroups while its members live is safe.
//
// Cost. members: one shared lock and a copy. join: the hook list, one lock and
// two appends, plus the hook (one 48-byte block) on a pid's first join here.
// leave and an exit: O(members of the groups involved). which_groups: O(groups).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "otp/pid.hpp"

namespace otp {

class ProcessGroups {
 public:
  ProcessGroups();
  ~ProcessGroups();
  ProcessGroups(const ProcessGroups&) = delete;
  ProcessGroups& operator=(const ProcessGroups&) = delete;

  // Adds `pid` to `group`. A process may join a group several times and is then
  // a member that many times. Joining a process that has exited does nothing.
  void join(std::string group, const Pid& pid);
  // Joins each pid in turn (a pid listed twice joins twice).
  void join(std::string group, const std::vector<Pid>& pids);
  // Removes one membership of `pid` in `group`; false when it was not a member
  // (Erlang's not_joined).
  bool leave(std::string_view group, const Pid& pid);

  // The members of `group`, in join order, a pid once per membership; empty for
  // an unknown group.
  std::vector<Pid> members(std::string_view group) const;
  // The groups that have at least one member, in no particular order.
  std::vector<std::string> which_groups() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace otp
