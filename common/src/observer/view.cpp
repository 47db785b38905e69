// The web observer's view (otp/observer/view.hpp): a snapshot in, a bounded diff out.
//
// Each update rebuilds the parent -> children index of the snapshot (children in pid order,
// which is start order), walks the roots and the open branches, and compares every node it
// shows with the one last sent (a Brief and the node's place, field by field). Only a node that
// changed is turned into JSON and goes out; a pid last sent but not shown now goes out in
// "removed". The table is compared the same way and sent whole when a row changed. The cost is
// one pass over the snapshot plus the shown nodes, with JSON built only for what is sent; what
// is sent is bounded by what is shown (roots, and `page`s of open branches), the table's limit
// and one detail.
#include "otp/observer/view.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

#include <fcntl.h>
#include <unistd.h>

#include "otp/process.hpp"
#include "otp/receive.hpp"
#include "otp/table.hpp"

namespace otp::observer {

namespace {

nlohmann::json pid_list(const std::vector<Pid>& pids) {
  nlohmann::json a = nlohmann::json::array();
  for (const Pid& p : pids) a.push_back(p.to_string());
  return a;
}

// The second field of /proc/self/statm times the page size. Read into a buffer on the stack: a
// snapshot is taken at every tick, and a stream would allocate its buffer each time.
std::size_t resident_bytes() {
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[128];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  unsigned long long pages = 0, resident = 0;
  if (std::sscanf(text, "%llu %llu", &pages, &resident) != 2) return 0;
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

bool contains(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                     [&](char a, char b) { return lower(a) == lower(b); }) != hay.end();
}

// The id in "<0.N.0>" (the pid's text), or nullopt.
std::optional<std::uint64_t> pid_id(std::string_view text) {
  if (!text.starts_with("<0.") || !text.ends_with(".0>") || text.size() < 7) return std::nullopt;
  std::uint64_t id = 0;
  for (char c : text.substr(3, text.size() - 6)) {
    if (c < '0' || c > '9' || id > UINT64_MAX / 10 - 9) return std::nullopt;
    id = id * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return id;
}

std::string kind(const ProcessInfo& p) {
  std::string k = p.behaviour.empty() ? std::string("process") : p.behaviour;
  if (!p.module.empty()) k += " " + module_name(p.module);
  return k;
}

}  // namespace

Co<Snapshot> snapshot(Duration timeout) {
  Snapshot s;
  s.processes = co_await processes(timeout, false);
  s.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  s.resident_bytes = resident_bytes();
  s.observer = self();
  for (const auto& table : otp::detail::live_tables()) {
    if (s.tables.size() >= 200) break;
    auto look = table->look(5);
    s.tables.push_back(TableInfo{std::move(look.name),
                                 look.type == TableType::set           ? "set"
                                 : look.type == TableType::ordered_set ? "ordered_set"
                                 : look.type == TableType::bag         ? "bag"
                                                                       : "duplicate_bag",
                                 look.access == Access::public_      ? "public"
                                 : look.access == Access::protected_ ? "protected"
                                                                     : "private",
                                 look.owner, look.size, std::move(look.rows)});
  }
  co_return s;
}

namespace {
struct SnapshotReady {};  // to a waiter's alias: the snapshot being taken is there
}  // namespace

// Set while a snapshot is being taken; its end (the snapshot stored, or the taker's frame
// destroyed by an exit) clears the flag and tells the waiters, who then find the snapshot or
// take one themselves.
struct Snapshots::Taking {
  Snapshots& s;
  ~Taking() {
    std::vector<Alias> waiters;
    {
      std::lock_guard lock(s.m_);
      s.taking_ = false;
      waiters.swap(s.waiters_);
    }
    for (const Alias& a : waiters) otp::send(a, SnapshotReady{});
  }
};

Co<std::shared_ptr<const Snapshot>> Snapshots::get(bool renew) {
  Duration timeout{}, patience{};
  for (bool waited = false;; waited = true) {
    std::optional<Alias> wait;
    {
      std::lock_guard lock(m_);
      if (!renew && latest_ &&
          (std::chrono::steady_clock::now() < fresh_until_ || (waited && taking_)))
        co_return latest_;
      if (!renew && taking_ && !waited) {
        // A reply alias: a late SnapshotReady (after the timeout below) is dropped.
        wait = otp::alias(AliasOption::reply);
        waiters_.push_back(*wait);
        patience = std::chrono::seconds(1) + 2 * cost_;
      } else {
        taking_ = true;
        timeout = std::chrono::milliseconds(250) + cost_;
      }
    }
    if (!wait) break;
    (void)co_await otp::receive<SnapshotReady>(patience);
    otp::unalias(*wait);
    std::lock_guard lock(m_);
    std::erase(waiters_, *wait);
  }
  Taking taking{*this};
  const auto start = std::chrono::steady_clock::now();
  auto snap = std::make_shared<const Snapshot>(co_await snapshot(timeout));
  const auto done = std::chrono::steady_clock::now();
  std::lock_guard lock(m_);
  cost_ = std::chrono::duration_cast<Duration>(done - start);
  fresh_until_ = done + std::max(interval_, 2 * cost_);
  latest_ = snap;
  ++taken_;
  co_return snap;
}

std::uint64_t Snapshots::taken() const {
  std::lock_guard lock(m_);
  return taken_;
}

Brief::Brief(const ProcessInfo& p)
    : pid(p.pid),
      name(p.name),
      behaviour(p.behaviour.empty() ? "process" : p.behaviour),
      module(p.module),
      status(p.status),
      mailbox(p.mailbox),
      handled(p.handled),
      memory(p.memory) {
  // What tells an unnamed server from its siblings (stage 1's Servers): its state, when short.
  if (p.name.empty() && p.behaviour == "GenServer" && p.state.size() <= 32) hint = p.state;
}

// Built field by field: nlohmann's initializer lists make a pair array of each field first,
// three times the allocations (a page's first update builds one per row it shows).
nlohmann::json Brief::json() const {
  nlohmann::json j = nlohmann::json::object();
  j["pid"] = pid.to_string();
  j["hint"] = hint;
  j["name"] = name;
  j["behaviour"] = behaviour;
  j["module"] = module.empty() ? std::string() : module_name(module);
  j["status"] = to_string(status);
  j["mailbox"] = mailbox;
  j["handled"] = handled;
  j["memory"] = memory;
  return j;
}

nlohmann::json brief_json(const ProcessInfo& p) { return Brief(p).json(); }

nlohmann::json detail_json(const ProcessInfo& p) {
  nlohmann::json j = brief_json(p);
  j["parent"] = p.parent ? nlohmann::json(p.parent.to_string()) : nlohmann::json(nullptr);
  j["trap_exit"] = p.traps_exits;
  j["links"] = pid_list(p.links);
  j["monitors"] = pid_list(p.monitors);
  j["monitored_by"] = pid_list(p.monitored_by);
  j["state"] = p.state;
  return j;
}

void View::expand(std::string_view pid) {
  open_.emplace(pid);
  pages_.try_emplace(std::string(pid), page);
}

void View::collapse(std::string_view pid) { open_.erase(std::string(pid)); }

void View::more(std::string_view pid) {
  auto [it, added] = pages_.try_emplace(std::string(pid), page);
  if (!added) it->second += page;
  open_.emplace(pid);
}

void View::table(std::string sort, bool descending, std::string filter, std::size_t limit) {
  static constexpr std::array<std::string_view, 7> columns{
      "pid", "name", "behaviour", "status", "mailbox", "handled", "memory"};
  const auto at = std::find(columns.begin(), columns.end(), sort);
  sort_ = at == columns.end() ? Column::pid : static_cast<Column>(at - columns.begin());
  descending_ = descending;
  filter_ = std::move(filter);
  limit_ = std::clamp<std::size_t>(limit, 1, 1000);
}

std::optional<std::string> View::search(const Snapshot& snap, std::string_view text) {
  if (text.empty()) return std::nullopt;
  const ProcessInfo* found = nullptr;
  if (auto id = pid_id(text)) {
    for (const auto& p : snap.processes) {
      if (p.pid.id() == *id) {
        found = &p;
        break;
      }
    }
  }
  if (found == nullptr) {
    for (const auto& p : snap.processes) {
      if (contains(p.name, text)) {
        found = &p;
        break;
      }
    }
  }
  if (found == nullptr) return std::nullopt;
  std::unordered_map<std::uint64_t, const ProcessInfo*> by_id;
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> kids;
  for (const auto& p : snap.processes) by_id.emplace(p.pid.id(), &p);
  for (const auto& p : snap.processes) kids[p.parent.id()].push_back(p.pid.id());
  // Open every ancestor, with a page long enough to show the next one down.
  std::uint64_t child = found->pid.id();
  for (const ProcessInfo* up = found; up->parent && by_id.contains(up->parent.id());) {
    const ProcessInfo* parent = by_id.at(up->parent.id());
    const auto& siblings = kids[parent->pid.id()];
    const auto at = static_cast<std::size_t>(std::find(siblings.begin(), siblings.end(), child) -
                                             siblings.begin());
    const std::string key = parent->pid.to_string();
    open_.insert(key);
    auto& shown = pages_.try_emplace(key, page).first->second;
    while (shown <= at) shown += page;
    child = parent->pid.id();
    up = parent;
  }
  selected_ = found->pid.to_string();
  return selected_;
}

nlohmann::json View::update(const Snapshot& snap) {
  nlohmann::json out = nlohmann::json::object();

  // The tree.
  std::unordered_map<std::uint64_t, std::size_t> index;
  for (std::size_t i = 0; i < snap.processes.size(); ++i)
    index.emplace(snap.processes[i].pid.id(), i);
  std::unordered_map<std::uint64_t, std::vector<std::size_t>> kids;
  std::vector<std::size_t> roots;
  for (std::size_t i = 0; i < snap.processes.size(); ++i) {
    const ProcessInfo& p = snap.processes[i];
    if (std::find(hidden_.begin(), hidden_.end(), p.pid) != hidden_.end()) continue;
    if (p.parent && index.contains(p.parent.id()) && p.parent != p.pid) {
      kids[p.parent.id()].push_back(i);
    } else {
      roots.push_back(i);
    }
  }
  nlohmann::json set = nlohmann::json::array();
  std::unordered_map<Pid, Node> now;
  auto show = [&](auto& self, std::size_t i) -> void {
    const ProcessInfo& p = snap.processes[i];
    const std::string pid = p.pid.to_string();
    const auto found = kids.find(p.pid.id());
    const std::size_t count = found == kids.end() ? 0 : found->second.size();
    Node node{Brief(p), p.parent, count, open_.contains(pid) && count > 0, {}};
    if (node.open) {
      const auto pg = pages_.find(pid);
      const std::size_t limit = std::min(count, pg == pages_.end() ? page : pg->second);
      for (std::size_t k = 0; k < limit; ++k) {
        node.shown.push_back(snap.processes[found->second[k]].pid);
        self(self, found->second[k]);
      }
    }
    auto sent = sent_nodes_.find(p.pid);
    if (sent == sent_nodes_.end() || sent->second != node) {
      nlohmann::json j = node.brief.json();
      j["parent"] = node.parent ? nlohmann::json(node.parent.to_string()) : nlohmann::json(nullptr);
      j["children"] = node.children;
      j["open"] = node.open;
      j["shown"] = pid_list(node.shown);
      set.push_back(std::move(j));
    }
    now.emplace(p.pid, std::move(node));
  };
  std::vector<Pid> root_pids;
  for (std::size_t r : roots) {
    root_pids.push_back(snap.processes[r].pid);
    show(show, r);
  }
  nlohmann::json removed = nlohmann::json::array();
  for (const auto& [pid, node] : sent_nodes_)
    if (!now.contains(pid)) removed.push_back(pid.to_string());
  nlohmann::json tree = nlohmann::json::object();
  if (first_ || root_pids != sent_roots_) tree["roots"] = pid_list(root_pids);
  if (!set.empty()) tree["set"] = std::move(set);
  if (!removed.empty()) tree["removed"] = std::move(removed);
  if (!tree.empty()) out["tree"] = std::move(tree);
  sent_roots_ = std::move(root_pids);
  sent_nodes_ = std::move(now);

  // The table.
  std::vector<const ProcessInfo*> rows;
  rows.reserve(filter_.empty() ? snap.processes.size() : 0);
  for (const auto& p : snap.processes) {
    if (filter_.empty() || contains(p.pid.to_string(), filter_) || contains(p.name, filter_) ||
        contains(kind(p), filter_))
      rows.push_back(&p);
  }
  auto key_less = [this](const ProcessInfo* a, const ProcessInfo* b) {
    switch (sort_) {
      case Column::name:
        return a->name < b->name;
      case Column::behaviour:
        return kind(*a) < kind(*b);
      case Column::status:
        return to_string(a->status) < to_string(b->status);
      case Column::mailbox:
        return a->mailbox < b->mailbox;
      case Column::handled:
        return a->handled < b->handled;
      case Column::memory:
        return a->memory < b->memory;
      case Column::pid:
        break;
    }
    return a->pid < b->pid;
  };
  const std::size_t shown = std::min(limit_, rows.size());
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(shown), rows.end(),
                    [&](const ProcessInfo* a, const ProcessInfo* b) {
                      if (key_less(a, b) != key_less(b, a))
                        return descending_ ? key_less(b, a) : key_less(a, b);
                      return a->pid < b->pid;
                    });
  std::vector<Brief> briefs;
  briefs.reserve(shown);
  for (std::size_t i = 0; i < shown; ++i) briefs.emplace_back(*rows[i]);
  if (first_ || rows.size() != sent_total_ || briefs != sent_rows_) {
    nlohmann::json table{{"total", rows.size()}, {"rows", nlohmann::json::array()}};
    for (const Brief& b : briefs) table["rows"].push_back(b.json());
    out["table"] = std::move(table);
  }
  sent_total_ = rows.size();
  sent_rows_ = std::move(briefs);

