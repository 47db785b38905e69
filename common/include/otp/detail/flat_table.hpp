// detail::FlatTable, the runtime's one open-addressing hash table (Registry, ProcessGroups,
// Table), with the hashes and the shard choice of its sharded owners, and detail::Key, a
// string key as a slot holds it. Not part of the public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

#include "otp/detail/table_alloc.hpp"

namespace otp::detail {

// Registry, ProcessGroups and Table split their tables into this many shards, each with its own lock
// (a power of two: a hash's top bits pick the shard).
inline constexpr std::size_t lock_shards = 64;

// A key's hash for a FlatTable: 64 bits, never 0 (0 marks an empty slot).
inline std::uint64_t hash_key(std::string_view key) noexcept {
  const std::uint64_t h = std::hash<std::string_view>{}(key);
  return h != 0 ? h : 1;
}

// The shard takes the hash's top bits, the slot in the shard its low bits.
inline std::size_t shard_of(std::uint64_t hash) noexcept {
  return static_cast<std::size_t>(hash >> 58) & (lock_shards - 1);
}

// How a FlatTable grows once it is 4/5 full.
enum class Growth {
  by_quarter,  // 8, 10, 12, 15, 18, ...: about 7/10 full on average (Registry, pg: memory first)
  doubling,    // 16, 32, 64, ...: fewer moves per insert (Table: speed first)
};

// The one open-addressing hash table of the runtime, from K to T: the shards of Registry,
// ProcessGroups and Table (a `set`). Linear probing with Robin Hood insertion (a slot goes to
// the key farther from its home), backward-shift deletion, load at most 4/5. By quarter, the
// table grows 8, 10, 12, 15, 18, ..., not by 2, so it is on average about 7/10 full rather
// than 1/2 (a registry slot is 40-56 bytes, and there is one per registered name: most of a
// registry's memory; Robin Hood keeps the probes short at that load). A key's home is the
// hash's low 32 bits modulo the table's size (two multiplies, no division); the shard of a
// sharded table takes the hash's top bits. Each slot holds its hash, its key and its value,
// so a lookup that hits reads one slot (a short key is held inside it, detail::Key): one
// cache miss where a node-based map takes three (bucket, previous node, node). Robin Hood
// order lets a search or a deletion stop at the first slot whose key is nearer its home than
// the probe is. An empty slot holds a default K and T, which must therefore be
// default-constructible. A hash is never 0 (0 marks an empty slot). Not thread-safe: its
// owner's shard lock guards it.
template <class K, class T, Growth G = Growth::by_quarter>
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
    return add(hash, std::forward<Q>(key));
  }
  // Adds `key`, known to be absent, with `value`; its slot. Other slots may move.
  template <class Q>
  Slot& add(std::uint64_t hash, Q&& key, T value = T{}) {
    if ((size_ + 1) * 5 > slots_.size() * 4) grow();
    ++size_;
    return place(Slot{hash, K(std::forward<Q>(key)), std::move(value)});
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

  // Erases the slots that satisfy `pred`; how many.
  template <class Pred>
  std::size_t erase_if(Pred pred) {
    std::size_t removed = 0;
    for (std::size_t i = 0; i < slots_.size();) {
      // erase may shift a later slot into i: look at i again. (A slot shifted from the front,
      // past the end, is looked at twice; `pred` says the same twice.)
      if (slots_[i].hash != 0 && pred(std::as_const(slots_[i]))) {
        erase(&slots_[i]);
        ++removed;
      } else {
        ++i;
      }
    }
    return removed;
  }

  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.hash != 0) f(s);
  }
  // f(slot) for each slot in use, which f may change but not its key or hash.
  template <class F>
  void for_each_mut(F&& f) {
    for (Slot& s : slots_)
      if (s.hash != 0) f(s);
  }
  std::size_t size() const { return size_; }
  // Empties the table and frees its array.
  void reset() { *this = FlatTable(); }

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
    const std::size_t size =
        G == Growth::by_quarter ? (n == 0 ? 8 : n + n / 4) : (n == 0 ? 16 : 2 * n);
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

}  // namespace otp::detail
