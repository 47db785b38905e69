#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

using otp_test::kWait;

struct Leaf : otp::GenServer<Leaf, int> {
  int init(int n) { return n; }
};

otp::ChildSpec leaf(const std::string& id, int n) {
  return {.id = id, .start = [n] { return Leaf::start_link(n); }};
}

const otp::TreeNode* find(const std::vector<otp::TreeNode>& forest, const otp::Pid& pid) {
  for (const auto& n : forest) {
    if (n.info.pid == pid) return &n;
    if (const auto* f = find(n.children, pid)) return f;
  }
  return nullptr;
}

TEST(Observer, TreeShowsASupervisorAndItsChildrenInStartOrder) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup =
      me.await(otp::Supervisor::start_link(otp::Name::local("top"), {leaf("a", 1), leaf("b", 2)}));
  ASSERT_TRUE(sup.ok());
  auto forest = me.await(otp::observer::tree());
  const otp::TreeNode* node = find(forest, sup.pid());
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->info.name, "top");
  EXPECT_EQ(node->info.behaviour, "Supervisor");
  EXPECT_TRUE(node->info.traps_exits);
  ASSERT_EQ(node->children.size(), 2u);
  EXPECT_EQ(node->children[0].info.behaviour, "GenServer");
  EXPECT_NE(node->children[0].info.module.find("Leaf"), std::string::npos);
  EXPECT_EQ(node->children[0].info.state, "1");
  EXPECT_EQ(node->children[1].info.state, "2");
  EXPECT_LT(node->children[0].info.pid, node->children[1].info.pid);
  // The supervisor is linked to both children and to its parent.
  EXPECT_EQ(node->info.links.size(), 3u);
  EXPECT_EQ(node->info.parent, me.pid());
}

TEST(Observer, RenderersShowEveryProcess) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto sup = me.await(otp::Supervisor::start_link(otp::Name::local("top"), {leaf("a", 1)}));
  auto forest = me.await(otp::observer::tree());
  const otp::TreeNode* node = find(forest, sup.pid());
  ASSERT_NE(node, nullptr);
  std::vector<otp::TreeNode> one{*node};
  std::string text = otp::observer::render_text(one);
  EXPECT_EQ(text.rfind(sup.pid().to_string() + " top (Supervisor)", 0), 0u) << text;
  EXPECT_NE(text.find("└─ " + node->children[0].info.pid.to_string()), std::string::npos) << text;

  auto json = nlohmann::json::parse(otp::observer::render_json(one));
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["name"], "top");
  EXPECT_EQ(json[0]["children"].size(), 1u);
  EXPECT_EQ(json[0]["children"][0]["behaviour"], "GenServer");

  std::string dot = otp::observer::render_dot(one);
  EXPECT_EQ(dot.rfind("digraph", 0), 0u);
  EXPECT_NE(dot.find(fmt::format("\"{}\" -> \"{}\"", sup.pid(), node->children[0].info.pid)),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("shape=box"), std::string::npos);
  EXPECT_NE(dot.find(fmt::format("[label=\"top\\n{}\\nSupervisor\"", sup.pid())), std::string::npos)
      << dot;

  auto all = me.await(otp::observer::processes());
  std::string table = otp::observer::render_table(all);
  EXPECT_EQ(table.rfind("PID", 0), 0u);
  for (const auto& p : all) EXPECT_NE(table.find(p.pid.to_string()), std::string::npos);
}

TEST(Observer, InfoCountsMailboxAndHandledMessages) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  struct Hold {};
  auto [pid, ref] = otp_test::spawn_monitored(me, [me = me.pid()]() -> otp::Co<void> {
    co_await otp::receive<int>();
    otp::send(me, std::string("took it"));
    co_await otp::receive<otp_test::Never>();
  });
  otp::send(pid, 1);
  ASSERT_TRUE(me.receive<std::string>(kWait));
  otp::send(pid, Hold{});
  otp::send(pid, Hold{});
  auto info = me.await(otp::observer::info(pid));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->mailbox, 2u);
  EXPECT_EQ(info->handled, 2u);  // the Go of spawn_monitored and the int
  EXPECT_NE(info->status, otp::ProcessInfo::Status::exiting);
  EXPECT_EQ(info->behaviour, "process");
  ASSERT_EQ(info->monitored_by.size(), 1u);
  EXPECT_EQ(info->monitored_by[0], me.pid());
}

// set_label (proc_lib:set_label/1): a plain process says what it is where it has no name, in
// the info, the tree and the table; a registered name still wins.
TEST(Observer, ALabelNamesAPlainProcessUnlessItHasARegisteredName) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto [labelled, ref1] = otp_test::spawn_monitored(me, [me = me.pid()]() -> otp::Co<void> {
    otp::set_label("http connection");
    otp::send(me, 1);
    co_await otp::receive<otp_test::Never>();
  });
  auto [named, ref2] = otp_test::spawn_monitored(me, [me = me.pid()]() -> otp::Co<void> {
    otp::register_name("keeper", otp::self());
    otp::set_label("a label");
    otp::send(me, 2);
    co_await otp::receive<otp_test::Never>();
  });
  ASSERT_TRUE(me.receive<int>(kWait));
  ASSERT_TRUE(me.receive<int>(kWait));
  auto info = me.await(otp::observer::info(labelled));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->name, "http connection");
  EXPECT_EQ(info->behaviour, "process");
  EXPECT_NE(
      otp::observer::render_table(me.await(otp::observer::processes())).find("http connection"),
      std::string::npos);
  auto kept = me.await(otp::observer::info(named));
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->name, "keeper");
}

TEST(Observer, InfoOfADeadProcessIsEmpty) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto [pid, ref] = otp_test::spawn_monitored(me, []() -> otp::Co<void> { co_return; });
  ASSERT_TRUE(otp_test::await_down(me, ref));
  EXPECT_FALSE(me.await(otp::observer::info(pid)));
}

// A process that answers after the asker gave up: its reply goes to the asker's alias, which
// ended with the wait, so it is dropped instead of staying in the asker's mailbox for good.
TEST(Observer, ALateAnswerIsDroppedNotLeftInTheAskersMailbox) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  struct Go {};
  struct Done {};
  // Busy for 300 ms without a wait point: it answers the observer's signal only after.
  auto [slow, slow_ref] = otp_test::spawn_monitored(me, [me = me.pid()]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    otp::send(me, Go{});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    co_await otp::receive<otp_test::Never>();
  });
  auto [asker, asker_ref] = otp_test::spawn_monitored(me, [me = me.pid(), slow]() -> otp::Co<void> {
    co_await otp::receive<Go>();
    co_await otp::observer::info(slow, std::chrono::milliseconds(50));  // gives up: busy
    otp::send(me, Done{});
    co_await otp::receive<otp_test::Never>();
  });
  otp::send(slow, Go{});
  ASSERT_TRUE(me.receive<Go>(kWait));  // slow is in its sleep
  otp::send(asker, Go{});
  ASSERT_TRUE(me.receive<Done>(kWait));
  // Once slow waits again it has answered the asker too (the signals come in order).
  auto again = me.await(otp::observer::info(slow, kWait));
  ASSERT_TRUE(again);
  EXPECT_NE(again->status, otp::ProcessInfo::Status::busy);
  auto info = me.await(otp::observer::info(asker, kWait));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->mailbox, 0u);
}

}  // namespace
