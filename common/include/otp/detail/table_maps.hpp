// The two maps behind otp::Table, with one interface (see otp/detail/table_state.hpp).
//
// FlatMap, for `set` shards: the runtime's open-addressing table
// (detail::FlatTable, otp/detail/flat_table.hpp), doubling as it grows, keyed
// by the mixed hash of the key; the top bits of that hash have chosen the shard,
// its low bits choose the slot. A lookup in a large table costs about one cache
// miss (a node-based hash map costs three: bucket, previous node, node).
//
// OrderedMap, for `ordered_set`: std::map behind the same interface.
//
// first/next walk a FlatMap in the order of the keys' mixed hashes (keys with one hash in
// probe order): an order that depends only on the keys present, so a key deleted meanwhile
// still has its place and the walk goes on from there. Finding the next key reads the whole
// shard: O(shard size). An OrderedMap walks in key order, O(log n) a step.
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

#include "otp/detail/flat_table.hpp"

namespace otp::detail {

// What a bag keeps under one key: its values, in insertion order (otp::Bag).
template <class V>
struct BagValues {
  std::vector<V> values;
};
template <class V>
inline constexpr bool is_bag_values = false;
template <class V>
inline constexpr bool is_bag_values<BagValues<V>> = true;

// Calls f(key, value) for each object the map holds under `key`: one for a set, one per value
// for a bag.
template <class K, class V, class F>
void for_each_object(const K& key, const V& v, F& f) {
  if constexpr (is_bag_values<V>) {
    for (const auto& one : v.values) f(key, one);
  } else {
    f(key, v);
  }
}

// The key's hash, mixed so that every bit depends on the key (Fibonacci hashing).
template <class K>
std::uint64_t table_hash(const K& key) {
  return static_cast<std::uint64_t>(std::hash<K>{}(key)) * 0x9E3779B97F4A7C15ull;
}

template <class K, class V>
class FlatMap {
 public:
  std::size_t size() const { return table_.size(); }

  const V* find(const K& key) const {
    const auto* s = table_.find(hash_of(key), key);
    return s != nullptr ? &s->value : nullptr;
  }
  V* find(const K& key) { return const_cast<V*>(std::as_const(*this).find(key)); }
  bool contains(const K& key) const { return find(key) != nullptr; }

  // {the value, whether the key was new}.
  std::pair<V*, bool> try_emplace(K key, V value) {
    const std::uint64_t h = hash_of(key);
    if (auto* s = table_.find(h, key)) return {&s->value, false};
    return {&table_.add(h, std::move(key), std::move(value)).value, true};
  }
  std::pair<V*, bool> insert_or_assign(K key, V value) {
    const std::uint64_t h = hash_of(key);
    if (auto* s = table_.find(h, key)) {
      s->value = std::move(value);
      return {&s->value, false};
    }
    return {&table_.add(h, std::move(key), std::move(value)).value, true};
  }

  bool erase(const K& key) {
    auto* s = table_.find(hash_of(key), key);
    if (s == nullptr) return false;
    table_.erase(s);
    return true;
  }

  template <class F>
  void for_each(F&& f) const {
    table_.for_each([&f](const auto& s) { f(s.key, s.value); });
  }

  // f(key, value) with the value to change (never the key).
  template <class F>
  void for_each_mut(F&& f) {
    table_.for_each_mut([&f](auto& s) { f(std::as_const(s.key), s.value); });
  }

  template <class Pred>
  std::size_t erase_if(Pred&& pred) {
    return table_.erase_if([&pred](const auto& s) { return pred(s.key, s.value); });
  }

  // The first key in the walk's order (see the top), or nullopt.
  std::optional<K> first_key() const { return least_above(0); }
  // The key after `key` in the walk's order, or nullopt; `key` need not be present. (Keys that
  // share a deleted key's 64-bit hash are passed over with it.)
  std::optional<K> key_after(const K& key) const {
    const std::uint64_t h = hash_of(key);
    bool passed = false;
    const auto* same = table_.find_if(h, [&](const auto& s) {
      if (passed) return true;
      passed = s.key == key;
      return false;
    });
    if (same != nullptr) return same->key;
    return least_above(h);
  }

  // Frees everything.
  void reset() { table_.reset(); }

 private:
  // The first key in probe order of those with the least hash above `h`.
  std::optional<K> least_above(std::uint64_t h) const {
    std::uint64_t least = 0;
    table_.for_each([&](const auto& s) {
      if (s.hash > h && (least == 0 || s.hash < least)) least = s.hash;
    });
    if (least == 0) return std::nullopt;
    return table_.find_if(least, [](const auto&) { return true; })->key;
  }

  static std::uint64_t hash_of(const K& key) {
    const std::uint64_t h = table_hash(key);
    return h != 0 ? h : 1;  // 0 marks an empty slot
  }

  FlatTable<K, V, Growth::doubling> table_;
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
  template <class F>
  void for_each_mut(F&& f) {
    for (auto& [k, v] : map_) f(k, v);
  }
  template <class Pred>
  std::size_t erase_if(Pred&& pred) {
    return std::erase_if(map_, [&](const auto& kv) { return pred(kv.first, kv.second); });
  }
  void reset() { std::map<K, V>{}.swap(map_); }
  std::optional<K> first_key() const {
    if (map_.empty()) return std::nullopt;
    return map_.begin()->first;
  }
  std::optional<K> key_after(const K& key) const {
    auto it = map_.upper_bound(key);
    if (it == map_.end()) return std::nullopt;
    return it->first;
  }

 private:
  std::map<K, V> map_;
};

}  // namespace otp::detail
