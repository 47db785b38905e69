// The JSON the web observer's page consumes (otp/observer/view.hpp).
#include "otp/observer/view.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "otp/otp.hpp"

namespace {

using Json = nlohmann::json;

struct Secret {
  std::string value;
};

}  // namespace

template <>
struct fmt::formatter<Secret> : fmt::formatter<std::string_view> {
  auto format(const Secret&, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "#Secret<redacted>");
  }
};

namespace {

struct Leaf : otp::GenServer<Leaf, int> {
  struct Get {};
  int init(int n) { return n; }
  int handle_call(Get) { return state(); }
};

struct Keeper : otp::GenServer<Keeper, Secret> {
  Secret init(std::string s) { return Secret{std::move(s)}; }
};

otp::ChildSpec leaf(const std::string& id, int n) {
  return {.id = id, .start = [n] { return Leaf::start_link(n); }};
}

const Json* node(const Json& update, const std::string& pid) {
  if (!update.contains("tree") || !update["tree"].contains("set")) return nullptr;
  for (const auto& n : update["tree"]["set"])
    if (n["pid"] == pid) return &n;
  return nullptr;
}

// A snapshot taken once every process waits with an empty mailbox: a supervisor that has
// answered its starter may still be finishing its own step, and would show up as a change.
otp::observer::Snapshot settled(otp::Scoped& me) {
  otp::observer::Snapshot snap;
  for (int i = 0; i < 500; ++i) {
    snap = me.await(otp::observer::snapshot());
    if (std::ranges::all_of(snap.processes, [](const otp::ProcessInfo& p) {
          return p.status == otp::ProcessInfo::Status::waiting && p.mailbox == 0;
        }))
      break;
    me.receive<int>(std::chrono::milliseconds(2));
  }
  return snap;
}

bool has(const Json& list, const std::string& pid) {
  return std::find(list.begin(), list.end(), Json(pid)) != list.end();
}

TEST(ObserverView, FirstUpdateShowsRootsClosedAndAnOpenBranchItsChildren) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup =
      me.await(otp::Supervisor::start_link(otp::Name::local("top"), {leaf("a", 1), leaf("b", 2)}));
  ASSERT_TRUE(sup.ok());
  otp::observer::View view;
  Json first = view.update(me.await(otp::observer::snapshot()));
  ASSERT_TRUE(first["tree"].contains("roots"));
  EXPECT_TRUE(has(first["tree"]["roots"], sup.pid().to_string())) << first.dump();
  const Json* top = node(first, sup.pid().to_string());
  ASSERT_NE(top, nullptr);
  EXPECT_EQ((*top)["name"], "top");
  EXPECT_EQ((*top)["behaviour"], "Supervisor");
  EXPECT_EQ((*top)["children"], 2);
  EXPECT_EQ((*top)["open"], false);
  EXPECT_TRUE((*top)["shown"].empty());
  EXPECT_TRUE(first.contains("table"));
  EXPECT_TRUE(first.contains("detail"));
  EXPECT_TRUE(first["detail"].is_null());
  for (const char* key : {"t", "processes", "messages_per_second", "run_queue", "memory"})
    EXPECT_TRUE(first["system"].contains(key)) << key;
  // The program's resident memory, read from /proc: a test program holds more than a megabyte.
  EXPECT_GT(first["system"]["memory"].get<std::size_t>(), std::size_t{1} << 20);

  view.expand(sup.pid().to_string());
  Json opened = view.update(me.await(otp::observer::snapshot()));
  top = node(opened, sup.pid().to_string());
  ASSERT_NE(top, nullptr);
  ASSERT_EQ((*top)["shown"].size(), 2u);
  const std::string a = (*top)["shown"][0];
  const Json* child = node(opened, a);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ((*child)["behaviour"], "GenServer");
  EXPECT_EQ((*child)["module"], "Leaf");
  EXPECT_EQ((*child)["parent"], sup.pid().to_string());
  for (const char* key : {"status", "mailbox", "handled", "memory"})
    EXPECT_TRUE(child->contains(key)) << key;
}

