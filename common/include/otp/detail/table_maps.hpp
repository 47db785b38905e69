// The two maps behind otp::Table, with one interface (see otp/table.hpp).
//
// FlatMap, for `set` shards: open addressing with linear probing in one array
// of slots, each holding its key and value inline, so that a lookup in a large
// table costs about one cache miss (a node-based hash map costs three:
// bucket, previous node, node). Capacity is a power of two, at most 3/4 full;
// erase shifts the rest of the probe run back instead of leaving tombstones.
// The slot is chosen by the bits just below the top `skip` bits of the mixed
// hash, the top bits having chosen the shard.
//
// OrderedMap, for `ordered_set`: std::map behind the same interface.
//
// Neither is thread-safe; Table's gates serialise writers against readers.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace otp::detail {

// The key's hash, mixed so that every bit depends on the key (Fibonacci hashing).
template <class K>
std::uint64_t table_hash(const K& key) {
  return static_cast<std::uint64_t>(std::hash<K>{}(key)) * 0x9E3779B97F4A7C15ull;
}

template <class K, class V>
class FlatMap {
 public:
  explicit FlatMap(unsigned skip = 0) : skip_(skip) {}

  std::size_t size() const { return size_; }

  const V* find(const K& key) const {
    if (size_ == 0) return nullptr;
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      const auto& s = slots_[i];
      if (!s) return nullptr;
      if (s->first == key) return &s->second;
    }
  }
  V* find(const K& key) { return const_cast<V*>(std::as_const(*this).find(key)); }
  bool contains(const K& key) const { return find(key) != nullptr; }

  // {the value, whether the key was new}.
  std::pair<V*, bool> try_emplace(K key, V value) {
    if (V* v = find(key)) return {v, false};
    return {emplace_new(std::move(key), std::move(value)), true};
  }
  std::pair<V*, bool> insert_or_assign(K key, V value) {
    if (V* v = find(key)) {
      *v = std::move(value);
      return {v, false};
    }
    return {emplace_new(std::move(key), std::move(value)), true};
  }

  bool erase(const K& key) {
    if (size_ == 0) return false;
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      if (!slots_[i]) return false;
      if (slots_[i]->first == key) {
        remove_at(i);
        return true;
      }
    }
  }

  template <class F>
  void for_each(F&& f) const {
    for (const auto& s : slots_)
      if (s) f(std::as_const(s->first), std::as_const(s->second));
  }

  template <class Pred>
  std::size_t erase_if(Pred&& pred) {
    std::size_t removed = 0;
    for (std::size_t i = 0; i < slots_.size();) {
      // remove_at may move a later slot into i: look at i again.
      if (slots_[i] && pred(std::as_const(slots_[i]->first), std::as_const(slots_[i]->second))) {
        remove_at(i);
        ++removed;
      } else {
        ++i;
      }
    }
    return removed;
  }

  // Frees everything.
  void reset() {
    std::vector<std::optional<std::pair<K, V>>>{}.swap(slots_);
    size_ = 0;
    mask_ = 0;
    bits_ = 0;
  }

 private:
  // The top bits_ bits of the hash after the first skip_ (bits_ >= 4 once allocated).
  std::size_t home(const K& key) const {
    return static_cast<std::size_t>((table_hash(key) << skip_) >> (64 - bits_));
  }

  // Stores a key known to be absent; returns its value.
  V* emplace_new(K key, V value) {
    reserve_one();
    std::size_t i = home(key);
    while (slots_[i]) i = (i + 1) & mask_;
    slots_[i].emplace(std::move(key), std::move(value));
    ++size_;
    return &slots_[i]->second;
  }

  void reserve_one() {
    if ((size_ + 1) * 4 <= slots_.size() * 3) return;
    std::vector<std::optional<std::pair<K, V>>> old(std::max<std::size_t>(16, slots_.size() * 2));
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    bits_ = static_cast<unsigned>(std::countr_zero(slots_.size()));
    for (auto& s : old) {
      if (!s) continue;
      std::size_t i = home(s->first);
      while (slots_[i]) i = (i + 1) & mask_;
      slots_[i] = std::move(s);
    }
  }

  // Empties slot i, then moves back each later slot of the run that may sit
  // there, so that every key stays reachable from its home.
  void remove_at(std::size_t hole) {
    slots_[hole].reset();
    --size_;
    for (std::size_t j = (hole + 1) & mask_; slots_[j]; j = (j + 1) & mask_) {
      const std::size_t h = home(slots_[j]->first);
      // Stays unless its home lies cyclically outside (hole, j].
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (stays) continue;
      slots_[hole] = std::move(slots_[j]);
      slots_[j].reset();
      hole = j;
    }
  }

  std::vector<std::optional<std::pair<K, V>>> slots_;
  std::size_t size_ = 0;
  std::size_t mask_ = 0;
  unsigned bits_ = 0;
  unsigned skip_;
};

template <class K, class V>
class OrderedMap {
 public:
  std::size_t size() const { return map_.size(); }
  const V* find(const K& key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  V* find(const K& key) {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  bool contains(const K& key) const { return map_.contains(key); }
  std::pair<V*, bool> try_emplace(K key, V value) {
    auto [it, fresh] = map_.try_emplace(std::move(key), std::move(value));
    return {&it->second, fresh};
  }
  std::pair<V*, bool> insert_or_assign(K key, V value) {
    auto [it, fresh] = map_.insert_or_assign(std::move(key), std::move(value));
    return {&it->second, fresh};
  }
  bool erase(const K& key) { return map_.erase(key) != 0; }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [k, v] : map_) f(k, v);
  }
  template <class Pred>
  std::size_t erase_if(Pred&& pred) {
    return std::erase_if(map_, [&](const auto& kv) { return pred(kv.first, kv.second); });
  }
  void reset() { std::map<K, V>{}.swap(map_); }

 private:
  std::map<K, V> map_;
};

}  // namespace otp::detail
