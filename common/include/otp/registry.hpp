// otp::Registry — Elixir's Registry: keys to processes, unique or duplicate.
//
// Data structure. A table of keys, and a list per process:
//   * key shards (64, chosen by the top bits of the key's hash): a
//     std::shared_mutex and an open-addressing table (detail::FlatTable)
//     key -> entries [(pid, value), ...] in registration order, the first
//     entry inside the table's slot (detail::EntryList); the key is held inside
//     the slot too when it is short (detail::Key);
//   * each registered process's exit hook for this registry, in the process's
//     own list of hooks: the hashes of the keys it holds here, one per entry
//     (so a key registered twice is listed twice). Its entries are found again
//     as those of the pid in the slots with these hashes. A process has this
//     hook from its first registration here until it exits, even with no keys
//     left; there is at most one per (process, registry).
//
// Threads. Any thread may look up (lookup, dispatch, count, whereis_name):
// readers take only the key shard's shared lock, so readers never block each
// other and never go through a process (Elixir reads its ETS tables directly;
// so do we). Writers (register, unregister, keys) run on the calling thread and
// take the process's hook list (detail::with_exit_hooks) first, then the key
// shard's lock; the exit hook runs on the thread that retires the exiting
// process and takes only key shard locks. One order everywhere, so no deadlock.
// The caller's own callbacks (dispatch) run after the locks are released, on a
// copy of the entries.
//
// Why entries vanish in time. A registration finds or adds the hook and inserts
// the entry while it holds the process's hook list, and the runtime closes that
// list (after which with_exit_hooks refuses: the registration fails, the pid is
// dead) before it runs the hooks. So the hook either sees the new entry or the
// registration never happens. The runtime runs hooks before links and monitors
// fire, so once a Down for the process arrives its entries are gone. Between
// the moment a process stops being alive and its hook's end, a lookup may still
// return it, as with Elixir; whereis_name and a unique registration check
// is_alive and treat such an entry as free.
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
// keys involved). count(): 64 relaxed loads.
#pragma once

#include <algorithm>
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

#include "otp/detail/exit_hook.hpp"
#include "otp/detail/table_alloc.hpp"
#include "otp/names.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/scoped.hpp"

namespace otp {

enum class Keys { unique, duplicate };

namespace detail {

// Registry and ProcessGroups split their tables into this many shards, each with its own lock
// (a power of two: a hash's top bits pick the shard).
inline constexpr std::size_t lock_shards = 64;

// A 64-bit hash that is never 0 (0 marks an empty slot of a FlatTable).
inline std::uint64_t hash_key(std::string_view key) noexcept {
  const std::uint64_t h = std::hash<std::string_view>{}(key);
  return h != 0 ? h : 1;
}

// Serials come in sequence, and processes that register together were mostly
// spawned together: with the serial's low bits picking the shard and the next
// ones the slot, their registrations and exits touch neighbouring slots.
inline std::uint64_t hash_pid(const Pid& pid) noexcept {
  const std::uint64_t id = pid.id();
  const std::uint64_t h = (id >> 6) | (id << 58);
  return h != 0 ? h : 1;
}

// The shard takes the hash's top bits, the slot in the shard its low bits.
inline std::size_t shard_of(std::uint64_t hash) noexcept {
  return static_cast<std::size_t>(hash >> 58) & (lock_shards - 1);
}

// An open-addressing hash table from K to T, for the shards of Registry and
// ProcessGroups: linear probing with Robin Hood insertion (a slot goes to the
// key farther from its home), backward-shift deletion, load at most 4/5. The
// table grows by a quarter (8, 10, 12, 15, 18, ...), not by 2, so it is on
// average about 7/10 full rather than 1/2 (a slot is 40-56 bytes, and there is
// one per registered name: this is most of a registry's memory; Robin Hood keeps
// the probes short at that load): a key's home is the hash's low
// 32 bits modulo the table's size (two multiplies, no division), which keeps
// neighbouring low bits (consecutive serials) in neighbouring slots. Each
// slot holds its hash, its key and its value, so a lookup that hits reads one
// slot (a short key is held inside its std::string): one cache miss where a
// node-based map takes three (bucket, previous node, node). Robin Hood order
// lets a search or a deletion stop at the first slot whose key is nearer its
// home than the probe is, so runs of keys sitting at their own homes (like
// consecutive serials) cost nothing. Not thread-safe: its owner's shard lock
// guards it.
template <class K, class T>
class FlatTable {
 public:
  struct Slot {
    std::uint64_t hash = 0;  // 0: empty
    K key{};
    T value{};
  };