TEST(ObserverView, AnUnchangedRuntimeSendsOnlyTheSystemLine) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::Supervisor::start_link(otp::Name::local("top"), {leaf("a", 1)}));
  otp::observer::View view;
  view.expand(sup.pid().to_string());
  view.update(settled(me));
  Json again = view.update(me.await(otp::observer::snapshot()));
  EXPECT_FALSE(again.contains("tree")) << again.dump();
  EXPECT_FALSE(again.contains("table")) << again.dump();
  EXPECT_FALSE(again.contains("detail")) << again.dump();
  EXPECT_TRUE(again.contains("system"));
}

TEST(ObserverView, AProcessThatTookAMessageIsSentAgainAloneAndTheTableWhole) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup =
      me.await(otp::Supervisor::start_link(otp::Name::local("top"), {leaf("a", 1), leaf("b", 2)}));
  const auto children = me.await(otp::Supervisor::which_children(sup.pid()));
  const std::string a = children.at(0).pid.to_string();
  otp::observer::View view;
  view.expand(sup.pid().to_string());
  Json first = view.update(settled(me));
  const auto handled = (*node(first, a))["handled"].get<std::uint64_t>();

  EXPECT_EQ(me.await(Leaf::call(children.at(0).pid, Leaf::Get{})), 1);
  Json after = view.update(me.await(otp::observer::snapshot()));
  ASSERT_TRUE(after.contains("tree")) << after.dump();
  ASSERT_EQ(after["tree"]["set"].size(), 1u) << after.dump();
  EXPECT_EQ(after["tree"]["set"][0]["pid"], a);
  EXPECT_EQ(after["tree"]["set"][0]["handled"], handled + 1);
  EXPECT_FALSE(after["tree"].contains("roots"));
  ASSERT_TRUE(after.contains("table")) << after.dump();
  EXPECT_EQ(after["table"]["rows"].size(), first["table"]["rows"].size());
  EXPECT_EQ(after["table"]["total"], first["table"]["total"]);
}

TEST(ObserverView, ARestartedChildIsRemovedAndItsSuccessorSet) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::Supervisor::start_link(otp::Name::local("top"), {leaf("a", 1)}));
  otp::observer::View view;
  view.expand(sup.pid().to_string());
  Json first = view.update(me.await(otp::observer::snapshot()));
  const std::string old = (*node(first, sup.pid().to_string()))["shown"][0];
  auto children = me.await(otp::Supervisor::which_children(sup.pid()));
  const otp::Ref mref = me.monitor(children.at(0).pid);
  otp::exit(children.at(0).pid, otp::Reason::kill());
  ASSERT_TRUE(me.receive<otp::Down>([&](const otp::Down& d) { return d.ref == mref; },
                                    std::chrono::seconds(10)));
  // Until the supervisor has started the new child: the updates on the way remove the old
  // pid and set the new one (in one update or in two).
  Json removed = Json::array();
  std::string successor;
  for (int i = 0; i < 200 && successor.empty(); ++i) {
    Json after = view.update(me.await(otp::observer::snapshot()));
    if (!after.contains("tree")) {
      me.receive<int>(std::chrono::milliseconds(10));
      continue;
    }
    for (const auto& pid : after["tree"].value("removed", Json::array())) removed.push_back(pid);
    const Json* top = node(after, sup.pid().to_string());
    if (top != nullptr && !(*top)["shown"].empty() && (*top)["shown"][0] != old) {
      successor = (*top)["shown"][0];
      EXPECT_NE(node(after, successor), nullptr);
    }
  }
  EXPECT_TRUE(has(removed, old)) << removed.dump();
  EXPECT_FALSE(successor.empty());
}

TEST(ObserverView, DetailsHaveLinksParentTrapExitAndTheStateThroughItsFormatter) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto keeper = me.await(Keeper::start(std::string("hunter2")));
  ASSERT_TRUE(keeper.ok());
  auto sup = me.await(otp::Supervisor::start_link(otp::Name::local("top"), {leaf("a", 7)}));
  otp::observer::View view;
  view.select(keeper.pid().to_string());
  Json j = view.update(me.await(otp::observer::snapshot()));
  ASSERT_TRUE(j["detail"].is_object()) << j.dump();
  EXPECT_EQ(j["detail"]["state"], "#Secret<redacted>");
  EXPECT_EQ(j.dump().find("hunter2"), std::string::npos);
  for (const char* key : {"links", "monitors", "monitored_by", "parent", "trap_exit"})
    EXPECT_TRUE(j["detail"].contains(key)) << key;

  view.select(sup.pid().to_string());
  j = view.update(me.await(otp::observer::snapshot()));
  EXPECT_EQ(j["detail"]["trap_exit"], true);
  EXPECT_EQ(j["detail"]["parent"], me.pid().to_string());
  EXPECT_EQ(j["detail"]["links"].size(), 2u);  // the child and the caller
}

