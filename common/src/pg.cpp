// ProcessGroups: see otp/pg.hpp for the design.
#include "otp/pg.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <shared_mutex>

#include "otp/detail/exit_hook.hpp"
#include "otp/registry.hpp"  // detail::FlatTable and the hashes

namespace otp {

struct ProcessGroups::State {
  struct alignas(64) GroupShard {
    mutable std::shared_mutex m;
    detail::FlatTable<detail::Key, std::vector<Pid>> map;
  };
  struct alignas(64) PidShard {
    std::mutex m;
    detail::FlatTable<Pid, std::vector<std::string>> map;
  };
  std::array<GroupShard, detail::lock_shards> groups;
  std::array<PidShard, detail::lock_shards> pids;

  // The exit hook: `pid` leaves every group.
  void drop(const Pid& pid) {
    std::vector<std::string> joined;
    {
      const std::uint64_t h = detail::hash_pid(pid);
      PidShard& ps = pids[detail::shard_of(h)];
      std::lock_guard lock(ps.m);
      auto* slot = ps.map.find(h, pid);
      if (slot == nullptr) return;
      joined = std::move(slot->value);
      ps.map.erase(slot);
    }
    std::sort(joined.begin(), joined.end());
    joined.erase(std::unique(joined.begin(), joined.end()), joined.end());
    for (const std::string& g : joined) {
      const std::uint64_t h = detail::hash_key(g);
      GroupShard& gs = groups[detail::shard_of(h)];
      std::unique_lock lock(gs.m);
      auto* slot = gs.map.find(h, g);
      if (slot == nullptr) continue;
      std::erase(slot->value, pid);
      if (slot->value.empty()) gs.map.erase(slot);
    }
  }
};

ProcessGroups::ProcessGroups() : state_(new State) {}
ProcessGroups::~ProcessGroups() = default;

void ProcessGroups::join(std::string group, const Pid& pid) {
  const std::uint64_t ph = detail::hash_pid(pid);
  State::PidShard& ps = state_->pids[detail::shard_of(ph)];
  std::lock_guard plock(ps.m);
  auto* owned = ps.map.find(ph, pid);
  if (owned == nullptr) {
    // First join of `pid` in this scope: install its exit hook.
    std::weak_ptr<State> weak = state_;
    const bool alive = detail::on_exit(pid, [weak](const Pid& p, const Reason&) {
      if (auto s = weak.lock()) s->drop(p);
    });
    if (!alive) return;
    owned = &ps.map.find_or_add(ph, pid);
  }
  {
    const std::uint64_t gh = detail::hash_key(group);
    State::GroupShard& gs = state_->groups[detail::shard_of(gh)];
    std::unique_lock glock(gs.m);
    gs.map.find_or_add(gh, std::string_view(group)).value.push_back(pid);
  }
  owned->value.push_back(std::move(group));
}

void ProcessGroups::join(std::string group, const std::vector<Pid>& pids) {
  for (const Pid& pid : pids) join(group, pid);
}

bool ProcessGroups::leave(std::string_view group, const Pid& pid) {
  const std::uint64_t ph = detail::hash_pid(pid);
  State::PidShard& ps = state_->pids[detail::shard_of(ph)];
  std::lock_guard plock(ps.m);
  auto* owned = ps.map.find(ph, pid);
  if (owned == nullptr) return false;
  auto& joined = owned->value;
  auto g = std::find(joined.begin(), joined.end(), group);
  if (g == joined.end()) return false;
  joined.erase(g);
  const std::uint64_t gh = detail::hash_key(group);
  State::GroupShard& gs = state_->groups[detail::shard_of(gh)];
  std::unique_lock glock(gs.m);
  auto* slot = gs.map.find(gh, group);
  if (slot == nullptr) return false;  // not reached: the two indexes agree
  auto& members = slot->value;
  // The latest membership goes; any one would do.
  auto m = std::find(members.rbegin(), members.rend(), pid);
  if (m == members.rend()) return false;  // not reached
  members.erase(std::next(m).base());
  if (members.empty()) gs.map.erase(slot);
  return true;
}

std::vector<Pid> ProcessGroups::members(std::string_view group) const {
  const std::uint64_t h = detail::hash_key(group);
  const State::GroupShard& gs = state_->groups[detail::shard_of(h)];
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
