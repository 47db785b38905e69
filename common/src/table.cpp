// Table ownership: owner, heir, give_away, deletion. See otp/detail/table_core.hpp.
#include "otp/table.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "otp/detail/exit_hook.hpp"
#include "otp/detail/runtime_service.hpp"

namespace otp::detail {

namespace {
std::string describe(const std::string& name) {
  return name.empty() ? std::string("table") : "table " + name;
}

// The tables of one runtime, for the observer: weak, so a table ends as it would without it.
struct TableList final : Service {
  std::mutex m;
  std::vector<std::weak_ptr<TableCore>> tables;
  void stop() noexcept override {
    std::lock_guard lock(m);
    tables.clear();
  }
  void add(std::weak_ptr<TableCore> t) {
    std::lock_guard lock(m);
    std::erase_if(tables, [](const auto& w) { return w.expired(); });
    tables.push_back(std::move(t));
  }
};
const int table_list_key = 0;

std::shared_ptr<TableList> table_list(const Pid& pid) {
  return std::static_pointer_cast<TableList>(
      service_of(pid, &table_list_key, [] { return std::make_shared<TableList>(); }));
}
}  // namespace

std::vector<std::shared_ptr<TableCore>> live_tables() {
  std::vector<std::shared_ptr<TableCore>> out;
  auto list = table_list(caller());
  if (!list) return out;
  std::lock_guard lock(list->m);
  for (const auto& w : list->tables)
    if (auto t = w.lock(); t && t->alive()) out.push_back(std::move(t));
  return out;
}

TableCore::Look TableCore::look(std::size_t rows) const {
  Look l{name_, type_, access_, owner(), observed_size(), {}};
  if (access_ != Access::private_) {
    try {
      l.rows = first_rows(rows);
    } catch (const std::exception&) {  // deleted meanwhile
    }
  }
  return l;
}

std::size_t assign_reader_slot() noexcept {
  static std::atomic<std::size_t> next{0};
  tls_reader_slot = next.fetch_add(1, std::memory_order_relaxed) % reader_slots;
  return tls_reader_slot;
}

TableCore::TableCore(TableOptions options)
    : type_(options.type),
      access_(options.access),
      name_(std::move(options.name)),
      heir_(options.heir),
      heir_data_(std::move(options.heir_data)) {}

void TableCore::start() {
  const Pid me = caller();
  if (!me)
    throw std::logic_error(
        "otp::Table::create must be called from a process or an otp::Scoped handle");
  std::lock_guard lock(m_);
  owner_ = me;
  owner_id_.store(me.id(), std::memory_order_release);
  self_ = shared_from_this();
  if (!arm(me)) {
    drop();
    throw std::logic_error("otp::Table::create: the calling process has exited");
  }
  if (auto list = table_list(me)) list->add(weak_from_this());
}

bool TableCore::caller_owns() const {
  return caller().id() == owner_id_.load(std::memory_order_acquire);
}

void TableCore::refuse(const char* op, const char* what) const {
  const char* mode = access_ == Access::private_ ? "private" : "protected";
  throw BadArg(fmt::format("otp::Table::{}: {} is {}; only its owner {} may {} it", op,
                           describe(name_), mode,
                           Pid{nullptr, owner_id_.load(std::memory_order_acquire)}, what));
}

void TableCore::refuse_deleted(const char* op) const {
  throw BadArg(fmt::format("otp::Table::{}: {} has been deleted", op, describe(name_)));
}

TableInfo TableCore::info() const {
  std::lock_guard lock(m_);
  if (deleted_.load(std::memory_order_relaxed)) refuse_deleted("info");
  return TableInfo{name_, type_, access_, owner_, heir_, observed_size()};
}

Pid TableCore::owner() const {
  std::lock_guard lock(m_);
  if (deleted_.load(std::memory_order_relaxed)) refuse_deleted("owner");
  return owner_;
}

void TableCore::destroy() {
  std::lock_guard lock(m_);
  if (deleted_.load(std::memory_order_relaxed)) refuse_deleted("delete_table");
  if (caller().id() != owner_.id()) refuse("delete_table", "delete");
  drop();
}

void TableCore::give_away(const Pid& to, std::string data) {
  Pid from;
  {
    std::lock_guard lock(m_);
    if (deleted_.load(std::memory_order_relaxed)) refuse_deleted("give_away");
    if (caller().id() != owner_.id()) refuse("give_away", "give away");
    if (to == owner_)
      throw BadArg(fmt::format("otp::Table::give_away: {} already owns {}", to, describe(name_)));
    if (!arm(to)) throw BadArg(fmt::format("otp::Table::give_away: {} is not alive", to));
    from = std::exchange(owner_, to);
    owner_id_.store(to.id(), std::memory_order_release);
  }
  send_transfer(to, from, std::move(data));
}

bool TableCore::arm(const Pid& pid) {
  std::weak_ptr<TableCore> weak = weak_from_this();
  return on_exit(pid, [weak = std::move(weak)](const Pid& p, const Reason&) {
    if (auto t = weak.lock()) t->owner_exited(p);
  });
}

void TableCore::owner_exited(const Pid& pid) {
  Pid heir;
  std::string data;
  // Keeps the table alive past drop(), which lets go of self_.
  std::shared_ptr<TableCore> keep = shared_from_this();
  {
    std::lock_guard lock(m_);
    if (deleted_.load(std::memory_order_relaxed) || owner_ != pid) return;  // a former owner
    heir = std::exchange(heir_, Pid{});
    // A dead heir (or one that is the owner itself) cannot take the table.
    if (!heir || heir == pid || !arm(heir)) {
      drop();
      return;
    }
    owner_ = heir;
    owner_id_.store(heir.id(), std::memory_order_release);
    data = std::move(heir_data_);
  }
  send_transfer(heir, pid, std::move(data));
}

void TableCore::drop() {
  deleted_.store(true, std::memory_order_release);
  clear();
  self_.reset();
}

}  // namespace otp::detail