// What the page says before a kill: how many processes end with it, and whether it is the top
// of its tree (no supervisor to start it again).
TEST(ObserverView, DetailsCountTheProcessesUnderItAndSayWhetherItIsATop) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::ChildSpec inner{.id = "inner",
                       .start =
                           [] {
                             return otp::Supervisor::start_link({leaf("x", 1), leaf("y", 2)});
                           },
                       .type = otp::ChildType::supervisor};
  auto sup = me.await(otp::Supervisor::start_link(otp::Name::local("top"), {inner, leaf("a", 3)}));
  ASSERT_TRUE(sup.ok());
  auto children = me.await(otp::Supervisor::which_children(sup.pid()));
  ASSERT_EQ(children.size(), 2u);
  const auto inner_pid = children[0].id == "inner" ? children[0].pid : children[1].pid;
  const auto leaf_pid = children[0].id == "inner" ? children[1].pid : children[0].pid;
  otp::observer::View view;
  auto detail = [&](const otp::Pid& pid) {
    view.select(pid.to_string());
    return view.update(me.await(otp::observer::snapshot()))["detail"];
  };
  Json top = detail(sup.pid());
  EXPECT_EQ(top["descendants"], 4) << top.dump();  // inner, x, y and a
  EXPECT_EQ(top["root"], true);
  Json mid = detail(inner_pid);
  EXPECT_EQ(mid["descendants"], 2);
  EXPECT_EQ(mid["root"], false);
  Json low = detail(leaf_pid);
  EXPECT_EQ(low["descendants"], 0);
  EXPECT_EQ(low["root"], false);
}

TEST(ObserverView, ABigBranchIsPagedAndMoreShowsMore) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto dyn = me.await(otp::DynamicSupervisor::start_link(otp::Name::local("many")));
  for (int i = 0; i < 120; ++i)
    ASSERT_TRUE(me.await(otp::DynamicSupervisor::start_child(dyn.pid(), otp::child<Leaf>(i))).ok());
  otp::observer::View view;
  view.expand(dyn.pid().to_string());
  Json j = view.update(me.await(otp::observer::snapshot()));
  const Json* many = node(j, dyn.pid().to_string());
  ASSERT_NE(many, nullptr);
  EXPECT_EQ((*many)["children"], 120);
  EXPECT_EQ((*many)["shown"].size(), otp::observer::View::page);
  view.more(dyn.pid().to_string());
  j = view.update(me.await(otp::observer::snapshot()));
  EXPECT_EQ((*node(j, dyn.pid().to_string()))["shown"].size(), 2 * otp::observer::View::page);
  // Only what changed: the branch and the nodes newly shown, not the ones already sent.
  EXPECT_EQ(j["tree"]["set"].size(), 1 + otp::observer::View::page);
}

TEST(ObserverView, SearchOpensTheBranchesDownToTheProcess) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto dyn = me.await(otp::DynamicSupervisor::start_link(otp::Name::local("many")));
  for (int i = 0; i < 80; ++i)
    me.await(otp::DynamicSupervisor::start_child(dyn.pid(), otp::child<Leaf>(i)));
  auto last = me.await(otp::DynamicSupervisor::start_child(dyn.pid(), otp::child<Leaf>(99)));
  otp::observer::View view;
  auto snap = me.await(otp::observer::snapshot());
  auto found = view.search(snap, last.pid().to_string());
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, last.pid().to_string());
  Json j = view.update(snap);
  const Json* many = node(j, dyn.pid().to_string());
  ASSERT_NE(many, nullptr);
  EXPECT_TRUE(has((*many)["shown"], last.pid().to_string()));
  EXPECT_EQ(j["detail"]["pid"], last.pid().to_string());
  EXPECT_EQ(*view.search(snap, "man"), dyn.pid().to_string());  // a part of a name
  EXPECT_FALSE(view.search(snap, "nothing-like-it"));
}

