// The ties of a process: its links (by the linked pid's serial), the monitors it
// holds (ref -> target) and those on it (ref -> watcher), in one block allocated
// on first use and freed with the process. Each entry's key carries its kind in
// its top two bits (serials and the runtime's refs stay below 2^62); each kind
// is seen through a View.
//
// Layout. A header (size, capacity, index) and the entries right after it, in
// one small_alloc block: a process with one link costs 40 bytes, a supervisor
// with three children and its parent 112. The block grows one entry at a time up
// to `step_until` entries (most processes stay there: a link or two, a monitor
// during a call) and doubles after; erasing moves the last entry into the hole,
// so no order is kept, and shrinks a block with more than one spare entry. Entries are searched linearly; past `index_from` (a
// supervisor of many children) a hash index key -> position keeps every
// operation O(1).
#pragma once

#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "otp/detail/mailbox.hpp"
#include "otp/pid.hpp"

namespace otp::detail {

class Ties {
 public:
  enum class Kind : std::uint64_t { link = 0, monitor = 1, watcher = 2 };
  struct Entry {
    std::uint64_t key;
    Pid pid;
  };

  class View {
   public:
    View(Ties*& block, Kind kind) : block_(block), tag_(static_cast<std::uint64_t>(kind) << 62) {}
    // False when `id` is there already.
    bool emplace(std::uint64_t id, const Pid& pid) {
      return valid(id) && Ties::emplace(block_, id | tag_, pid);
    }
    std::size_t erase(std::uint64_t id) {
      return valid(id) && block_ != nullptr ? Ties::erase(block_, id | tag_) : 0;
    }
    // The pid under `id`, or null.
    Pid* find(std::uint64_t id) {
      if (!valid(id) || block_ == nullptr) return nullptr;
      Entry* e = block_->find(id | tag_);
      return e != nullptr ? &e->pid : nullptr;
    }
    // f(id, pid) for each entry of this kind.
    template <class F>
    void for_each(F&& f) {
      if (block_ == nullptr) return;
      for (Entry& e : block_->entries())
        if ((e.key & ~id_mask) == tag_) f(e.key & id_mask, e.pid);
    }

   private:
    static constexpr std::uint64_t id_mask = (std::uint64_t{1} << 62) - 1;
    // A ref from outside any runtime (2^62 and up) is never a monitor's.
    static bool valid(std::uint64_t id) { return (id & ~id_mask) == 0; }
    Ties*& block_;
    std::uint64_t tag_;
  };

  // Frees the block (null is fine).
  static void destroy(Ties* t) noexcept {
    if (t == nullptr) return;
    delete t->index_;
    small_free(t, bytes(t->cap_));
  }

 private:
  static constexpr std::uint32_t step_until = 8, index_from = 16;
  using Index = std::unordered_map<std::uint64_t, std::uint32_t>;

  std::uint32_t size_ = 0;
  std::uint32_t cap_ = 0;
  Index* index_ = nullptr;

  static std::size_t bytes(std::uint32_t cap) { return sizeof(Ties) + cap * sizeof(Entry); }
  Entry* data() { return reinterpret_cast<Entry*>(this + 1); }
  std::span<Entry> entries() { return {data(), size_}; }

  Entry* find(std::uint64_t key) {
    if (index_ != nullptr) {
      auto it = index_->find(key);
      return it == index_->end() ? nullptr : data() + it->second;
    }
    for (Entry& e : entries())
      if (e.key == key) return &e;
    return nullptr;
  }

  // A block of `cap` entries holding the entries of `old` (freed), or an empty one.
  static Ties* resize(Ties* old, std::uint32_t cap) {
    auto* t = new (small_alloc(bytes(cap))) Ties;
    t->cap_ = cap;
    if (old != nullptr) {
      t->size_ = old->size_;
      t->index_ = std::exchange(old->index_, nullptr);
      std::memcpy(static_cast<void*>(t->data()), old->data(), old->size_ * sizeof(Entry));
      destroy(old);
    }
    return t;
  }

  static bool emplace(Ties*& t, std::uint64_t key, const Pid& pid) {
    if (t != nullptr && t->find(key) != nullptr) return false;
    if (t == nullptr || t->size_ == t->cap_) {
      const std::uint32_t n = t == nullptr ? 0 : t->size_;
      t = resize(t, n < step_until ? n + 1 : 2 * n);
    }
    const std::uint32_t at = t->size_++;
    t->data()[at] = Entry{key, pid};
    if (t->index_ != nullptr) {
      t->index_->emplace(key, at);
    } else if (t->size_ > index_from) {
      t->index_ = new Index;
      for (std::uint32_t i = 0; i < t->size_; ++i) t->index_->emplace(t->data()[i].key, i);
    }
    return true;
  }

  static std::size_t erase(Ties*& t, std::uint64_t key) {
    Entry* e = t->find(key);
    if (e == nullptr) return 0;
    if (t->index_ != nullptr) t->index_->erase(key);
    Entry* last = t->data() + (t->size_ - 1);
    if (e != last) {
      *e = *last;
      if (t->index_ != nullptr) (*t->index_)[e->key] = static_cast<std::uint32_t>(e - t->data());
    }
    --t->size_;
    // A block keeps one spare entry (a monitor during a call comes and goes without a resize);
    // one left with more, after a burst (a supervisor's children monitored while they start),
    // shrinks; so does a big one left mostly empty (a supervisor whose many children have gone).
    if (t->cap_ <= step_until ? t->size_ + 2 <= t->cap_ : 4 * t->size_ <= t->cap_)
      t = resize(t, t->cap_ <= step_until ? t->size_ + 1 : 2 * t->size_);
    return 1;
  }
};
static_assert(sizeof(Ties) == 16 && std::is_trivially_copyable_v<Ties::Entry>);

}  // namespace otp::detail
