// otp::Table — Erlang's ETS: a key/value table owned by a process and shared
// by reference between processes.
//
//   auto t = otp::Table<std::string, int>::create({.access = otp::Access::public_});
//   t.insert("hits", 0);
//   t.update_counter("hits", 1);                     // from any process
//   auto v = t.lookup("hits");                       // std::optional<int>
//   int total = t.foldl(0, [](int acc, const std::string&, int n) { return acc + n; });
//
// A Table<K, V> is a handle (a shared_ptr to the table); copy it freely, send
// it in messages. A `set` is a hash table, an `ordered_set` is kept in key
// order. A bag or duplicate_bag, several objects per key, is an otp::Bag<K, V>
// (below): the same table, with lookup giving every value of a key.
//
// Any thread may call any member; the access mode decides who may:
// `protected_` (the default): everyone reads, only the owner writes;
// `private_`: only the owner; `public_`: everyone. "Who" is the calling
// process or Scoped handle. A refused call, and any call on a deleted table,
// throws otp::BadArg. Readers never block each other (ETS's read_concurrency).
// select and select_delete see a `set` one part at a time, not the whole table
// at one moment (as ETS). A predicate must not write to the table it is
// selecting from (that write would wait for itself).
//
// Lifetime follows the owner, not the handles: the table exists until its
// owner exits or it is deleted, even with no handle left. When the owner exits
// with an heir named and alive, the heir becomes the owner and receives
// TableTransfer; otherwise the table is deleted. Whoever hears of the owner's
// exit (links, monitors) sees the table already deleted or passed on.
//
// first/next walk the keys (ETS's first/next): in key order for an
// ordered_set, for a set and a bag in an order that depends only on the keys
// present. The walk is safe while the table changes: next of a key deleted
// meanwhile goes on from where that key was, so every key present for the
// whole walk is seen once.
//
// Complexity: set O(1) expected per key operation; ordered_set O(log n);
// select, select_delete and deletion O(n); first/next on a set or a bag
// O(n / 64) a step (a whole shard), on an ordered_set O(log n).
//
// How it works: otp/detail/table_state.hpp (the shards, their gates, the
// readers' slots and the memory-ordering argument) and otp/detail/table_core.hpp
// (owner, heir, deletion), both included at the end of this file.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "otp/pid.hpp"
#include "otp/process.hpp"

namespace otp {

enum class TableType { set, ordered_set, bag, duplicate_bag };
enum class Access { public_, protected_, private_ };

struct TableOptions {
  TableType type = TableType::set;
  Access access = Access::protected_;
  // Takes the table, once, when the owner exits (if alive then); empty: none.
  Pid heir{};
  std::string heir_data{};  // sent along with the transfer
  std::string name{};       // for display only (error messages)
};

// What Table::info gives: ets:info/1's name, type, protection, owner, heir and size.
struct TableInfo {
  std::string name;
  TableType type;
  Access access;
  Pid owner;
  Pid heir;  // empty: none
  std::size_t size = 0;
};

namespace detail {
template <class K, class V>
class TableState;  // otp/detail/table_state.hpp
template <class V>
struct BagValues;  // otp/detail/table_maps.hpp

template <class P, class K, class V>
concept TablePredicate = std::predicate<P&, const K&, const V&>;
}  // namespace detail

template <class K, class V>
class Table {
 public:
  using key_type = K;
  using mapped_type = V;

  // An empty handle, to assign to later; every call on it but alive() throws BadArg.
  Table() = default;

  // A new table owned by the calling process or Scoped handle (std::logic_error
  // on any other thread). BadArg for a bag type: a bag is an otp::Bag.
  static Table create(TableOptions options = {}) {
    if (options.type != TableType::set && options.type != TableType::ordered_set)
      throw BadArg("otp::Table::create: a bag or duplicate_bag is an otp::Bag");
    auto s = std::make_shared<detail::TableState<K, V>>(std::move(options));
    s->start();
    return Table(std::move(s));
  }

  // Stores the object, replacing one with the same key. True when the key was new.
  bool insert(K key, V value) {
    auto& s = state("insert");
    const bool fresh = s.template with<true>("insert", key, [&](auto& m) {
      return m.insert_or_assign(std::move(key), std::move(value)).second;
    });
    if (fresh) s.grew();
    return fresh;
  }

  // Stores the object only when the key is absent. True when it did.
  bool insert_new(K key, V value) {
    auto& s = state("insert_new");
    const bool fresh = s.template with<true>("insert_new", key, [&](auto& m) {
      return m.try_emplace(std::move(key), std::move(value)).second;
    });
    if (fresh) s.grew();
    return fresh;
  }

