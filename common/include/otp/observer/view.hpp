// otp::observer::View — what one page of the web observer shows, and the JSON that keeps it
// current: the first update holds all it shows, each later one only what changed.
//
//   otp::observer::View view;
//   view.expand(supervisor_pid);                       // the page opened a branch
//   auto snap = co_await otp::observer::snapshot();    // the runtime's own data
//   nlohmann::json update = view.update(snap);         // {"tree": ..., "system": ...}
//
// Pages share their snapshots through Snapshots: one reading of the runtime per interval,
// whatever the number of pages.
//
// A page never holds the whole runtime: the tree shows the roots and the children of the
// branches the page opened, `View::page` at a time per branch (more on request); the process
// table shows the first `limit` rows of its sort and filter; the details, one process. So an
// update stays bounded however many processes run. See src/observer/view.cpp for the JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "otp/co.hpp"
#include "otp/observer.hpp"
#include "otp/pid.hpp"

namespace otp::observer {

// A live Table (ETS) as the observer shows it.
struct TableInfo {
  std::string name;    // TableOptions::name, or ""
  std::string type;    // set, ordered_set, bag, duplicate_bag
  std::string access;  // public, protected, private
  Pid owner;
  std::size_t size = 0;
  std::vector<std::string> rows;  // the first few, "{key, value}"; none of a private table
};

// The runtime at one moment, as the observer reads it.
struct Snapshot {
  std::vector<ProcessInfo> processes;  // pid order, coroutine processes only
  std::vector<TableInfo> tables;       // oldest first, at most 200
  double seconds = 0;                  // when it was taken (steady clock)
  std::size_t resident_bytes = 0;      // the program's resident memory
  Pid observer;                        // who took it (its own replies are not counted as work)
};

// Reads every process (their answers to the observer's signal: no message reaches a mailbox).
Co<Snapshot> snapshot(Duration timeout = std::chrono::milliseconds(250));

// The snapshots that pages share: a page that asks while the last one is fresh gets that one, so
// any number of pages costs one reading of the runtime per interval. A snapshot stays fresh for
// `interval`, or twice the time it took when that is longer (half a million processes take a
// second to read: the runtime is read a third of the time at most). While one is being taken,
// the others who ask wait for it instead of taking their own. Any process may call get().
class Snapshots {
 public:
  explicit Snapshots(Duration interval = std::chrono::milliseconds(500)) : interval_(interval) {}
  // The last snapshot while it is fresh, else a new one; with `renew`, a new one in any case
  // (what the last one cannot have: a process started since, say), which the next callers get.
  Co<std::shared_ptr<const Snapshot>> get(bool renew = false);
  // How many snapshots were taken so far.
  std::uint64_t taken() const;

 private:
  struct Taking;  // ends a taking however the taker ends (a page killed in the middle too)
  mutable std::mutex m_;
  const Duration interval_;
  std::shared_ptr<const Snapshot> latest_;
  std::chrono::steady_clock::time_point fresh_until_{};
  Duration cost_{};  // what the last one took
  bool taking_ = false;
  std::vector<Alias> waiters_;  // each told once the one being taken is there
  std::uint64_t taken_ = 0;
};

// One process as the tree and the table show it (a brief: pid, name, behaviour, module, status,
// counters, and the state of an unnamed GenServer when short), and with everything for the
// details.
nlohmann::json brief_json(const ProcessInfo& p);
nlohmann::json detail_json(const ProcessInfo& p);

// A brief's fields, comparable: a View keeps what it sent as these and builds JSON only for the
// rows that changed.
struct Brief {
  Pid pid;
  std::string name, behaviour, module, hint;
  ProcessInfo::Status status = ProcessInfo::Status::busy;
  std::size_t mailbox = 0;
  std::uint64_t handled = 0;
  std::size_t memory = 0;

  explicit Brief(const ProcessInfo& p);
  nlohmann::json json() const;
  bool operator==(const Brief&) const = default;
};

class View {
 public:
  static constexpr std::size_t page = 50;  // children shown per branch at first, and per `more`

  // The tree: open, close, and show more of a branch.
  void expand(std::string_view pid);
  void collapse(std::string_view pid);
  void more(std::string_view pid);
  // Finds a process by pid text or a part of its name (the first in pid order), opens the
  // branches down to it and shows it; its pid, or nullopt.
  std::optional<std::string> search(const Snapshot& snap, std::string_view text);
  // The process table: sorted by a column (pid, name, behaviour, status, mailbox, handled,
  // memory), rows whose pid, name or behaviour contain `filter`, `limit` of them.
  void table(std::string sort, bool descending, std::string filter, std::size_t limit);
  // The process whose details the page shows ("" for none).
  void select(std::string pid) { selected_ = std::move(pid); }
  // Processes to leave out, with their subtrees (the observer's own listener).
  void hide(Pid pid) { hidden_.push_back(pid); }

  // What changed since the last update (everything, the first time):
  //   {"tree": {"roots": [pid...], "set": [node...], "removed": [pid...]},  roots when changed
  //    "table": {"total": n, "rows": [brief...]},                           when changed
  //    "detail": detail or null,                                            when changed
  //    "tables": [{"name", "type", "access", "owner", "size", "rows"}],      when changed
  //    "system": {"t", "processes", "messages_per_second", "run_queue", "memory"}}
  // A node is brief_json plus "parent", "children" (how many), "open" and "shown" (the
  // children it shows, in start order). The detail is detail_json plus "descendants" (how many
  // processes are under it) and "root" (no parent among the processes: the top of its tree).
  nlohmann::json update(const Snapshot& snap);

 private:
  std::set<std::string> open_;
  std::map<std::string, std::size_t> pages_;  // branch -> children shown
  std::vector<Pid> hidden_;
  // The table's sort: the columns table() takes, in its order.
  enum class Column : unsigned char { pid, name, behaviour, status, mailbox, handled, memory };
  Column sort_ = Column::pid;
  bool descending_ = false;
  std::string filter_;
  std::size_t limit_ = 100;
  std::string selected_;

  // A node of the tree as sent: its brief, its parent, how many children it has, whether it is
  // open and the children it shows.
  struct Node {
    Brief brief;
    Pid parent;
    std::size_t children = 0;
    bool open = false;
    std::vector<Pid> shown;
    bool operator==(const Node&) const = default;
  };
  std::unordered_map<Pid, Node> sent_nodes_;
  std::vector<Pid> sent_roots_;
  std::size_t sent_total_ = 0;
  std::vector<Brief> sent_rows_;
  nlohmann::json sent_detail_, sent_tables_;
  bool first_ = true;
  double last_seconds_ = 0;
  std::uint64_t last_handled_ = 0;
  double rate_ = 0;
};

}  // namespace otp::observer
