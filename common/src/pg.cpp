// ProcessGroups: see otp/pg.hpp for the design.
#include "otp/pg.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <shared_mutex>

#include "otp/detail/flat_table.hpp"
#include "otp/detail/pid_index.hpp"

namespace otp {

struct ProcessGroups::State {
  struct alignas(64) GroupShard {
    mutable std::shared_mutex m;
    detail::FlatTable<detail::Key, std::vector<Pid>> map;
  };
  std::array<GroupShard, detail::lock_shards> groups;
  using Hook = detail::KeysHook<State>;  // a member's hook in the pid index

  GroupShard& shard(std::uint64_t hash) { return groups[detail::shard_of(hash)]; }

  // The exit hook's work (detail::KeysHook): `pid` leaves every group it joined, whose hashes
  // are `list`.
  void drop(const Pid& pid, const detail::KeyHashes& list) {
    for (const std::uint64_t h : detail::distinct_hashes(list)) {
      GroupShard& gs = shard(h);
      std::unique_lock lock(gs.m);
      auto has_pid = [&](const auto& slot) {
        return std::find(slot.value.begin(), slot.value.end(), pid) != slot.value.end();
      };
      while (auto* slot = gs.map.find_if(h, has_pid)) {
        std::erase(slot->value, pid);
        if (slot->value.empty()) gs.map.erase(slot);
      }
    }
  }
};

ProcessGroups::ProcessGroups() : state_(std::make_shared<State>()) {}
ProcessGroups::~ProcessGroups() = default;

void ProcessGroups::join(std::string group, const Pid& pid) {
  // A process that is not alive joins nothing.
  detail::with_keys_hook(pid, state_, true, [&](State::Hook* hook) {
    const std::uint64_t gh = detail::hash_key(group);
    State::GroupShard& gs = state_->shard(gh);
    std::unique_lock lock(gs.m);
    gs.map.find_or_add(gh, std::string_view(group)).value.push_back(pid);
    hook->keys.push_back(gh);
  });
}

void ProcessGroups::join(std::string group, const std::vector<Pid>& pids) {
  for (const Pid& pid : pids) join(group, pid);
}

bool ProcessGroups::leave(std::string_view group, const Pid& pid) {
  bool left = false;
  detail::with_keys_hook(pid, state_, false, [&](State::Hook* hook) {
    if (hook == nullptr) return;
    const std::uint64_t gh = detail::hash_key(group);
    State::GroupShard& gs = state_->shard(gh);
    std::unique_lock lock(gs.m);
    auto* slot = gs.map.find(gh, group);
    if (slot == nullptr) return;
    auto& members = slot->value;
    // The latest membership goes; any one would do.
    auto m = std::find(members.rbegin(), members.rend(), pid);
    if (m == members.rend()) return;
    members.erase(std::next(m).base());
    if (members.empty()) gs.map.erase(slot);
    detail::forget_hashes(hook->keys, gh, 1);
    left = true;
  });
  return left;
}

std::vector<Pid> ProcessGroups::members(std::string_view group) const {
  const std::uint64_t h = detail::hash_key(group);
  const State::GroupShard& gs = state_->shard(h);
  std::shared_lock lock(gs.m);
  const auto* slot = gs.map.find(h, group);
  if (slot == nullptr) return {};
  return slot->value;
}

std::vector<std::string> ProcessGroups::which_groups() const {
  std::vector<std::string> out;
  for (const State::GroupShard& gs : state_->groups) {
    std::shared_lock lock(gs.m);
    gs.map.for_each([&](const auto& slot) { out.emplace_back(slot.key.view()); });
  }
  return out;
}

}  // namespace otp