  std::optional<V> lookup(const K& key) const {
    return state("lookup").template with<false>("lookup", key, [&](const auto& m) {
      const V* v = m.find(key);
      return v != nullptr ? std::optional<V>(*v) : std::nullopt;
    });
  }

  bool member(const K& key) const {
    auto& s = state("member");
    return s.template with<false>("member", key, [&](const auto& m) { return m.contains(key); });
  }

  // Removes the key's object. True when there was one.
  bool erase(const K& key) {
    auto& s = state("erase");
    const bool erased = s.template with<true>("erase", key, [&](auto& m) { return m.erase(key); });
    if (erased) s.shrank(1);
    return erased;
  }

  // Removes the key's object and returns its value (ets:take/2); nullopt when there was none.
  std::optional<V> take(const K& key) {
    auto& s = state("take");
    std::optional<V> taken = s.template with<true>("take", key, [&](auto& m) {
      V* v = m.find(key);
      if (v == nullptr) return std::optional<V>();
      std::optional<V> out(std::move(*v));
      m.erase(key);
      return out;
    });
    if (taken) s.shrank(1);
    return taken;
  }

  // Changes the key's value in place, change(value), and never inserts (ets:update_element/3,
  // with a function where ETS takes {Position, Value}); false when the key is absent.
  template <class F>
  requires std::invocable<F&, V&>
  bool update_element(const K& key, F change) {
    return state("update_element").template with<true>("update_element", key, [&](auto& m) {
      V* v = m.find(key);
      if (v == nullptr) return false;
      change(*v);
      return true;
    });
  }

  // Adds `incr` to the key's value and returns the result; BadArg when the key
  // is absent. For an integral V.
  std::int64_t update_counter(const K& key, std::int64_t incr) {
    static_assert(std::is_integral_v<V>, "update_counter needs an integral value type");
    return state("update_counter").template with<true>("update_counter", key, [&](auto& m) {
      V* v = m.find(key);
      if (v == nullptr) throw BadArg("otp::Table::update_counter: no such key");
      return bump(*v, incr);
    });
  }

  // As above, but first inserts {key, default_value} when the key is absent.
  std::int64_t update_counter(const K& key, std::int64_t incr, V default_value) {
    static_assert(std::is_integral_v<V>, "update_counter needs an integral value type");
    auto& s = state("update_counter");
    bool fresh = false;
    const std::int64_t result = s.template with<true>("update_counter", key, [&](auto& m) {
      auto [v, inserted] = m.try_emplace(key, default_value);
      fresh = inserted;
      return bump(*v, incr);
    });
    if (fresh) s.grew();
    return result;
  }

  // The objects for which pred(key, value) holds; in key order for an ordered_set.
  template <detail::TablePredicate<K, V> Pred>
  std::vector<std::pair<K, V>> select(Pred pred) const {
    std::vector<std::pair<K, V>> out;
    state("select").template each<false>("select", [&](const auto& m) {
      m.for_each([&](const K& k, const V& v) {
        if (pred(k, v)) out.emplace_back(k, v);
      });
    });
    return out;
  }

  // Removes the objects for which pred(key, value) holds; returns how many.
  template <detail::TablePredicate<K, V> Pred>
  std::size_t select_delete(Pred pred) {
    auto& s = state("select_delete");
    std::size_t removed = 0;
    s.template each<true>("select_delete", [&](auto& m) {
      const std::size_t n = m.erase_if(pred);
      s.shrank(n);
      removed += n;
    });
    return removed;
  }

  // Removes every object (ets:delete_all_objects/1); returns how many.
  std::size_t delete_all_objects() {
    return select_delete([](const K&, const V&) { return true; });
  }

  // Folds fn(acc, key, value) over the objects, in key order for an ordered_set (ets:foldl/3).
  // A set is read one shard at a time, as select reads it.
  template <class Acc, class F>
  requires std::invocable<F&, Acc, const K&, const V&> Acc foldl(Acc acc, F fn)
  const {
    state("foldl").template each<false>("foldl", [&](const auto& m) {
      m.for_each([&](const K& k, const V& v) { acc = fn(std::move(acc), k, v); });
    });
    return acc;
  }

  // The first key of the walk (ets:first/1): the least for an ordered_set; nullopt when empty.
  std::optional<K> first() const { return state("first").next_key("first", nullptr); }
  // The key after `key` (ets:next/2); nullopt at the end. `key` need not be present: the walk
  // goes on from where it would be (see the top).
  std::optional<K> next(const K& key) const { return state("next").next_key("next", &key); }