  template <class Q>
  Slot* find(std::uint64_t hash, const Q& key) {
    return find_if(hash, [&key](const Slot& s) { return s.key == key; });
  }
  // The first slot with this hash that satisfies `pred` (in probe order).
  template <class Pred>
  Slot* find_if(std::uint64_t hash, Pred pred) {
    if (slots_.empty()) return nullptr;
    std::size_t i = home(hash);
    for (std::size_t dist = 0;; ++dist, i = next(i)) {
      Slot& s = slots_[i];
      if (s.hash == 0 || distance(s, i) < dist) return nullptr;
      if (s.hash == hash && pred(s)) return &s;
    }
  }
  template <class Pred>
  const Slot* find_if(std::uint64_t hash, Pred pred) const {
    return const_cast<FlatTable*>(this)->find_if(hash, [&pred](const Slot& s) { return pred(s); });
  }
  template <class Q>
  const Slot* find(std::uint64_t hash, const Q& key) const {
    return const_cast<FlatTable*>(this)->find(hash, key);
  }

  // The slot of `key`, made (with a value-initialised T) when missing.
  template <class Q>
  Slot& find_or_add(std::uint64_t hash, Q&& key) {
    if (Slot* s = find(hash, key)) return *s;
    if ((size_ + 1) * 5 > slots_.size() * 4) grow();
    ++size_;
    return place(Slot{hash, K(std::forward<Q>(key)), T{}});
  }

  void erase(Slot* s) {
    std::size_t i = static_cast<std::size_t>(s - slots_.data());
    for (std::size_t j = next(i);; j = next(j)) {
      if (slots_[j].hash == 0 || distance(slots_[j], j) == 0) break;
      slots_[i] = std::move(slots_[j]);
      i = j;
    }
    slots_[i] = Slot{};
    --size_;
  }

  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.hash != 0) f(s);
  }
  std::size_t size() const { return size_; }

 private:
  // The hash's low 32 bits modulo the size, by Lemire's multiply-only remainder
  // (mod_magic_ is 2^64 / size rounded up).
  std::size_t home(std::uint64_t hash) const {
    __extension__ using U128 = unsigned __int128;
    const std::uint64_t frac = mod_magic_ * static_cast<std::uint32_t>(hash);
    return static_cast<std::size_t>((static_cast<U128>(frac) * slots_.size()) >> 64);
  }
  std::size_t next(std::size_t i) const { return i + 1 == slots_.size() ? 0 : i + 1; }
  // How far slot i is from the home of the key it holds.
  std::size_t distance(const Slot& s, std::size_t i) const {
    const std::size_t h = home(s.hash);
    return i >= h ? i - h : i + slots_.size() - h;
  }

  // Puts `in` (a key not in the table) in its Robin Hood place; returns its slot.
  Slot& place(Slot in) {
    Slot* placed = nullptr;
    std::size_t i = home(in.hash);
    for (std::size_t dist = 0;; ++dist, i = next(i)) {
      Slot& s = slots_[i];
      if (s.hash == 0) {
        s = std::move(in);
        return placed != nullptr ? *placed : s;
      }
      const std::size_t d = distance(s, i);
      if (d < dist) {
        std::swap(s, in);  // `in` now carries the displaced key on
        if (placed == nullptr) placed = &s;
        dist = d;
      }
    }
  }
  void grow() {
    const std::size_t n = slots_.size();
    const std::size_t size = n == 0 ? 8 : n + n / 4;
    mod_magic_ = ~std::uint64_t{0} / size + 1;
    std::vector<Slot, TableAllocator<Slot>> old(size);
    old.swap(slots_);
    for (Slot& s : old)
      if (s.hash != 0) place(std::move(s));
  }

