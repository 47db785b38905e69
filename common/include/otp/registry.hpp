// otp::Registry — Elixir's Registry: keys to processes, unique or duplicate.
//
// Data structure. A table of keys, and a list per process:
//   * key shards (64, chosen by the top bits of the key's hash): a
//     std::shared_mutex and an open-addressing table (detail::FlatTable)
//     key -> entries [(pid, value), ...] in registration order, the first
//     entry inside the table's slot (detail::EntryList); the key is held inside
//     the slot too when it is short (detail::Key);
//   * the pid index (otp/detail/pid_index.hpp, shared with ProcessGroups): each
//     registered process's exit hook for this registry lists the hashes of the
//     keys it holds here.
//
// Threads. Any thread may look up (lookup, dispatch, count, values, match, count_match,
// select, count_select, whereis_name):
// readers take only the key shard's shared lock, so readers never block each
// other and never go through a process (Elixir reads its ETS tables directly;
// so do we). Writers (register, unregister, unregister_match, keys) run on the calling thread,
// in the pid index's lock order: the process's hook list, then the key shard's
// lock (update_value takes only the key shard's). The caller's own callbacks (dispatch,
// update_value) run after the locks are released, on a copy of the entries; the
// predicates of match, count_match, unregister_match, select and count_select run under a
// key shard's lock, so they must not use the registry. Listeners' events are sent
// after the locks are released, from the thread that registered or unregistered. Why a process's entries are gone before
// its Down arrives: see pid_index.hpp. Between the moment a process stops being
// alive and its hook's end, a lookup may still return it, as with Elixir;
// whereis_name and a unique registration check is_alive and treat such an
// entry as free.
//
// Lifetime. The key shards live in a Table shared by the Registry and the hooks
// of its processes: destroying a Registry while processes are registered is
// safe (their hooks still tidy the table, which goes with the last of them),
// but Via names that point at the Registry dangle, so keep it alive as long as
// anyone may send through one; usually it outlives the runtime's processes.
//
// Cost. lookup, count(key), whereis_name: one hash, one shared lock, one slot
// (for a unique key, about one cache miss) and a copy of the key's entries.
// register: the process's hook list and one insert, plus a 48-byte hook on a
// pid's first registration here. An exit or an unregister costs O(entries of the
// keys involved). count(): 64 relaxed loads. select, count_select: each of the 64
// key shards under its shared lock in turn, O(all entries). update_value: two
// lookups of the key (its callback runs between them, with no lock held).
// Metadata (meta, put_meta) has its own lock (detail/registry_meta.hpp).
#pragma once

#include <algorithm>
#include <any>
#include <array>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "otp/detail/flat_table.hpp"
#include "otp/detail/pid_index.hpp"
#include "otp/detail/registry_meta.hpp"
#include "otp/names.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/scoped.hpp"

namespace otp {

enum class Keys { unique, duplicate };

namespace detail {

// The calling process or Scoped handle; throws std::logic_error elsewhere.
inline Pid caller_or_throw(const char* what) {
  Pid p = caller();
  if (!p)
    throw std::logic_error(std::string("otp::") + what +
                           " must be called from a process (a plain thread passes its Scoped)");
  return p;
}

}  // namespace detail

// What a registry's listeners receive (Elixir's {:register, registry, key, pid, value} and
// {:unregister, registry, key, pid}): `registry` is its registry_name().
template <class V>
struct RegistryRegisterEvent {
  std::string registry;
  std::string key;
  Pid pid;
  V value;
};
struct RegistryUnregisterEvent {
  std::string registry;
  std::string key;
  Pid pid;
};

// A registry of processes by key. `V` is the value stored with each entry
// (Elixir's third argument to register/3); it must be copyable.
template <class V = std::monostate>
class Registry : public NameRegistry {
 public:
  using Entry = std::pair<Pid, V>;

  explicit Registry(Keys keys, std::string name = "")
      : table_(new Table), kind_(keys), name_(std::move(name)) {}
  // With listeners (Elixir's :listeners option): each gets a RegistryRegisterEvent<V> for
  // every registration and a RegistryUnregisterEvent when a process's last entry under a key
  // is unregistered (not when it exits: a listener that cares monitors the process).
  Registry(Keys keys, std::string name, std::vector<Pid> listeners)
      : Registry(keys, std::move(name)) {
    listeners_ = std::move(listeners);
  }
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // What register_key returns: ok, or not ok because a unique key is held by
  // `owner` (Elixir's {:error, {:already_registered, owner}}). When ok, `owner`
  // is the process just registered; not ok with an empty owner means that the
  // process to register has exited.
  struct Registered {
    bool ok = false;
    Pid owner;
    explicit operator bool() const { return ok; }
  };