  std::size_t size() const { return state("size").size("size"); }

  // Its name, type, access, owner, heir and size (ets:info/1).
  TableInfo info() const { return state("info").info(); }

  // Deletes the table (ets:delete/1); the owner only.
  void delete_table() { state("delete_table").destroy(); }

  Pid owner() const { return state("owner").owner(); }
  // False once deleted (or for an empty handle); never throws.
  bool alive() const { return s_ && s_->alive(); }

  // Makes `to` the owner and sends it TableTransfer{table, caller, data}; the
  // owner only. BadArg when `to` is not alive or is the owner already.
  void give_away(const Pid& to, std::string data = {}) {
    state("give_away").give_away(to, std::move(data));
  }

  friend bool operator==(const Table& a, const Table& b) { return a.s_ == b.s_; }

 private:
  friend class detail::TableState<K, V>;
  explicit Table(std::shared_ptr<detail::TableState<K, V>> s) : s_(std::move(s)) {}

  detail::TableState<K, V>& state(const char* op) const {
    if (!s_) [[unlikely]]
      throw BadArg(std::string("otp::Table::") + op + ": empty table handle");
    return *s_;
  }

  static std::int64_t bump(V& v, std::int64_t incr) {
    v = static_cast<V>(static_cast<std::int64_t>(v) + incr);
    return static_cast<std::int64_t>(v);
  }

  std::shared_ptr<detail::TableState<K, V>> s_;
};

// What the new owner receives when it inherits a table or is given one
// (ETS's {'ETS-TRANSFER', Table, FromPid, HeirData}).
template <class K, class V>
struct TableTransfer {
  Table<K, V> table;
  Pid from;
  std::string heir_data;
};

// otp::Bag — ETS's bag and duplicate_bag: a table with several objects per
// key. Owner, access, heir, lifetime and threads as Table's (above).
//
//   auto b = otp::Bag<std::string, int>::create();    // a bag
//   b.insert("a", 1);
//   b.insert("a", 2);
//   b.insert("a", 1);                                // no: a bag holds an object once
//   auto all = b.lookup("a");                        // {1, 2}, in insertion order
//
// A `bag` holds an object ({key, value}) at most once; a `duplicate_bag` holds
// it as often as it was inserted. Values compare with ==. size() counts objects.
// Table's update_counter and update_element do not exist here (ETS refuses
// them on a bag with badarg).
template <class K, class V>
class Bag {
  using Values = detail::BagValues<V>;
  using State = detail::TableState<K, Values>;

 public:
  using key_type = K;
  using mapped_type = V;

  // An empty handle, to assign to later; every call on it but alive() throws BadArg.
  Bag() = default;

  // A new bag owned by the calling process or Scoped handle. options.type is bag (also when
  // left at its default, set) or duplicate_bag; BadArg for ordered_set.
  static Bag create(TableOptions options = {}) {
    if (options.type == TableType::set) options.type = TableType::bag;
    if (options.type == TableType::ordered_set)
      throw BadArg("otp::Bag::create: an ordered_set is an otp::Table");
    auto s = std::make_shared<State>(std::move(options));
    s->start();
    return Bag(std::move(s));
  }

  // Adds the object; true when it did (false: a bag holds it already).
  bool insert(K key, V value) {
    auto& s = state("insert");
    const bool duplicates = s.type() == TableType::duplicate_bag;
    const bool added = s.template with<true>("insert", key, [&](auto& m) {
      auto& values = m.try_emplace(std::move(key), Values{}).first->values;
      if (!duplicates && std::find(values.begin(), values.end(), value) != values.end())
        return false;
      values.push_back(std::move(value));
      return true;
    });
    if (added) s.grew();
    return added;
  }

  // Adds the object only when the key has none (ets:insert_new/2). True when it did.
  bool insert_new(K key, V value) {
    auto& s = state("insert_new");
    const bool added = s.template with<true>("insert_new", key, [&](auto& m) {
      if (m.contains(key)) return false;
      m.try_emplace(std::move(key), Values{}).first->values.push_back(std::move(value));
      return true;
    });
    if (added) s.grew();
    return added;
  }

  // The key's values, in insertion order; empty when it has none.
  std::vector<V> lookup(const K& key) const {
    return state("lookup").template with<false>("lookup", key, [&](const auto& m) {
      const Values* v = m.find(key);
      return v != nullptr ? v->values : std::vector<V>{};
    });
  }

  bool member(const K& key) const {
    auto& s = state("member");
    return s.template with<false>("member", key, [&](const auto& m) { return m.contains(key); });
  }

