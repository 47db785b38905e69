// otp::Table — Erlang's ETS: a key/value table owned by a process and shared
// by reference between processes.
//
//   auto t = otp::Table<std::string, int>::create({.access = otp::Access::public_});
//   t.insert("hits", 0);
//   t.update_counter("hits", 1);                     // from any process
//   auto v = t.lookup("hits");                       // std::optional<int>
//
// Data structure. A `set` is 64 shards chosen by a mixed hash of the key,
// each an open-addressing hash map (detail::FlatMap) behind a Gate; an
// `ordered_set` is one std::map behind one Gate. A Table<K, V> is a handle
// (a shared_ptr to the state); copy it freely, send it in messages.
//
// Threads. Any thread may call any member; the access mode decides who may:
// `protected_` (the default): everyone reads, only the owner writes;
// `private_`: only the owner; `public_`: everyone. "Who" is the calling
// process or Scoped handle (detail::caller()). A refused call, and any call
// on a deleted table, throws otp::BadArg. select and select_delete visit the
// shards one at a time, so on a `set` they see each shard at one moment but
// not the whole table at one moment (as ETS). A predicate must not write to
// the table it is selecting from (that write would wait for itself).
//
// Readers never block each other and write nothing that another reader
// writes (ETS's read_concurrency). A table has 16 reader slots, one cache
// line each; a thread always uses the same slot. To read a map, a reader adds
// 1 to its slot's count for that map's gate, then checks the gate's `writing`
// flag; if it is down, it reads and subtracts 1. A writer takes the gate's
// mutex (one writer per gate), raises `writing`, then waits until that gate's
// count is 0 in every slot, writes, and lowers the flag. The count's increment
// and the flag's store and loads are seq_cst, so of a reader and a writer that
// arrive together at least one sees the other: either the writer waits for the
// reader, or the reader sees the flag, subtracts its 1 and waits for the
// writer by taking the gate's mutex shared. The flag is lowered with release
// and read with acquire, so a reader that finds it down sees every earlier
// write. Readers thus share only read-only lines while no one writes; a write
// costs a mutex, a fence and 16 loads.
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
// Deletion sets a flag, then clears every map as its writer; every operation
// tests the flag inside its gate, so none can touch a map after it was
// cleared (the gate orders the flag's store before the test).
//
// Complexity: set O(1) expected per key operation; ordered_set O(log n);
// select, select_delete and deletion O(n).
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "otp/detail/table_maps.hpp"
#include "otp/logger.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"

namespace otp {

enum class TableType { set, ordered_set };
enum class Access { public_, protected_, private_ };

struct TableOptions {
  TableType type = TableType::set;
  Access access = Access::protected_;
  // Takes the table, once, when the owner exits (if alive then); empty: none.
  Pid heir{};
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

  // What the observer shows of a table (otp/observer/view.hpp): no rows of a private one.
  struct Look {
    std::string name;
    TableType type;
    Access access;
    Pid owner;
    std::size_t size = 0;
    std::vector<std::string> rows;  // the first ones, "{key, value}", in the table's order
  };
  Look look(std::size_t rows) const;

 protected:
  // The first `n` objects as text; called only for a table that is not private.
  virtual std::vector<std::string> first_rows(std::size_t n) const = 0;
  virtual std::size_t observed_size() const = 0;

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

// The live tables of the caller's runtime, oldest first (for the observer).
std::vector<std::shared_ptr<TableCore>> live_tables();

// Readers count themselves in a per-thread slot instead of writing to a lock
// they share (see the top). counts[g] counts the threads of this slot that are
// reading under gate g; at most 255 threads share a slot.
inline constexpr std::size_t reader_slots = 16;
inline constexpr std::size_t max_gates = 64;
struct alignas(64) ReaderSlot {
  std::atomic<std::uint8_t> counts[max_gates] = {};
};
inline thread_local std::size_t tls_reader_slot = reader_slots;  // none yet
std::size_t assign_reader_slot() noexcept;
inline std::size_t reader_slot() noexcept {
  const std::size_t s = tls_reader_slot;
  return s < reader_slots ? s : assign_reader_slot();
}

// Guards one map: a writer takes `lock` and raises `writing`; a reader takes
// nothing unless `writing` is up, and then `lock` shared.
struct Gate {
  std::shared_mutex lock;
  std::atomic<bool> writing{false};
};

template <class P, class K, class V>
concept TablePredicate = std::predicate<P&, const K&, const V&>;

template <class K, class V>
class TableState final : public TableCore {
 public:
  static constexpr std::size_t shard_bits = 6;
  static constexpr std::size_t shards = std::size_t{1} << shard_bits;
  static_assert(shards <= max_gates);

