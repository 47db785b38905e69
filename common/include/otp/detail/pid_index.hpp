// The pid index of Registry and ProcessGroups: what a process holds in a table, kept in the
// process's own list of exit hooks (detail::with_exit_hooks) rather than in a table of pids.
//
// Each process that holds entries in a table has one hook for that table (KeysHook), from
// its first entry there until it exits, even with no entries left: the hashes of the keys it
// holds, one per entry (so a key held twice is listed twice). Its entries are found again as
// those of the pid in the slots with these hashes. The hook keeps the table alive until it
// has run, so a Registry or ProcessGroups may go while its processes live.
//
// Lock order, one everywhere, so no deadlock: a writer (register, join, unregister, leave,
// keys) takes the process's hook list (with_keys_hook) first, then the key shard's lock; the
// exit hook runs on the thread that retires the exiting process and takes only key shard
// locks; readers take only a key shard's shared lock.
//
// Why entries vanish in time. A write finds or adds the hook and changes the entry while it
// holds the process's hook list, and the runtime closes that list (after which
// with_exit_hooks refuses: the write fails, the pid is dead) before it runs the hooks. So the
// hook either sees the new entry or the write never happens. The runtime runs hooks before
// links and monitors fire, so once a Down for the process arrives its entries are gone.
// Between the moment a process stops being alive and its hook's end, a lookup may still
// return it, as with Elixir's Registry and pg; callers that must not (a unique registration,
// whereis_name) check is_alive.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "otp/detail/exit_hook.hpp"
#include "otp/detail/msg.hpp"
#include "otp/pid.hpp"

namespace otp::detail {

// One entry under a key: the process and its value (a std::monostate value
// takes no room). An empty pid marks "no entry": a registered pid never is.
template <class V>
struct Held {
  Pid pid;
  [[no_unique_address]] V value{};
};
template <class V>
bool is_none(const Held<V>& e) noexcept {
  return !e.pid;
}
// A key's hash (in a pid's list of keys) is never 0 (see hash_key).
inline bool is_none(std::uint64_t key_hash) noexcept { return key_hash == 0; }

// A list whose first element is kept inline, in the table's slot: the entries
// under a key (a lookup of a unique key then reads no other memory; more
// entries, in duplicate registries, go to the vector), the keys of a pid. The
// first element's own value `E{}` (is_none) marks the list empty, so the list
// costs the element and a pointer.
template <class E>
class EntryList {
 public:
  EntryList() = default;
  EntryList(EntryList&& o) noexcept
      : first_(std::exchange(o.first_, E{})), rest_(std::move(o.rest_)) {}
  EntryList& operator=(EntryList&& o) noexcept {
    first_ = std::exchange(o.first_, E{});
    rest_ = std::move(o.rest_);
    return *this;
  }
  EntryList(const EntryList& o)
      : first_(o.first_), rest_(o.rest_ ? std::make_unique<std::vector<E>>(*o.rest_) : nullptr) {}
  EntryList& operator=(const EntryList& o) { return *this = EntryList(o); }

  bool empty() const { return is_none(first_); }
  std::size_t size() const { return empty() ? 0 : 1 + rest_size(); }
  const E& front() const { return first_; }
  // The first element, to change in place (never to the `E{}` that marks the list empty).
  E& front() { return first_; }
  void push_back(E e) {
    if (empty()) {
      first_ = std::move(e);
    } else {
      if (!rest_) rest_ = std::make_unique<std::vector<E>>();
      rest_->push_back(std::move(e));
    }
  }
  void clear() {
    first_ = E{};
    rest_.reset();
  }
  template <class F>
  void for_each(F&& f) const {
    if (empty()) return;
    f(first_);
    if (rest_)
      for (const E& e : *rest_) f(e);
  }
  template <class Pred>
  std::size_t count_if(Pred pred) const {
    std::size_t n = 0;
    for_each([&](const E& e) { n += pred(e) ? 1 : 0; });
    return n;
  }
  std::vector<E> to_vector() const {
    std::vector<E> out;
    out.reserve(size());
    for_each([&out](const E& e) { out.push_back(e); });
    return out;
  }
  // Removes the entries that satisfy `pred`, keeping the order; how many.
  template <class Pred>
  std::size_t erase_if(Pred pred) {
    std::vector<E> all = to_vector();
    const std::size_t removed = std::erase_if(all, pred);
    if (removed == 0) return 0;
    clear();
    for (E& e : all) push_back(std::move(e));
    return removed;
  }

 private:
  std::size_t rest_size() const { return rest_ ? rest_->size() : 0; }

  E first_{};
  std::unique_ptr<std::vector<E>> rest_;  // a pointer, not a vector: most lists hold one entry
};

// A key's hashes as a pid's hook lists them (8 bytes each: the key itself is in its shard's
// slot).
using KeyHashes = EntryList<std::uint64_t>;

// A process's hook in `Table`'s pid index. On the process's exit it calls
// table->drop(pid, keys): the table drops every entry of `pid` under those hashes (a dead pid
// cannot write again, so the list is complete).
template <class Table>
struct KeysHook final : ExitHook {
  explicit KeysHook(std::shared_ptr<Table> t) noexcept : table(std::move(t)) {}
  void run(const Pid& pid, const Reason&) override { table->drop(pid, keys); }
  void destroy() noexcept override {
    this->~KeysHook();
    small_free(this, sizeof(KeysHook));
  }
  const void* owner() const noexcept override { return table.get(); }

  std::shared_ptr<Table> table;
  KeyHashes keys;
};

// Calls visit(hook) with `pid`'s hook list locked and `pid` alive: `hook` is the process's
// hook for `table`, made first when `make` (null when there is none and not `make`). False,
// without calling visit, when `pid` is not alive.
template <class Table, class F>
bool with_keys_hook(const Pid& pid, const std::shared_ptr<Table>& table, bool make, F&& visit) {
  return with_exit_hooks(pid, [&](ExitHooks& hooks) {
    auto* hook = static_cast<KeysHook<Table>*>(hooks.find(table.get()));
    if (hook == nullptr && make) {
      hook = new (small_alloc(sizeof(KeysHook<Table>))) KeysHook<Table>(table);
      hooks.push(hook);
    }
    visit(hook);
  });
}

// The hashes of a hook's list, each once, in order: the slots an exit visits.
inline std::vector<std::uint64_t> distinct_hashes(const KeyHashes& list) {
  std::vector<std::uint64_t> held = list.to_vector();
  std::sort(held.begin(), held.end());
  held.erase(std::unique(held.begin(), held.end()), held.end());
  return held;
}

// Removes one `hash` from the list for each of `n` entries that went.
inline void forget_hashes(KeyHashes& list, std::uint64_t hash, std::size_t n) {
  list.erase_if([&](std::uint64_t k) { return k == hash && n > 0 && n-- > 0; });
}

}  // namespace otp::detail
