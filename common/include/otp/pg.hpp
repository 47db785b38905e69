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
//
// Watches (monitor_scope, monitor). A join, a leave or an exit tells the watchers while it
// holds the group's shard lock, and a watch starts under that lock (a scope's, shard by
// shard: each is read and its changes switched on under its own lock), so what a watcher is
// given at the start and what it is told after neither overlap nor leave a gap. With no watcher a change costs one atomic load more. A watcher
// that has exited is dropped at the next change.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otp/pid.hpp"

namespace otp {

// What a watcher of a scope or of a group receives (pg's {Ref, join, Group, Pids} and
// {Ref, leave, Group, Pids}): the pids that joined or left `group`, once per membership.
struct GroupChange {
  enum class Kind : unsigned char { join, leave };
  Ref ref;  // the one monitor_scope or monitor returned
  Kind kind;
  std::string group;
  std::vector<Pid> pids;
};

// What monitor_scope gives: the watch's ref and every group with its members at that moment.
struct ScopeWatch {
  Ref ref;
  std::vector<std::pair<std::string, std::vector<Pid>>> groups;
};

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
  // pg:get_local_members/1. A runtime is one node, so every member is local: members().
  std::vector<Pid> local_members(std::string_view group) const { return members(group); }

  // pg:monitor_scope/0: the calling process hears of every join and leave in this scope from
  // now on, each a GroupChange tagged with the returned ref, and gets the groups as they are
  // now; nothing is missed or told twice between the two. Until demonitor, or its exit.
  ScopeWatch monitor_scope();
  // pg:monitor/1: the same for one group: the ref, and its members now.
  std::pair<Ref, std::vector<Pid>> monitor(std::string group);
  // pg:demonitor/1: ends the watch and drops its GroupChanges still in the caller's mailbox;
  // false when `ref` is no watch of the caller's here.
  bool demonitor(Ref ref);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace otp
