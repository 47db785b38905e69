// The observer: processes describe themselves (see process.cpp, describe()),
// and this file gathers the answers and renders them.
#include "otp/observer.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "otp/detail/type_name.hpp"
#include "runtime/runtime_impl.hpp"

namespace otp {

std::string to_string(ProcessInfo::Status s) {
  switch (s) {
    case ProcessInfo::Status::running:
      return "running";
    case ProcessInfo::Status::waiting:
      return "waiting";
    case ProcessInfo::Status::exiting:
      return "exiting";
    case ProcessInfo::Status::busy:
      break;
  }
  return "busy";
}

namespace observer {

namespace {

using namespace detail;

// Asks every pid to describe itself and waits up to `timeout` for the answers. The answers go
// to an alias of the caller (as gen_server:call's reply does in OTP), which ends with the wait:
// a process that answers later (busy past the timeout) has its answer dropped, not left in the
// caller's mailbox for good.
Co<std::vector<ProcessInfo>> ask(std::vector<Pid> pids, Duration timeout) {
  Proc* me = current_or_throw("observer");
  const Ref ref = alias_as(me, AliasMode::explicit_unalias).ref;
  for (const Pid& pid : pids) send_signal(pid, make_msg<InfoSig>(InfoSig{me->pid(), ref}));
  std::unordered_map<std::uint64_t, std::optional<ProcessInfo>> got;
  const Duration deadline = otp::now() + timeout;
  while (got.size() < pids.size()) {
    Duration left = deadline - otp::now();
    // The Scoped clock is real even in virtual-clock mode; bound the wait either way.
    auto reply = co_await receive<InfoReply>([ref](const InfoReply& r) { return r.ref == ref; },
                                             std::max(left, Duration::zero()));
    if (!reply) break;
    Pid from = reply->info ? reply->info->pid : Pid{};
    if (!reply->info) {
      got.emplace(got.size() + (std::uint64_t{1} << 63),
                  std::nullopt);  // a dead one: counts as answered
      continue;
    }
    got.emplace(from.id(), std::move(reply->info));
  }
  // Answers taken in between the last receive and here are in the mailbox already: flush them.
  unalias_as(me, ref);
  while (co_await receive<InfoReply>([ref](const InfoReply& r) { return r.ref == ref; },
                                     Duration::zero())) {
  }
  std::unordered_map<std::uint64_t, Pid> parents;
  for (auto& [pid, parent] : me->rt->snapshot_with_parents()) parents.emplace(pid.id(), parent);
  std::vector<ProcessInfo> out;
  for (const Pid& pid : pids) {
    auto it = got.find(pid.id());
    if (it != got.end() && it->second) {
      out.push_back(std::move(*it->second));
    } else if (is_alive(pid)) {
      ProcessInfo busy;
      busy.pid = pid;
      if (auto p = parents.find(pid.id()); p != parents.end()) busy.parent = p->second;
      out.push_back(std::move(busy));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
  co_return out;
}

std::vector<TreeNode> build_forest(std::vector<ProcessInfo> all) {
  std::unordered_map<std::uint64_t, std::size_t> index;
  for (std::size_t i = 0; i < all.size(); ++i) index.emplace(all[i].pid.id(), i);
  std::vector<std::vector<std::size_t>> kids(all.size());
  std::vector<std::size_t> roots;
  for (std::size_t i = 0; i < all.size(); ++i) {
    auto it = index.find(all[i].parent.id());
    if (all[i].parent && it != index.end() && it->second != i) {
      kids[it->second].push_back(i);
    } else {
      roots.push_back(i);
    }
  }
  auto build = [&](auto& self, std::size_t i) -> TreeNode {
    TreeNode n{std::move(all[i]), {}};
    for (std::size_t k : kids[i]) n.children.push_back(self(self, k));
    return n;
  };
  std::vector<TreeNode> forest;
  for (std::size_t r : roots) forest.push_back(build(build, r));
  return forest;
}

// What tells an unnamed server apart from its siblings: its state, when that is short.
std::string short_state(const ProcessInfo& p) {
  if (!p.name.empty() || p.behaviour != "GenServer" || p.state.empty() || p.state.size() > 32)
    return "";
  return p.state;
}

std::string label(const ProcessInfo& p) {
  std::string out = p.pid.to_string();
  if (!p.name.empty()) out += " " + p.name;
  std::string kind = p.behaviour.empty() ? std::string("process") : p.behaviour;
  if (!p.module.empty()) kind += " " + module_name(p.module);
  if (p.status == ProcessInfo::Status::busy) kind = "busy";
  std::string state = short_state(p);
  return state.empty() ? fmt::format("{} ({})", out, kind)
                       : fmt::format("{} ({}) state: {}", out, kind, state);
}

void text_node(const TreeNode& n, const std::string& prefix, bool last, bool root,
               std::string& out) {
  if (root) {
    out += label(n.info) + "\n";
  } else {
    out += prefix + (last ? "└─ " : "├─ ") + label(n.info) + "\n";
  }
  std::string next = root ? prefix : prefix + (last ? "   " : "│  ");
  for (std::size_t i = 0; i < n.children.size(); ++i)
    text_node(n.children[i], next, i + 1 == n.children.size(), false, out);
}

nlohmann::json to_json(const ProcessInfo& p) {
  auto pids = [](const std::vector<Pid>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const Pid& pid : v) a.push_back(pid.to_string());
    return a;
  };
  return nlohmann::json{
      {"pid", p.pid.to_string()},
      {"name", p.name},
      {"behaviour", p.behaviour},
      {"module", p.module},
      {"status", to_string(p.status)},
      {"mailbox", p.mailbox},
      {"handled", p.handled},
      {"memory", p.memory},
      {"traps_exits", p.traps_exits},
      {"parent", p.parent ? nlohmann::json(p.parent.to_string()) : nlohmann::json(nullptr)},
      {"links", pids(p.links)},
      {"monitors", pids(p.monitors)},
      {"monitored_by", pids(p.monitored_by)},
      {"state", p.state}};
}

nlohmann::json to_json(const TreeNode& n) {
  nlohmann::json j = to_json(n.info);
  j["children"] = nlohmann::json::array();
  for (const auto& c : n.children) j["children"].push_back(to_json(c));
  return j;
}

std::string dot_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

bool is_supervisor(const ProcessInfo& p) {
  return p.behaviour == "Supervisor" || p.behaviour == "DynamicSupervisor" ||
         p.behaviour == "TaskSupervisor";
}

void dot_node(const TreeNode& n, std::string& out) {
  // The label's lines, each escaped, joined with DOT's own \n.
  std::string text = n.info.name.empty() ? n.info.pid.to_string()
                                         : dot_escape(n.info.name) + "\\n" + n.info.pid.to_string();
  std::string kind = n.info.module.empty() ? n.info.behaviour : module_name(n.info.module);
  if (!kind.empty()) text += "\\n" + dot_escape(kind);
  if (std::string state = short_state(n.info); !state.empty())
    text += "\\nstate: " + dot_escape(state);
  out += fmt::format("  \"{}\" [label=\"{}\", shape={}];\n", n.info.pid.to_string(), text,
                     is_supervisor(n.info) ? "box" : "ellipse");
  for (const auto& c : n.children) {
    out += fmt::format("  \"{}\" -> \"{}\";\n", n.info.pid.to_string(), c.info.pid.to_string());
    dot_node(c, out);
  }
}

}  // namespace

Co<std::optional<ProcessInfo>> info(Pid pid, Duration timeout) {
  std::vector<Pid> one(1, pid);  // not a braced list: GCC 12 mishandles one inside co_await
  auto all = co_await ask(std::move(one), timeout);
  if (all.empty()) co_return std::nullopt;
  co_return std::move(all.front());
}

Co<std::vector<ProcessInfo>> processes(Duration timeout, bool threads) {
  Proc* me = current_or_throw("observer::processes");
  co_return co_await ask(me->rt->snapshot(!threads), timeout);
}

Co<std::vector<TreeNode>> tree(Duration timeout) {
  co_return build_forest(co_await processes(timeout));
}

Co<std::optional<TreeNode>> tree(Pid root, Duration timeout) {
  auto forest = build_forest(co_await processes(timeout));
  auto find = [&](auto& self, std::vector<TreeNode>& nodes) -> std::optional<TreeNode> {
    for (auto& n : nodes) {
      if (n.info.pid == root) return std::move(n);
      if (auto found = self(self, n.children)) return found;
    }
    return std::nullopt;
  };
  co_return find(find, forest);
}

std::string render_text(const std::vector<TreeNode>& forest) {
  std::string out;
  for (const auto& n : forest) text_node(n, "", true, true, out);
  return out;
}

std::string render_table(const std::vector<ProcessInfo>& processes) {
  std::string out = fmt::format("{:<14} {:<24} {:<30} {:<8} {:>7} {:>9}\n", "PID", "NAME",
                                "BEHAVIOUR", "STATUS", "MAILBOX", "HANDLED");
  for (const auto& p : processes) {
    std::string kind = p.behaviour + (p.module.empty() ? "" : " " + module_name(p.module));
    out +=
        fmt::format("{:<14} {:<24} {:<30} {:<8} {:>7} {:>9}\n", p.pid.to_string(),
                    p.name.empty() ? "-" : p.name, kind, to_string(p.status), p.mailbox, p.handled);
  }
  return out;
}

std::string render_json(const std::vector<TreeNode>& forest) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& n : forest) j.push_back(to_json(n));
  return j.dump(2);
}

std::string render_json(const std::vector<ProcessInfo>& processes) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& p : processes) j.push_back(to_json(p));
  return j.dump(2);
}

std::string render_dot(const std::vector<TreeNode>& forest, std::string_view title) {
  std::string out = fmt::format(
      "digraph \"{}\" {{\n  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n", dot_escape(title));
  for (const auto& n : forest) dot_node(n, out);
  out += "}\n";
  return out;
}

}  // namespace observer
}  // namespace otp
