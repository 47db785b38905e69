// otp::Table — Erlang's ETS: a key/value table owned by a process and shared
// by reference between processes.
//
//   auto t = otp::Table<std::string, int>::create({.access = otp::Access::public_});
//   t.insert("hits", 0);
//   t.update_counter("hits", 1);                     // from any process
//   auto v = t.lookup("hits");                       // std::optional<int>
//
// Data structure. A `set` is 64 shards chosen by a mixed hash of the key, each
// a std::shared_mutex guarding a std::unordered_map; an `ordered_set` is one
// std::shared_mutex guarding a std::map. A Table<K, V> is a handle (a
// shared_ptr to the state); copy it freely, send it in messages.
//
// Threads. Any thread may call any member; the access mode decides who may:
// `protected_` (the default): everyone reads, only the owner writes;
// `private_`: only the owner; `public_`: everyone. "Who" is the calling
// process or Scoped handle (detail::caller()). A refused call, and any call
// on a deleted table, throws otp::BadArg. Reads take a shard's lock shared, so
// readers never block each other (ETS's read_concurrency); writes take it
// exclusively and block only readers and writers of that shard. select and
// select_delete visit the shards one at a time, so on a `set` they see each
// shard at one moment but not the whole table at one moment (as ETS).
//
// Ownership. The owner's identity is an atomic (access checks read it without
// a lock); owner, heir and heir data change together under a mutex that no
// reader takes. An exit hook on the owner (detail::on_exit) deletes the table
// when the owner exits, or, when an heir is named and alive, makes the heir
// the owner and sends it TableTransfer. The hook runs before the owner's
// links and monitors fire, so whoever hears of the exit sees its outcome.
// give_away and inheritance re-arm the hook on the new owner; a hook left on
// a former owner finds it is no longer the owner and does nothing.
//
// Lifetime follows the owner, not the handles: the table exists until its
// owner exits or it is deleted, even with no handle left. Deleting it frees
// its objects at once; the handles that remain keep only an empty shell.
//
// Deletion sets a flag, then clears every shard under its exclusive lock;
// every operation tests the flag while holding its shard's lock, so none can
// touch a shard after it was cleared (the lock orders the flag's store before
// the test).
//
// Complexity: set O(1) expected per key operation; ordered_set O(log n);
// select, select_delete and deletion O(n).
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "otp/pid.hpp"
#include "otp/process.hpp"

namespace otp {

enum class TableType { set, ordered_set };
enum class Access { public_, protected_, private_ };

struct TableOptions {
  TableType type = TableType::set;
  Access access = Access::protected_;
  Pid heir{};               // empty: none
  std::string heir_data{};  // sent along with the transfer
  std::string name{};       // for display only (error messages)
};

template <class K, class V>
class Table;

// What the new owner receives when it inherits a table or is given one
// (ETS's {'ETS-TRANSFER', Table, FromPid, HeirData}).
template <class K, class V>
struct TableTransfer {
  Table<K, V> table;
  Pid from;
  std::string heir_data;
};

namespace detail {

// What every Table<K, V> shares: options, owner, heir, deletion (table.cpp).
class TableCore : public std::enable_shared_from_this<TableCore> {
 public:
  explicit TableCore(TableOptions options);
  virtual ~TableCore() = default;
  TableCore(const TableCore&) = delete;
  TableCore& operator=(const TableCore&) = delete;

  // Makes the caller the owner and arms the exit hook; called once, by create.
  void start();

  void check_read(const char* op) const {
    if (access_ == Access::private_ && !caller_owns()) refuse(op, "read");
  }
  void check_write(const char* op) const {
    if (access_ != Access::public_ && !caller_owns()) refuse(op, "write to");
  }
  // Call with the lock of the data about to be touched held (see the top).
  void check_live(const char* op) const {
    if (deleted_.load(std::memory_order_relaxed)) [[unlikely]]
      refuse_deleted(op);
  }
  bool alive() const { return !deleted_.load(std::memory_order_acquire); }

  Pid owner() const;
  void destroy();
  void give_away(const Pid& to, std::string data);

 protected:
  // Frees every object, taking each lock in turn; called once.
  virtual void clear() noexcept = 0;
  // Sends TableTransfer{this table, from, data} to `to`.
  virtual void send_transfer(const Pid& to, const Pid& from, std::string data) = 0;

  TableType type_;

 private:
  bool caller_owns() const;
  [[noreturn]] void refuse(const char* op, const char* what) const;
  [[noreturn]] void refuse_deleted(const char* op) const;
  bool arm(const Pid& pid);  // false when pid is not alive
  void owner_exited(const Pid& pid);
  void drop();  // under m_

  const Access access_;
  const std::string name_;
  std::atomic<bool> deleted_{false};
  std::atomic<std::uint64_t> owner_id_{0};
  mutable std::mutex m_;
  Pid owner_;
  Pid heir_;
  std::string heir_data_;
  std::shared_ptr<TableCore> self_;  // the table exists while it has an owner
};

template <class K, class V>
class TableState final : public TableCore {
 public:
  static constexpr std::size_t shard_bits = 6;

  explicit TableState(TableOptions options) : TableCore(std::move(options)) {
    if (type_ == TableType::set) shards_ = std::make_unique<Shard[]>(std::size_t{1} << shard_bits);
  }

  // Runs f(map) with the key's lock held shared (Write = false) or exclusively.
  template <bool Write, class F>
  decltype(auto) with(const char* op, const K& key, F&& f) const {
    if constexpr (Write) {
      check_write(op);
    } else {
      check_read(op);
    }
    if (shards_) {
      Shard& s = shard(key);
      return locked<Write>(op, s.lock, s.map, std::forward<F>(f));
    }
    return locked<Write>(op, lock_, ordered_, std::forward<F>(f));
  }

