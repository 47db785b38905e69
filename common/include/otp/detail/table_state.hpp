// The maps of an otp::Table<K, V> and how threads share them. Part of
// otp/table.hpp, which includes it at its end: include that header, not this one.
//
// Data structure. A `set` is 64 shards chosen by a mixed hash of the key,
// each an open-addressing hash map (detail::FlatMap) behind a Gate; an
// `ordered_set` is one std::map behind one Gate (otp/detail/table_maps.hpp).
// Every access checks the caller's right first (TableCore, from the access
// mode and the owner: detail::caller()).
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
// select and select_delete visit the shards one at a time, so on a `set` they
// see each shard at one moment but not the whole table at one moment.
//
// A bag (otp::Bag) is the same machinery with a BagValues<V> per key; the
// size counts its objects, not its keys. first/next read one shard per step
// and keep nothing between steps (the order: otp/detail/table_maps.hpp).
//
// Deletion (TableCore::destroy) clears every map as its writer; every
// operation tests the deleted flag inside its gate (check_live).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "otp/detail/table_core.hpp"
#include "otp/detail/table_maps.hpp"
#include "otp/logger.hpp"
#include "otp/process.hpp"

namespace otp::detail {

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

template <class K, class V>
class TableState final : public TableCore {
 public:
  static constexpr std::size_t shard_bits = 6;
  static constexpr std::size_t shards = std::size_t{1} << shard_bits;
  static_assert(shards <= max_gates);

  explicit TableState(TableOptions options)
      : TableCore(std::move(options)), readers_(std::make_unique<ReaderSlot[]>(reader_slots)) {
    if (type_ != TableType::ordered_set) shards_ = std::make_unique<Shard[]>(shards);
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

  // The first key (after == null) or the key after *after in the table's order; nullopt at the
  // end. A set looks in the shard of *after, then in each later shard in turn.
  std::optional<K> next_key(const char* op, const K* after) const {
    check_read(op);
    auto step = [after](const auto& m) { return after ? m.key_after(*after) : m.first_key(); };
    if (!shards_) return guarded<false>(op, 0, ordered_gate_, ordered_, step);
    std::size_t i = 0;
    if (after != nullptr) {
      i = shard_of(*after);
      if (auto k = guarded<false>(op, i, shards_[i].gate, shards_[i].map, step)) return k;
      ++i;
    }
    for (; i < shards; ++i) {
      if (auto k = guarded<false>(op, i, shards_[i].gate, shards_[i].map,
                                  [](const auto& m) { return m.first_key(); }))
        return k;
    }
    return std::nullopt;
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
    auto empty = [](auto& map) { map.reset(); };
    if (shards_) {
      for (std::size_t i = 0; i < shards; ++i)
        guarded<true>(nullptr, i, shards_[i].gate, shards_[i].map, empty);
    } else {
      guarded<true>(nullptr, 0, ordered_gate_, ordered_, empty);
    }
    size_.store(0, std::memory_order_relaxed);
  }

  void send_transfer(const Pid& to, const Pid& from, std::string data) override;

  std::size_t observed_size() const override { return size_.load(std::memory_order_relaxed); }
  std::vector<std::string> first_rows(std::size_t n) const override {
    std::vector<std::string> out;
    auto visit = [&](const auto& map) {
      if (out.size() >= n) return;
      auto row = [&](const K& k, const auto& v) {
        if (out.size() < n) out.push_back(fmt::format("{{{}, {}}}", describe(k), describe(v)));
      };
      map.for_each([&](const K& k, const V& v) { for_each_object(k, v, row); });
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

template <class K, class V>
void TableState<K, V>::send_transfer(const Pid& to, const Pid& from, std::string data) {
  auto self = std::static_pointer_cast<TableState>(shared_from_this());
  if constexpr (is_bag_values<V>) {
    using Value = typename decltype(V::values)::value_type;
    otp::send(to, BagTransfer<K, Value>{Bag<K, Value>(std::move(self)), from, std::move(data)});
  } else {
    otp::send(to, TableTransfer<K, V>{Table<K, V>(std::move(self)), from, std::move(data)});
  }
}

}  // namespace otp::detail
