// ProcessGroups: see otp/pg.hpp for the design.
#include "otp/pg.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bitset>
#include <mutex>
#include <optional>
#include <shared_mutex>

#include "otp/detail/flat_table.hpp"
#include "otp/detail/pid_index.hpp"
#include "otp/process.hpp"
#include "otp/receive.hpp"

namespace otp {

struct ProcessGroups::State {
  struct alignas(64) GroupShard {
    mutable std::shared_mutex m;
    detail::FlatTable<detail::Key, std::vector<Pid>> map;
  };
  std::array<GroupShard, detail::lock_shards> groups;
  using Hook = detail::KeysHook<State>;  // a member's hook in the pid index

  GroupShard& shard(std::uint64_t hash) { return groups[detail::shard_of(hash)]; }

  struct Watcher {
    Ref ref;
    Pid pid;
    std::optional<std::string> group;  // none: the whole scope
    // The shards whose changes it is told: all for a group's watch; for a scope's, each one
    // as monitor_scope has read it (under its lock), so no change is missed or told twice.
    std::bitset<detail::lock_shards> shards;
  };
  std::mutex watchers_m;
  std::vector<Watcher> watchers;
  std::atomic<bool> watched{false};

  // With the group's shard lock held: tells the watchers of the scope and of `group` (whose
  // hash is `hash`).
  void tell(std::uint64_t hash, GroupChange::Kind kind, std::string_view group,
            const std::vector<Pid>& pids) {
    if (!watched.load(std::memory_order_acquire)) return;
    const std::size_t in = detail::shard_of(hash);
    std::lock_guard lock(watchers_m);
    std::erase_if(watchers, [](const Watcher& w) { return !is_alive(w.pid); });
    for (const Watcher& w : watchers) {
      if (w.shards.test(in) && (!w.group || *w.group == group))
        send(w.pid, GroupChange{w.ref, kind, std::string(group), pids});
    }
    watched.store(!watchers.empty(), std::memory_order_release);
  }
  void watch(Watcher w) {
    std::lock_guard lock(watchers_m);
    watchers.push_back(std::move(w));
    watched.store(true, std::memory_order_release);
  }

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
        const std::size_t left = std::erase(slot->value, pid);
        tell(h, GroupChange::Kind::leave, slot->key.view(), std::vector<Pid>(left, pid));
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
    state_->tell(gh, GroupChange::Kind::join, group, {pid});
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
    state_->tell(gh, GroupChange::Kind::leave, group, {pid});
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

ScopeWatch ProcessGroups::monitor_scope() {
  ScopeWatch out{make_ref(), {}};
  state_->watch({out.ref, self(), std::nullopt, {}});  // told of no shard yet
  // Shard by shard: read it and switch its changes on under its lock, one lock at a time.
  for (std::size_t i = 0; i < state_->groups.size(); ++i) {
    State::GroupShard& gs = state_->groups[i];
    std::unique_lock lock(gs.m);
    gs.map.for_each(
        [&](const auto& slot) { out.groups.emplace_back(slot.key.view(), slot.value); });
    std::lock_guard watchers(state_->watchers_m);
    for (State::Watcher& w : state_->watchers)
      if (w.ref == out.ref) w.shards.set(i);
  }
  return out;
}

std::pair<Ref, std::vector<Pid>> ProcessGroups::monitor(std::string group) {
  const Ref ref = make_ref();
  const Pid me = self();
  const std::uint64_t h = detail::hash_key(group);
  State::GroupShard& gs = state_->shard(h);
  std::unique_lock lock(gs.m);
  std::vector<Pid> now;
  if (const auto* slot = gs.map.find(h, group)) now = slot->value;
  state_->watch({ref, me, std::move(group), std::bitset<detail::lock_shards>().set()});
  return {ref, std::move(now)};
}

namespace {
// Takes a GroupChange of watch `ref` from the caller's mailbox.
struct ChangeOf : detail::Waiter {
  explicit ChangeOf(Ref r) : ref(r) {
    match = [](detail::Waiter* w, detail::Msg* m) {
      return detail::is<GroupChange>(m) &&
             detail::value_of<GroupChange>(m).ref == static_cast<ChangeOf*>(w)->ref;
    };
    timeout = Duration::zero();
  }
  Ref ref;
};
}  // namespace

bool ProcessGroups::demonitor(Ref ref) {
  const Pid me = self();
  bool found = false;
  {
    std::lock_guard lock(state_->watchers_m);
    found = std::erase_if(state_->watchers, [&](const State::Watcher& w) {
              return w.ref == ref && w.pid == me;
            }) != 0;
  }
  ChangeOf w(ref);
  while (detail::Msg* m = detail::take_now(w)) detail::free_msg(m);
  return found;
}

}  // namespace otp