  std::vector<Slot, TableAllocator<Slot>> slots_;
  std::size_t size_ = 0;
  std::uint64_t mod_magic_ = 0;
};

// A key as a table's slot holds it: up to 22 bytes inside the slot's 24, so that the names a
// program gives its processes ("eric_server") cost no allocation and a hit reads no other
// memory; a longer key is on the heap. The last byte says which: the inline length, or
// `on_heap` with the pointer and the length in the first 16 bytes. Moves are copies of the 24
// bytes.
class Key {
 public:
  Key() noexcept { bytes_[last] = 0; }
  explicit Key(std::string_view s) {
    if (s.size() <= inline_max) {
      std::memcpy(bytes_, s.data(), s.size());
      bytes_[last] = static_cast<char>(s.size());
    } else {
      char* p = new char[s.size()];
      std::memcpy(p, s.data(), s.size());
      const std::size_t n = s.size();
      std::memcpy(bytes_, &p, sizeof p);
      std::memcpy(bytes_ + sizeof p, &n, sizeof n);
      bytes_[last] = on_heap;
    }
  }
  Key(const Key& o) : Key(o.view()) {}
  Key(Key&& o) noexcept {
    std::memcpy(bytes_, o.bytes_, sizeof bytes_);
    o.bytes_[last] = 0;
  }
  Key& operator=(Key o) noexcept {
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~Key() {
    if (heap()) delete[] heap_data();
  }

  std::string_view view() const noexcept {
    if (!heap()) return {bytes_, static_cast<std::size_t>(bytes_[last])};
    std::size_t n = 0;
    std::memcpy(&n, bytes_ + sizeof(char*), sizeof n);
    return {heap_data(), n};
  }
  friend bool operator==(const Key& k, std::string_view s) noexcept { return k.view() == s; }

 private:
  static constexpr std::size_t last = 23, inline_max = 22;
  static constexpr char on_heap = static_cast<char>(0x7f);
  bool heap() const noexcept { return bytes_[last] == on_heap; }
  char* heap_data() const noexcept {
    char* p = nullptr;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }
  alignas(8) char bytes_[24]{};
};

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

// The calling process or Scoped handle; throws std::logic_error elsewhere.
inline Pid caller_or_throw(const char* what) {
  Pid p = caller();
  if (!p)
    throw std::logic_error(std::string("otp::") + what +
                           " must be called from a process (a plain thread passes its Scoped)");
  return p;
}

}  // namespace detail

// A registry of processes by key. `V` is the value stored with each entry
// (Elixir's third argument to register/3); it must be copyable.
template <class V = std::monostate>
class Registry : public NameRegistry {
 public:
  using Entry = std::pair<Pid, V>;

