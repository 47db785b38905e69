// The active aliases of a process (otp::alias, monitor aliases), kept apart
// from its Ties and allocated on first use. Owner only: the process adds and
// removes them, and drain() checks each aliased message against them. Sorted
// by id: a process takes its refs from the runtime's increasing counter, so a
// new alias almost always goes at the end, a lookup is a binary search, and a
// process waiting on one call holds one entry (the vector keeps its capacity,
// so a call allocates nothing here after the first).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "otp/process.hpp"

namespace otp::detail {

struct AliasSet {
  struct Entry {
    std::uint64_t id;
    AliasMode mode;
  };
  std::vector<Entry> active;

  Entry* find(std::uint64_t id) noexcept {
    auto it = std::lower_bound(active.begin(), active.end(), id,
                               [](const Entry& e, std::uint64_t v) { return e.id < v; });
    return it != active.end() && it->id == id ? &*it : nullptr;
  }
  void add(std::uint64_t id, AliasMode mode) {
    if (active.empty() || active.back().id < id) {
      active.push_back(Entry{id, mode});
    } else {
      auto it = std::lower_bound(active.begin(), active.end(), id,
                                 [](const Entry& e, std::uint64_t v) { return e.id < v; });
      active.insert(it, Entry{id, mode});
    }
  }
  void remove(Entry* e) noexcept { active.erase(active.begin() + (e - active.data())); }
};

}  // namespace otp::detail