  // Registers the calling process under `key` (Elixir's register/3). In a
  // unique registry a key held by a live process is refused, even when the
  // caller holds it itself; in a duplicate registry a process may register the
  // same key any number of times and then has that many entries. Inside a
  // process only (std::logic_error elsewhere); from a plain thread, use the
  // overload that takes the thread's Scoped handle.
  Registered register_key(std::string key, V value = V{}) {
    return add(detail::caller_or_throw("Registry::register_key"), std::move(key), std::move(value));
  }
  Registered register_key(const Scoped& as, std::string key, V value = V{}) {
    return add(as.pid(), std::move(key), std::move(value));
  }

  // Removes every entry of the calling process under `key` (Elixir's
  // unregister/2). Nothing happens when it has none.
  void unregister_key(std::string_view key) {
    remove(detail::caller_or_throw("Registry::unregister_key"), key);
  }
  void unregister_key(const Scoped& as, std::string_view key) { remove(as.pid(), key); }

  // The entries under `key`, in registration order; empty when there are none.
  std::vector<Entry> lookup(std::string_view key) const {
    const std::uint64_t h = detail::hash_key(key);
    const KeyShard& s = table_->keys[detail::shard_of(h)];
    std::shared_lock lock(s.m);
    const auto* slot = s.map.find(h, key);
    if (slot == nullptr) return {};
    return entries_of(slot->value);
  }

  // Calls `f(entries)` (a const std::vector<Entry>&) on the calling thread
  // with the entries under `key`, only when there is at least one, like
  // Elixir's dispatch/3. `f` sees a snapshot taken before the call, so it may
  // use the registry itself. Returns whether `f` was called.
  template <class F>
  bool dispatch(std::string_view key, F&& f) const {
    static_assert(std::is_invocable_v<F&, const std::vector<Entry>&>,
                  "dispatch's callback takes the entries: const std::vector<Entry>&");
    std::vector<Entry> entries = lookup(key);
    if (entries.empty()) return false;
    std::invoke(f, std::as_const(entries));
    return true;
  }

  // The keys `pid` holds here, in registration order, one per entry (a key the
  // process registered twice in a duplicate registry is listed twice). Empty
  // for a process that has exited.
  std::vector<std::string> keys(const Pid& pid) const {
    std::vector<std::string> out;
    detail::with_keys_hook(pid, table_, false, [&](const Hook* hook) {
      if (hook != nullptr) out = table_->keys_of(pid, hook->keys);
    });
    return out;
  }

  // Every entry in the registry (Elixir's count/1).
  std::size_t count() const {
    std::size_t n = 0;
    for (const KeyShard& s : table_->keys) n += s.entries.load(std::memory_order_relaxed);
    return n;
  }
  // The entries under `key` (Elixir's count_match(registry, key, :_)).
  std::size_t count(std::string_view key) const {
    const std::uint64_t h = detail::hash_key(key);
    const KeyShard& s = table_->keys[detail::shard_of(h)];
    std::shared_lock lock(s.m);
    const auto* slot = s.map.find(h, key);
    return slot == nullptr ? 0 : slot->value.size();
  }

  // The values of `pid`'s entries under `key`, in registration order (Elixir's values/3): in a
  // unique registry none or one, in a duplicate one as many as `pid` registered. Any pid.
  std::vector<V> values(std::string_view key, const Pid& pid) const {
    std::vector<V> out;
    with_slot(key, [&](const detail::EntryList<Held>& list) {
      list.for_each([&](const Held& e) {
        if (e.pid == pid) out.push_back(e.value);
      });
    });
    return out;
  }

  // Replaces the value of the calling process's entry under `key` with `f(old)` (Elixir's
  // update_value/3) and returns {new, old}; nullopt when the caller does not hold `key`.
  // Unique registries only (std::logic_error for a duplicate one). `f` runs on the calling
  // thread without the registry's locks, so it may use the registry.
  template <class F>
  std::optional<std::pair<V, V>> update_value(std::string_view key, F&& f) {
    return change_value(detail::caller_or_throw("Registry::update_value"), key, f);
  }
  template <class F>
  std::optional<std::pair<V, V>> update_value(const Scoped& as, std::string_view key, F&& f) {
    return change_value(as.pid(), key, f);
  }

