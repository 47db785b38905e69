// What every otp::Table shares whatever its types: options, owner, heir,
// deletion (the code is in table.cpp). Part of otp/table.hpp, which includes
// it at its end, after the options it uses: include that header, not this one.
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
// Lifetime follows the owner, not the handles: the core keeps itself alive
// (self_) while it has an owner. Deleting the table frees its objects at once;
// the handles that remain keep only an empty shell.
//
// Deletion sets a flag, then clears every map as its writer; every operation
// tests the flag inside its gate, so none can touch a map after it was
// cleared (the gate orders the flag's store before the test; see
// table_state.hpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "otp/pid.hpp"

namespace otp::detail {

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
  // Call with the gate of the data about to be touched held (see table_state.hpp).
  void check_live(const char* op) const {
    if (deleted_.load(std::memory_order_relaxed)) [[unlikely]]
      refuse_deleted(op);
  }
  bool alive() const { return !deleted_.load(std::memory_order_acquire); }
  TableType type() const { return type_; }

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
  // Table::info: BadArg once deleted; no rows, so any process may ask.
  TableInfo info() const;

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

}  // namespace otp::detail
