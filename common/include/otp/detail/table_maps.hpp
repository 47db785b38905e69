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

  template <class Pred>
  std::size_t erase_if(Pred&& pred) {
    return table_.erase_if([&pred](const auto& s) { return pred(s.key, s.value); });
  }

  // Frees everything.
  void reset() { table_.reset(); }

 private:
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
  template <class Pred>
  std::size_t erase_if(Pred&& pred) {
    return std::erase_if(map_, [&](const auto& kv) { return pred(kv.first, kv.second); });
  }
  void reset() { std::map<K, V>{}.swap(map_); }

 private:
  std::map<K, V> map_;
};

}  // namespace otp::detail