  // The entries under `key` whose value satisfies `pred(const V&)`, in registration order
  // (Elixir's match/4, with a predicate for the pattern and guards). `pred` runs under the
  // key shard's lock: it must not use the registry (nor do the other predicates below).
  template <class Pred>
  std::vector<Entry> match(std::string_view key, Pred&& pred) const {
    std::vector<Entry> out;
    with_slot(key, [&](const detail::EntryList<Held>& list) {
      list.for_each([&](const Held& e) {
        if (std::invoke(pred, std::as_const(e.value))) out.emplace_back(e.pid, e.value);
      });
    });
    return out;
  }
  // How many entries under `key` have a value that satisfies `pred(const V&)` (Elixir's
  // count_match/4).
  template <class Pred>
  std::size_t count_match(std::string_view key, Pred&& pred) const {
    std::size_t n = 0;
    with_slot(key, [&](const detail::EntryList<Held>& list) {
      n = list.count_if([&](const Held& e) { return std::invoke(pred, std::as_const(e.value)); });
    });
    return n;
  }

  // Removes the calling process's entries under `key` whose value satisfies `pred(const V&)`
  // (Elixir's unregister_match/4); how many went. Other processes' entries stay.
  template <class Pred>
  std::size_t unregister_match(std::string_view key, Pred&& pred) {
    return remove_if(detail::caller_or_throw("Registry::unregister_match"), key,
                     [&](const V& v) { return static_cast<bool>(std::invoke(pred, v)); });
  }
  template <class Pred>
  std::size_t unregister_match(const Scoped& as, std::string_view key, Pred&& pred) {
    return remove_if(as.pid(), key,
                     [&](const V& v) { return static_cast<bool>(std::invoke(pred, v)); });
  }

  // One entry with its key, as select returns it.
  struct KeyEntry {
    std::string key;
    Pid pid;
    V value;
  };
  // Every entry, of any key, that satisfies `pred(std::string_view key, const Pid&, const V&)`
  // (Elixir's select/2, with a predicate for the match spec); in no particular order across
  // keys, in registration order under one key. Each key shard is read under its own lock, so
  // the result is not one snapshot of the whole registry.
  template <class Pred>
  std::vector<KeyEntry> select(Pred&& pred) const {
    std::vector<KeyEntry> out;
    each_entry([&](std::string_view key, const Held& e) {
      if (std::invoke(pred, key, std::as_const(e.pid), std::as_const(e.value)))
        out.push_back(KeyEntry{std::string(key), e.pid, e.value});
    });
    return out;
  }
  // How many entries satisfy `pred` (Elixir's count_select/2).
  template <class Pred>
  std::size_t count_select(Pred&& pred) const {
    std::size_t n = 0;
    each_entry([&](std::string_view key, const Held& e) {
      if (std::invoke(pred, key, std::as_const(e.pid), std::as_const(e.value))) ++n;
    });
    return n;
  }

  // The registry's metadata (Elixir's meta/2, put_meta/3, delete_meta/2): values of any
  // copyable type by name, apart from the entries. meta<T> is nullopt when nothing is stored
  // under `key` and throws std::bad_any_cast when it was stored as another type.
  template <class T>
  std::optional<T> meta(std::string_view key) const {
    return meta_.template get<T>(key);
  }
  template <class T>
  void put_meta(std::string key, T value) {
    meta_.put(std::move(key), std::any(std::move(value)));
  }
  bool delete_meta(std::string_view key) { return meta_.erase(key); }

  Keys kind() const { return kind_; }
  const std::string& name() const { return name_; }
  std::string registry_name() const override { return name_.empty() ? "Registry" : name_; }
  std::string name_of(const Pid& pid) const override {
    std::vector<std::string> held = keys(pid);
    return held.empty() ? std::string() : std::move(held.front());
  }

  // ---- NameRegistry, for Via names: unique registries only (std::logic_error
  // for a duplicate one, as Elixir raises). ----

  // The live process holding `key`, if any.
  std::optional<Pid> whereis_name(std::string_view key) const override {
    require_unique("whereis_name");
    const std::uint64_t h = detail::hash_key(key);
    const KeyShard& s = table_->keys[detail::shard_of(h)];
    std::shared_lock lock(s.m);
    const auto* slot = s.map.find(h, key);
    if (slot == nullptr || slot->value.empty() || !is_alive(slot->value.front().pid))
      return std::nullopt;
    return slot->value.front().pid;
  }
  // Registers `pid` (any live process, usually the caller) under `key` with a
  // default value. False when the key is taken or `pid` is dead.
  bool register_name(std::string key, Pid pid) override {
    require_unique("register_name");
    if constexpr (std::default_initializable<V>) {
      return add(pid, std::move(key), V{}).ok;
    } else {
      throw std::logic_error("otp::Registry::register_name needs a default-constructible value");
    }
  }
  // Frees `key`, whichever process holds it.
  void unregister_name(std::string_view key) override {
    require_unique("unregister_name");
    for (;;) {
      auto held = lookup(key);
      if (held.empty() || remove(held.front().first, key)) return;
      // The key changed hands in between: look again.
    }
  }