  // Removes every object of the key (ets:delete/2); returns how many.
  std::size_t erase(const K& key) { return take_as("erase", key).size(); }

  // Removes the object {key, value} (ets:delete_object/2): from a duplicate_bag, every copy of
  // it. Returns how many objects went.
  std::size_t delete_object(const K& key, const V& value) {
    auto& s = state("delete_object");
    const std::size_t removed = s.template with<true>("delete_object", key, [&](auto& m) {
      Values* v = m.find(key);
      if (v == nullptr) return std::size_t{0};
      const std::size_t n = std::erase(v->values, value);
      if (v->values.empty()) m.erase(key);
      return n;
    });
    s.shrank(removed);
    return removed;
  }

  // Removes the key's objects and returns their values (ets:take/2); empty when none.
  std::vector<V> take(const K& key) { return take_as("take", key); }

  // The objects for which pred(key, value) holds.
  template <detail::TablePredicate<K, V> Pred>
  std::vector<std::pair<K, V>> select(Pred pred) const {
    std::vector<std::pair<K, V>> out;
    auto keep = [&](const K& k, const V& v) {
      if (pred(k, v)) out.emplace_back(k, v);
    };
    state("select").template each<false>("select", [&](const auto& m) {
      m.for_each([&](const K& k, const Values& v) {
        for (const V& one : v.values) keep(k, one);
      });
    });
    return out;
  }

  // Removes the objects for which pred(key, value) holds; returns how many.
  template <detail::TablePredicate<K, V> Pred>
  std::size_t select_delete(Pred pred) {
    auto& s = state("select_delete");
    std::size_t removed = 0;
    s.template each<true>("select_delete", [&](auto& m) {
      std::size_t n = 0;
      m.for_each_mut([&](const K& k, Values& v) {
        n += std::erase_if(v.values, [&](const V& one) { return pred(k, one); });
      });
      m.erase_if([](const K&, const Values& v) { return v.values.empty(); });
      s.shrank(n);
      removed += n;
    });
    return removed;
  }

  // Removes every object (ets:delete_all_objects/1); returns how many.
  std::size_t delete_all_objects() {
    return select_delete([](const K&, const V&) { return true; });
  }

  // Folds fn(acc, key, value) over the objects (ets:foldl/3), a key's values in insertion order.
  template <class Acc, class F>
  requires std::invocable<F&, Acc, const K&, const V&> Acc foldl(Acc acc, F fn)
  const {
    auto step = [&](const K& k, const V& v) { acc = fn(std::move(acc), k, v); };
    state("foldl").template each<false>("foldl", [&](const auto& m) {
      m.for_each([&](const K& k, const Values& v) {
        for (const V& one : v.values) step(k, one);
      });
    });
    return acc;
  }

  // As Table's: each key once.
  std::optional<K> first() const { return state("first").next_key("first", nullptr); }
  std::optional<K> next(const K& key) const { return state("next").next_key("next", &key); }

  // The number of objects, not of keys.
  std::size_t size() const { return state("size").size("size"); }
  TableInfo info() const { return state("info").info(); }
  void delete_table() { state("delete_table").destroy(); }
  Pid owner() const { return state("owner").owner(); }
  bool alive() const { return s_ && s_->alive(); }
  // As Table's; `to` receives BagTransfer.
  void give_away(const Pid& to, std::string data = {}) {
    state("give_away").give_away(to, std::move(data));
  }

  friend bool operator==(const Bag& a, const Bag& b) { return a.s_ == b.s_; }

 private:
  friend class detail::TableState<K, Values>;
  explicit Bag(std::shared_ptr<State> s) : s_(std::move(s)) {}

  State& state(const char* op) const {
    if (!s_) [[unlikely]]
      throw BadArg(std::string("otp::Bag::") + op + ": empty table handle");
    return *s_;
  }

  std::vector<V> take_as(const char* op, const K& key) {
    auto& s = state(op);
    std::vector<V> taken = s.template with<true>(op, key, [&](auto& m) {
      Values* v = m.find(key);
      if (v == nullptr) return std::vector<V>{};
      std::vector<V> out = std::move(v->values);
      m.erase(key);
      return out;
    });
    s.shrank(taken.size());
    return taken;
  }

  std::shared_ptr<State> s_;
};

// What the new owner of a Bag receives (as TableTransfer for a Table).
template <class K, class V>
struct BagTransfer {
  Bag<K, V> table;
  Pid from;
  std::string heir_data;
};

}  // namespace otp

#include "otp/detail/table_state.hpp"  // IWYU pragma: export