  explicit TableState(TableOptions options)
      : TableCore(std::move(options)), readers_(std::make_unique<ReaderSlot[]>(reader_slots)) {
    if (type_ == TableType::set) shards_ = std::make_unique<Shard[]>(shards);
  }

  // Runs f(map) on the key's map, as a reader (Write = false) or as its only writer.
  template <bool Write, class F>
  decltype(auto) with(const char* op, const K& key, F&& f) const {
    if constexpr (Write) {
      check_write(op);
    } else {
      check_read(op);
    }
    if (shards_) {
      const std::size_t i = shard_of(key);
      return guarded<Write>(op, i, shards_[i].gate, shards_[i].map, std::forward<F>(f));
    }
    return guarded<Write>(op, 0, ordered_gate_, ordered_, std::forward<F>(f));
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
      for (std::size_t i = 0; i < shards; ++i)
        guarded<Write>(op, i, shards_[i].gate, shards_[i].map, f);
    } else {
      guarded<Write>(op, 0, ordered_gate_, ordered_, f);
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
    Gate gate;
    FlatMap<K, V> map;
  };

  static std::size_t shard_of(const K& key) {
    return static_cast<std::size_t>(table_hash(key) >> (64 - shard_bits));
  }

  // A reader counted in a gate's slot: counted out at scope exit, or earlier with release().
  struct ReaderCount {
    std::atomic<std::uint8_t>* count;
    void release() { std::exchange(count, nullptr)->fetch_sub(1, std::memory_order_release); }
    ~ReaderCount() {
      if (count != nullptr) count->fetch_sub(1, std::memory_order_release);
    }
  };
  // A writer's raised `writing` flag, lowered at scope exit.
  struct WritingFlag {
    std::atomic<bool>& writing;
    ~WritingFlag() { writing.store(false, std::memory_order_release); }
  };

  // Reader: count ourselves in, then look for a writer (seq_cst both, so that
  // a writer that raised `writing` before our count either sees the count and
  // waits for us, or we see its flag). Writer: raise `writing`, then wait
  // until no reader of this gate is counted.
  template <bool Write, class M, class F>
  decltype(auto) guarded(const char* op, std::size_t g, Gate& gate, M& map, F&& f) const {
    if constexpr (Write) {
      std::unique_lock lock(gate.lock);
      gate.writing.store(true, std::memory_order_seq_cst);
      WritingFlag raised{gate.writing};
      wait_for_readers(g);
      if (op != nullptr) check_live(op);  // null: the deletion itself
      return std::forward<F>(f)(map);
    } else {
      ReaderCount counted{&readers_[reader_slot()].counts[g]};
      counted.count->fetch_add(1, std::memory_order_seq_cst);
      if (!gate.writing.load(std::memory_order_seq_cst)) [[likely]] {
        check_live(op);
        return std::forward<F>(f)(std::as_const(map));
      }
      counted.release();
      std::shared_lock lock(gate.lock);
      check_live(op);
      return std::forward<F>(f)(std::as_const(map));
    }
  }

  void wait_for_readers(std::size_t g) const {
    for (std::size_t i = 0; i < reader_slots; ++i) {
      for (int spins = 0; readers_[i].counts[g].load(std::memory_order_seq_cst) != 0; ++spins)
        if (spins >= 100) std::this_thread::yield();
    }
  }

  void clear() noexcept override {
    auto empty = [this](auto& map) {
      shrank(map.size());
      map.reset();
    };
    if (shards_) {
      for (std::size_t i = 0; i < shards; ++i)
        guarded<true>(nullptr, i, shards_[i].gate, shards_[i].map, empty);
    } else {
      guarded<true>(nullptr, 0, ordered_gate_, ordered_, empty);
    }
  }

  void send_transfer(const Pid& to, const Pid& from, std::string data) override;

  std::size_t observed_size() const override { return size_.load(std::memory_order_relaxed); }
  std::vector<std::string> first_rows(std::size_t n) const override {
    std::vector<std::string> out;
    auto visit = [&](const auto& map) {
      if (out.size() >= n) return;
      map.for_each([&](const K& k, const V& v) {
        if (out.size() < n) out.push_back(fmt::format("{{{}, {}}}", describe(k), describe(v)));
      });
    };
    if (shards_) {
      for (std::size_t i = 0; i < shards && out.size() < n; ++i)
        guarded<false>("observer", i, shards_[i].gate, shards_[i].map, visit);
    } else {
      guarded<false>("observer", 0, ordered_gate_, ordered_, visit);
    }
    return out;
  }

  std::unique_ptr<ReaderSlot[]> readers_;
  std::unique_ptr<Shard[]> shards_;   // set
  mutable Gate ordered_gate_;         // ordered_set
  mutable OrderedMap<K, V> ordered_;  // ordered_set
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