 private:
  using Held = detail::Held<V>;
  struct alignas(64) KeyShard {
    mutable std::shared_mutex m;
    detail::FlatTable<detail::Key, detail::EntryList<Held>> map;
    std::atomic<std::size_t> entries{0};  // written under m, read without it by count()
  };
  using KeyHashes = detail::KeyHashes;
  static bool any_value(const V&) { return true; }

  struct Table {
    std::array<KeyShard, detail::lock_shards> keys;

    // The keys of `pid`'s entries listed in `hashes`, in the list's order: the n-th time a hash
    // comes up stands for the n-th entry of `pid` under a key with that hash.
    std::vector<std::string> keys_of(const Pid& pid, const KeyHashes& list) const {
      const std::vector<std::uint64_t> hashes = list.to_vector();
      std::vector<std::string> out;
      out.reserve(hashes.size());
      for (std::size_t i = 0; i < hashes.size(); ++i) {
        std::size_t nth = static_cast<std::size_t>(
            std::count(hashes.begin(), hashes.begin() + static_cast<std::ptrdiff_t>(i), hashes[i]));
        const KeyShard& ks = keys[detail::shard_of(hashes[i])];
        std::shared_lock klock(ks.m);
        ks.map.find_if(hashes[i], [&](const auto& key_slot) {
          const std::size_t mine =
              key_slot.value.count_if([&](const Held& e) { return e.pid == pid; });
          if (nth < mine) {
            out.emplace_back(key_slot.key.view());
            return true;
          }
          nth -= mine;
          return false;
        });
      }
      return out;
    }

    // The exit hook's work (detail::KeysHook): drops every entry of `pid`, whose keys' hashes
    // are `list`.
    void drop(const Pid& pid, const KeyHashes& list) {
      for (const std::uint64_t h : detail::distinct_hashes(list)) {
        KeyShard& ks = keys[detail::shard_of(h)];
        std::unique_lock lock(ks.m);
        auto has_pid = [&](const auto& slot) {
          return slot.value.count_if([&](const Held& e) { return e.pid == pid; }) > 0;
        };
        while (auto* slot = ks.map.find_if(h, has_pid)) erase_from(ks, slot, pid);
      }
    }

    // Removes the entries of `pid` under `key` whose value satisfies `pred`; how many there were.
    template <class Pred>
    std::size_t erase_entries(std::string_view key, const Pid& pid, Pred& pred) {
      const std::uint64_t h = detail::hash_key(key);
      KeyShard& ks = keys[detail::shard_of(h)];
      std::unique_lock lock(ks.m);
      auto* slot = ks.map.find(h, key);
      if (slot == nullptr) return 0;
      return erase_from(ks, slot, pid, pred);
    }

    // With ks.m held: removes `pid`'s entries in `slot` (those whose value satisfies `pred`),
    // and the slot when it is left empty.
    template <class Pred = bool (*)(const V&)>
    static std::size_t erase_from(KeyShard& ks, typename decltype(KeyShard::map)::Slot* slot,
                                  const Pid& pid, Pred&& pred = any_value) {
      auto& v = slot->value;
      const auto removed = v.erase_if([&](const Held& e) { return e.pid == pid && pred(e.value); });
      if (v.empty()) ks.map.erase(slot);
      ks.entries.store(ks.entries.load(std::memory_order_relaxed) - removed,
                       std::memory_order_relaxed);
      return removed;
    }
  };

  // A registered process's exit hook (one small block of 48 bytes): the hashes of its keys,
  // and the table, which it keeps alive until it has run.
  using Hook = detail::KeysHook<Table>;

  static std::vector<Entry> entries_of(const detail::EntryList<Held>& list) {
    std::vector<Entry> out;
    out.reserve(list.size());
    list.for_each([&out](const Held& e) { out.emplace_back(e.pid, e.value); });
    return out;
  }