  // Runs f(map) for each shard in turn (the one map of an ordered_set).
  template <bool Write, class F>
  void each(const char* op, F&& f) const {
    if constexpr (Write) {
      check_write(op);
    } else {
      check_read(op);
    }
    if (shards_) {
      for (std::size_t i = 0; i < (std::size_t{1} << shard_bits); ++i)
        locked<Write>(op, shards_[i].lock, shards_[i].map, f);
    } else {
      locked<Write>(op, lock_, ordered_, f);
    }
  }

  std::size_t size(const char* op) const {
    check_read(op);
    check_live(op);
    return size_.load(std::memory_order_relaxed);
  }
  void grew() { size_.fetch_add(1, std::memory_order_relaxed); }
  void shrank(std::size_t by) { size_.fetch_sub(by, std::memory_order_relaxed); }

 private:
  struct alignas(64) Shard {
    std::shared_mutex lock;
    std::unordered_map<K, V> map;
  };

  Shard& shard(const K& key) const {
    const std::uint64_t h = static_cast<std::uint64_t>(std::hash<K>{}(key)) * 0x9E3779B97F4A7C15ull;
    return shards_[h >> (64 - shard_bits)];
  }

  template <bool Write, class M, class F>
  decltype(auto) locked(const char* op, std::shared_mutex& m, M& map, F&& f) const {
    if constexpr (Write) {
      std::unique_lock lock(m);
      check_live(op);
      return std::forward<F>(f)(map);
    } else {
      std::shared_lock lock(m);
      check_live(op);
      return std::forward<F>(f)(std::as_const(map));
    }
  }

  void clear() noexcept override {
    auto empty = [this](auto& map) {
      shrank(map.size());
      std::remove_reference_t<decltype(map)>{}.swap(map);
    };
    if (shards_) {
      for (std::size_t i = 0; i < (std::size_t{1} << shard_bits); ++i) {
        std::unique_lock lock(shards_[i].lock);
        empty(shards_[i].map);
      }
    } else {
      std::unique_lock lock(lock_);
      empty(ordered_);
    }
  }

  void send_transfer(const Pid& to, const Pid& from, std::string data) override;

  std::unique_ptr<Shard[]> shards_;  // set
  mutable std::shared_mutex lock_;   // ordered_set
  mutable std::map<K, V> ordered_;   // ordered_set
  std::atomic<std::size_t> size_{0};
};

}  // namespace detail

template <class K, class V>
class Table {
 public:
  using key_type = K;
  using mapped_type = V;

  // An empty handle, to assign to later; every call on it but alive() throws BadArg.
  Table() = default;

  // A new table owned by the calling process or Scoped handle (std::logic_error
  // on any other thread).
  static Table create(TableOptions options = {}) {
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
    return state("lookup").template with<false>("lookup", key,
                                                [&](const auto& m) -> std::optional<V> {
                                                  auto it = m.find(key);
                                                  if (it == m.end()) return std::nullopt;
                                                  return it->second;
                                                });
  }

  bool member(const K& key) const {
    return state("member").template with<false>("member", key,
                                                [&](const auto& m) { return m.contains(key); });
  }

  // Removes the key's object. True when there was one.
  bool erase(const K& key) {
    auto& s = state("erase");
    const bool erased =
        s.template with<true>("erase", key, [&](auto& m) { return m.erase(key) != 0; });
    if (erased) s.shrank(1);
    return erased;
  }

  // Adds `incr` to the key's value and returns the result; BadArg when the key is absent.
  std::int64_t update_counter(const K& key, std::int64_t incr) requires std::integral<V> {
    return state("update_counter").template with<true>("update_counter", key, [&](auto& m) {
      auto it = m.find(key);
      if (it == m.end()) throw BadArg("otp::Table::update_counter: no such key");
      return bump(it->second, incr);
    });
  }

  // As above, but first inserts {key, default_value} when the key is absent.
  std::int64_t update_counter(const K& key, std::int64_t incr,
                              V default_value) requires std::integral<V> {
    auto& s = state("update_counter");
    bool fresh = false;
    const std::int64_t v = s.template with<true>("update_counter", key, [&](auto& m) {
      auto [it, inserted] = m.try_emplace(key, default_value);
      fresh = inserted;
      return bump(it->second, incr);
    });
    if (fresh) s.grew();
    return v;
  }

  // The objects for which pred(key, value) holds; in key order for an ordered_set.
  template <class Pred>
  requires std::predicate<Pred&, const K&, const V&> std::vector<std::pair<K, V>> select(Pred pred)
  const {
    std::vector<std::pair<K, V>> out;
    state("select").template each<false>("select", [&](const auto& m) {
      for (const auto& [k, v] : m)
        if (pred(k, v)) out.emplace_back(k, v);
    });
    return out;
  }

  // Removes the objects for which pred(key, value) holds; returns how many.
  template <class Pred>
  requires std::predicate<Pred&, const K&, const V&> std::size_t select_delete(Pred pred) {
    auto& s = state("select_delete");
    std::size_t removed = 0;
    s.template each<true>("select_delete", [&](auto& m) {
      const std::size_t n =
          std::erase_if(m, [&](const auto& kv) { return pred(kv.first, kv.second); });
      s.shrank(n);
      removed += n;
    });
    return removed;
  }

  std::size_t size() const { return state("size").size("size"); }

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

template <class K, class V>
void detail::TableState<K, V>::send_transfer(const Pid& to, const Pid& from, std::string data) {
  auto self = std::static_pointer_cast<TableState>(shared_from_this());
  otp::send(to, TableTransfer<K, V>{Table<K, V>(std::move(self)), from, std::move(data)});
}

}  // namespace otp