TEST(ObserverView, TheTableSortsFiltersAndStopsAtItsLimit) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::Supervisor::start_link(otp::Name::local("top"),
                                                  {leaf("a", 1), leaf("b", 2), leaf("c", 3)}));
  otp::observer::View view;
  view.table("pid", true, "Leaf", 2);
  Json j = view.update(me.await(otp::observer::snapshot()));
  EXPECT_EQ(j["table"]["total"], 3);
  ASSERT_EQ(j["table"]["rows"].size(), 2u);
  auto children = me.await(otp::Supervisor::which_children(sup.pid()));
  EXPECT_EQ(j["table"]["rows"][0]["pid"], children.back().pid.to_string());  // descending

  // By a counter: b took two calls, c one, a none.
  for (int i = 0; i < 2; ++i) EXPECT_EQ(me.await(Leaf::call(children.at(1).pid, Leaf::Get{})), 2);
  EXPECT_EQ(me.await(Leaf::call(children.at(2).pid, Leaf::Get{})), 3);
  view.table("handled", true, "Leaf", 2);
  j = view.update(me.await(otp::observer::snapshot()));
  ASSERT_EQ(j["table"]["rows"].size(), 2u);
  EXPECT_EQ(j["table"]["rows"][0]["pid"], children.at(1).pid.to_string());
  EXPECT_EQ(j["table"]["rows"][1]["pid"], children.at(2).pid.to_string());
  // A column the table does not have sorts by pid.
  view.table("colour", false, "Leaf", 3);
  j = view.update(me.await(otp::observer::snapshot()));
  ASSERT_EQ(j["table"]["rows"].size(), 3u);
  EXPECT_EQ(j["table"]["rows"][0]["pid"], children.at(0).pid.to_string());
}

struct Counter : otp::GenServer<Counter, int> {
  using Info = otp::Messages<int>;
  int init() { return 0; }
  void handle_info(int) { ++state(); }
};

TEST(ObserverView, ASnapshotPutsNothingInAMailbox) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto counter = me.await(Counter::start());
  for (int i = 0; i < 3; ++i) me.await(otp::observer::snapshot());
  auto info = me.await(otp::observer::info(counter.pid()));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->handled, 0u);
  EXPECT_EQ(info->mailbox, 0u);
  EXPECT_EQ(info->state, "0");
}

}  // namespace

namespace {

TEST(ObserverView, TablesShowOwnerSizeAndFirstRowsButNoRowsOfAPrivateOne) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto hits = otp::Table<std::string, int>::create({.name = "hits"});
  for (int i = 0; i < 8; ++i) hits.insert(fmt::format("k{}", i), i);
  auto hidden = otp::Table<int, int>::create({.access = otp::Access::private_, .name = "hidden"});
  hidden.insert(1, 42);
  otp::observer::View view;
  Json j = view.update(me.await(otp::observer::snapshot()));
  ASSERT_TRUE(j.contains("tables")) << j.dump();
  const Json* h = nullptr;
  const Json* p = nullptr;
  for (const auto& t : j["tables"]) {
    if (t["name"] == "hits") h = &t;
    if (t["name"] == "hidden") p = &t;
  }
  ASSERT_NE(h, nullptr);
  EXPECT_EQ((*h)["size"], 8);
  EXPECT_EQ((*h)["owner"], me.pid().to_string());
  EXPECT_EQ((*h)["type"], "set");
  EXPECT_EQ((*h)["access"], "protected");
  ASSERT_EQ((*h)["rows"].size(), 5u);
  EXPECT_EQ((*h)["rows"][0].get<std::string>().rfind("{k", 0), 0u) << (*h)["rows"][0];
  ASSERT_NE(p, nullptr);
  EXPECT_EQ((*p)["size"], 1);
  EXPECT_TRUE((*p)["rows"].empty());
  hidden.delete_table();
  j = view.update(me.await(otp::observer::snapshot()));
  ASSERT_TRUE(j.contains("tables"));
  EXPECT_EQ(j["tables"].size(), 1u);
}

}  // namespace