  explicit Registry(Keys keys, std::string name = "")
      : table_(new Table), kind_(keys), name_(std::move(name)) {}
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
    detail::with_exit_hooks(pid, [&](detail::ExitHooks& hooks) {
      if (const auto* hook = static_cast<const Hook*>(hooks.find(table_.get())))
        out = table_->keys_of(pid, hook->keys);
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
  // A pid's keys, as its hook lists them: their hashes, one per entry (8 bytes each, the key
  // itself is in its key shard's slot).
  using KeyHashes = detail::EntryList<std::uint64_t>;

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

    // The exit hook's work: drops every entry of `pid`, whose keys' hashes are `list`. A dead
    // pid cannot register again (with_exit_hooks refuses it), so the list is complete.
    void drop(const Pid& pid, const KeyHashes& list) {
      std::vector<std::uint64_t> held = list.to_vector();
      std::sort(held.begin(), held.end());
      held.erase(std::unique(held.begin(), held.end()), held.end());
      for (const std::uint64_t h : held) {
        KeyShard& ks = keys[detail::shard_of(h)];
        std::unique_lock lock(ks.m);
        auto has_pid = [&](const auto& slot) {
          return slot.value.count_if([&](const Held& e) { return e.pid == pid; }) > 0;
        };
        while (auto* slot = ks.map.find_if(h, has_pid)) erase_from(ks, slot, pid);
      }
    }

    // Removes the entries of `pid` under `key`; how many there were.
    std::size_t erase_entries(std::string_view key, const Pid& pid) {
      const std::uint64_t h = detail::hash_key(key);
      KeyShard& ks = keys[detail::shard_of(h)];
      std::unique_lock lock(ks.m);
      auto* slot = ks.map.find(h, key);
      if (slot == nullptr) return 0;
      return erase_from(ks, slot, pid);
    }

    // With ks.m held: removes `pid`'s entries in `slot`, and the slot when it is left empty.
    static std::size_t erase_from(KeyShard& ks, typename decltype(KeyShard::map)::Slot* slot,
                                  const Pid& pid) {
      auto& v = slot->value;
      const auto removed = v.erase_if([&](const Held& e) { return e.pid == pid; });
      if (v.empty()) ks.map.erase(slot);
      ks.entries.store(ks.entries.load(std::memory_order_relaxed) - removed,
                       std::memory_order_relaxed);
      return removed;
    }
  };

  // A registered process's exit hook (one small block): the hashes of its keys, and the table,
  // which it keeps alive until it has run.
  struct Hook final : detail::ExitHook {
    explicit Hook(std::shared_ptr<Table> t) noexcept : table(std::move(t)) {}
    void run(const Pid& pid, const Reason&) override { table->drop(pid, keys); }
    void destroy() noexcept override {
      this->~Hook();
      detail::small_free(this, sizeof(Hook));
    }
    const void* owner() const noexcept override { return table.get(); }

    std::shared_ptr<Table> table;
    KeyHashes keys;
  };

  static std::vector<Entry> entries_of(const detail::EntryList<Held>& list) {
    std::vector<Entry> out;
    out.reserve(list.size());
    list.for_each([&out](const Held& e) { out.emplace_back(e.pid, e.value); });
    return out;
  }

  void require_unique(const char* what) const {
    if (kind_ != Keys::unique)
      throw std::logic_error(std::string("otp::Registry::") + what +
                             ": via names need a registry with unique keys");
  }

  Registered add(const Pid& pid, std::string key, V value) {
    Registered out;
    detail::with_exit_hooks(pid, [&](detail::ExitHooks& hooks) {
      auto* hook = static_cast<Hook*>(hooks.find(table_.get()));
      if (hook == nullptr) {
        // First registration of `pid` here: its hook.
        hook = new (detail::small_alloc(sizeof(Hook))) Hook(table_);
        hooks.push(hook);
      }
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
    return out;  // not ok with an empty owner: `pid` is not alive
  }

  // Removes `pid`'s entries under `key`; false when it had none. (An exiting
  // pid's hook may be removing its entries meanwhile: those are removed here
  // all the same.)
  bool remove(const Pid& pid, std::string_view key) {
    std::size_t removed = 0;
    const bool alive = detail::with_exit_hooks(pid, [&](detail::ExitHooks& hooks) {
      removed = table_->erase_entries(key, pid);
      if (auto* hook = static_cast<Hook*>(hooks.find(table_.get()))) {
        // As many of the key's hash as entries went (other keys may share the hash).
        std::size_t left = removed;
        const std::uint64_t kh = detail::hash_key(key);
        hook->keys.erase_if([&](std::uint64_t k) { return k == kh && left > 0 && left-- > 0; });
      }
    });
    if (!alive) removed = table_->erase_entries(key, pid);
    return removed > 0;
  }

  std::shared_ptr<Table> table_;
  Keys kind_;
  std::string name_;
};

}  // namespace otp