  // Calls `f(entries)` with the entries under `key` under the key shard's shared lock, when
  // there is such a key.
  template <class F>
  void with_slot(std::string_view key, F&& f) const {
    const std::uint64_t h = detail::hash_key(key);
    const KeyShard& s = table_->keys[detail::shard_of(h)];
    std::shared_lock lock(s.m);
    if (const auto* slot = s.map.find(h, key)) f(slot->value);
  }

  // Calls `f(key, entry)` for every entry, one key shard (under its shared lock) at a time.
  template <class F>
  void each_entry(F&& f) const {
    for (const KeyShard& s : table_->keys) {
      std::shared_lock lock(s.m);
      s.map.for_each([&](const auto& slot) {
        const std::string_view key = slot.key.view();
        slot.value.for_each([&](const Held& e) { f(key, e); });
      });
    }
  }

  template <class F>
  std::optional<std::pair<V, V>> change_value(const Pid& pid, std::string_view key, F& f) {
    static_assert(std::is_invocable_r_v<V, F&, const V&>,
                  "update_value's callback takes the old value (const V&) and returns the new");
    require_unique("update_value");
    std::optional<V> old;
    with_slot(key, [&](const detail::EntryList<Held>& list) {
      if (!list.empty() && list.front().pid == pid) old = list.front().value;
    });
    if (!old) return std::nullopt;
    V updated = std::invoke(f, std::as_const(*old));
    // Only the caller changes or drops its own entry, save unregister_name and its exit: when
    // the entry is no longer the caller's, the update does not happen.
    const std::uint64_t h = detail::hash_key(key);
    KeyShard& s = table_->keys[detail::shard_of(h)];
    std::unique_lock lock(s.m);
    auto* slot = s.map.find(h, key);
    if (slot == nullptr || slot->value.empty() || slot->value.front().pid != pid)
      return std::nullopt;
    slot->value.front().value = updated;
    return std::pair<V, V>(std::move(updated), std::move(*old));
  }

  void require_unique(const char* what) const {
    if (kind_ != Keys::unique)
      throw std::logic_error(std::string("otp::Registry::") + what +
                             ": via names need a registry with unique keys");
  }

  Registered add(const Pid& pid, std::string key, V value) {
    Registered out;
    std::optional<V> told;
    if (!listeners_.empty()) told = value;
    detail::with_keys_hook(pid, table_, true, [&](Hook* hook) {
      const std::uint64_t kh = detail::hash_key(key);
      KeyShard& ks = table_->keys[detail::shard_of(kh)];
      std::unique_lock klock(ks.m);
      auto& entries = ks.map.find_or_add(kh, std::string_view(key)).value;
      if (kind_ == Keys::unique && !entries.empty()) {
        const Pid holder = entries.front().pid;
        // A holder that has exited but whose hook has not run yet is gone
        // already: take the key over (its hook only removes its own entries).
        if (is_alive(holder)) {
          out.owner = holder;
          return;
        }
        entries.clear();
        ks.entries.store(ks.entries.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
      }
      hook->keys.push_back(kh);
      entries.push_back(Held{pid, std::move(value)});
      ks.entries.store(ks.entries.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      out = {true, pid};
    });
    if (out.ok && told)
      for (const Pid& l : listeners_)
        send(l, RegistryRegisterEvent<V>{registry_name(), key, pid, *told});
    return out;  // not ok with an empty owner: `pid` is not alive
  }

  // Removes `pid`'s entries under `key`; false when it had none. (An exiting
  // pid's hook may be removing its entries meanwhile: those are removed here
  // all the same.)
  bool remove(const Pid& pid, std::string_view key) { return remove_if(pid, key, any_value) > 0; }
  // The same for the entries whose value satisfies `pred`; how many went.
  template <class Pred>
  std::size_t remove_if(const Pid& pid, std::string_view key, Pred pred) {
    std::size_t removed = 0;
    const bool alive = detail::with_keys_hook(pid, table_, false, [&](Hook* hook) {
      removed = table_->erase_entries(key, pid, pred);
      // As many of the key's hash as entries went (other keys may share the hash).
      if (hook != nullptr) detail::forget_hashes(hook->keys, detail::hash_key(key), removed);
    });
    if (!alive) removed = table_->erase_entries(key, pid, pred);
    if (removed > 0 && !listeners_.empty() && values(key, pid).empty())
      for (const Pid& l : listeners_)
        send(l, RegistryUnregisterEvent{registry_name(), std::string(key), pid});
    return removed;
  }

  std::shared_ptr<Table> table_;
  Keys kind_;
  std::string name_;
  detail::RegistryMeta meta_;
  std::vector<Pid> listeners_;
};

}  // namespace otp