  // The details.
  nlohmann::json detail = nullptr;
  if (auto id = pid_id(selected_)) {
    for (const auto& p : snap.processes) {
      if (p.pid.id() != *id) continue;
      detail = detail_json(p);
      // What a kill takes with it, for the page to say before it sends one: the processes
      // under it (a supervisor's children end with it), and whether it is the top of its
      // tree (no supervisor above it to start it again: its application stops).
      std::size_t under = 0;
      std::vector<std::uint64_t> todo{*id};
      while (!todo.empty()) {
        const auto found = kids.find(todo.back());
        todo.pop_back();
        if (found == kids.end()) continue;
        under += found->second.size();
        for (std::size_t k : found->second) todo.push_back(snap.processes[k].pid.id());
      }
      detail["descendants"] = under;
      detail["root"] = !p.parent || !index.contains(p.parent.id());
    }
  }
  if (first_ || detail != sent_detail_) out["detail"] = detail;
  sent_detail_ = std::move(detail);

  // The tables.
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : snap.tables) {
    tables.push_back({{"name", t.name},
                      {"type", t.type},
                      {"access", t.access},
                      {"owner", t.owner.to_string()},
                      {"size", t.size},
                      {"rows", t.rows}});
  }
  if (first_ || tables != sent_tables_) out["tables"] = tables;
  sent_tables_ = std::move(tables);

  // The system.
  std::uint64_t handled = 0;
  std::size_t running = 0, memory = 0;
  for (const auto& p : snap.processes) {
    if (p.pid != snap.observer) handled += p.handled;
    memory += p.memory;
    if (p.status == ProcessInfo::Status::running) ++running;
  }
  // Over at least 200 ms: an update sent at once after a request comes too soon after the last.
  if (first_ || snap.seconds - last_seconds_ >= 0.2) {
    rate_ = !first_ && handled > last_handled_
                ? static_cast<double>(handled - last_handled_) / (snap.seconds - last_seconds_)
                : 0;
    last_seconds_ = snap.seconds;
    last_handled_ = handled;
  }
  const double rate = rate_;
  nlohmann::json& system = out["system"];
  system["t"] = snap.seconds;
  system["processes"] = snap.processes.size();
  system["messages_per_second"] = rate;
  system["run_queue"] = running;
  system["process_memory"] = memory;
  system["memory"] = snap.resident_bytes;
  first_ = false;
  return out;
}

}  // namespace otp::observer
