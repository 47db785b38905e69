// The applications as the observer sees them: their trees and names, the load that moves
// messages, a slow worker's mailbox, restarts under the same supervisor, the Table's rows, and
// the JSON the observer's page receives. Without Redis (tests/redis_test.cpp has the pool).
#include "observer_lab.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "otp/observer/view.hpp"

using namespace std::chrono_literals;
using Names = std::vector<std::string>;

namespace {

// Polls `done` every 20 ms, up to 10 s; whether it came true.
bool eventually(otp::Scoped& me, const std::function<bool()>& done) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    if (done()) return true;
    me.receive<int>(20ms);  // a pause; no int ever comes
  }
  return done();
}

otp::ProcessInfo info(otp::Scoped& me, const std::string& name) {
  auto pid = me.runtime().whereis(name);
  if (!pid) throw std::runtime_error("no process " + name);
  auto found = me.await(otp::observer::info(*pid));
  if (!found) throw std::runtime_error(name + " is gone");
  return *found;
}

// The names of the children of the process registered as `name`, in start order.
Names children(otp::Scoped& me, const std::string& name) {
  auto node = me.await(otp::observer::tree(*me.runtime().whereis(name)));
  Names names;
  for (const auto& child : node.value().children) names.push_back(child.info.name);
  return names;
}

// Kills the process registered as `name`; its successor under the same parent, within 10 s.
std::optional<otp::Pid> kill_and_wait_for_successor(otp::Scoped& me, const std::string& name) {
  const otp::ProcessInfo old = info(me, name);
  otp::exit(old.pid, otp::Reason::kill());
  std::optional<otp::Pid> now;
  const bool replaced = eventually(me, [&] {
    now = me.runtime().whereis(name);
    return now && *now != old.pid;
  });
  if (!replaced) return std::nullopt;
  EXPECT_EQ(info(me, name).parent, old.parent) << name << " came back under another parent";
  return now;
}

lab::Options high_load() {
  lab::Options options;
  options.jobs_per_second = lab::Load::high;
  return options;
}

class ObserverLab : public ::testing::Test {
 protected:
  void start(lab::Options options = {}) { lab::start_applications(apps, me, options); }

  otp::Runtime rt{{.threads = 2}};
  otp::Scoped me{rt};
  otp::Applications apps{me};
};

}  // namespace

TEST_F(ObserverLab, EachApplicationIsATreeOfItsOwnWithTheExpectedNames) {
  start();
  EXPECT_EQ(children(me, "terms_cache"), (Names{"table_terms_cache", "terms_writer"}));
  EXPECT_EQ(children(me, "sessions"), (Names{"ana_sup", "eric_sup", "jose_sup"}));
  EXPECT_EQ(children(me, "ana_sup"), (Names{"ana_stash", "ana_server"}));
  EXPECT_EQ(children(me, "worker_pool"),
            (Names{"worker_1", "worker_2", "worker_3", "worker_4", "load_generator"}));
  for (const char* top : {"terms_cache", "sessions", "worker_pool"})
    EXPECT_EQ(info(me, top).parent, me.pid()) << top << " is not a root";
}

TEST_F(ObserverLab, TheLoadGeneratorKeepsTheWorkersBusy) {
  start(high_load());
  auto jobs = [&] {
    long sum = 0;
    for (int i = 1; i <= 4; ++i)
      sum += me.await(lab::Worker::call(lab::Worker::name(i), lab::Worker::Jobs{}));
    return sum;
  };
  const long before = jobs();
  EXPECT_TRUE(eventually(me, [&] { return jobs() >= before + 1000; })) << jobs();
  EXPECT_GE(info(me, "worker_1").handled, 100u);

  me.await(lab::LoadGenerator::call(lab::LoadGenerator::name, lab::LoadGenerator::Rate{0}));
  const long stopped = jobs();
  me.receive<int>(300ms);  // three ticks without jobs
  EXPECT_EQ(jobs(), stopped);
}

TEST_F(ObserverLab, ASlowWorkersMailboxGrows) {
  start(high_load());
  lab::Worker::cast("worker_2", lab::Worker::Slow{200ms});
  EXPECT_TRUE(eventually(me, [&] { return info(me, "worker_2").mailbox >= 100; }))
      << info(me, "worker_2").mailbox;
  // Killed, it comes back fast, with an empty mailbox: the jobs died with the old one.
  ASSERT_TRUE(kill_and_wait_for_successor(me, "worker_2"));
  EXPECT_TRUE(eventually(
      me, [&] { return info(me, "worker_2").state.find("delay: 0ms") != std::string::npos; }));
}

TEST_F(ObserverLab, AKilledProcessIsRestartedUnderTheSameSupervisorWithANewPid) {
  start();
  for (const char* name : {"worker_3", "load_generator", "ana_server", "eric_sup", "terms_writer"})
    EXPECT_TRUE(kill_and_wait_for_successor(me, name)) << name << " was not restarted";
}

TEST_F(ObserverLab, ASessionsVisitsSurviveItsServerButNotItsStash) {
  start();
  for (int i = 0; i < 3; ++i) me.await(lab::Sessions::visit("ana"));
  ASSERT_TRUE(kill_and_wait_for_successor(me, "ana_server"));
  EXPECT_EQ(me.await(lab::Sessions::visit("ana")), 4);

  const otp::Pid server = *rt.whereis("ana_server");
  ASSERT_TRUE(kill_and_wait_for_successor(me, "ana_stash"));
  EXPECT_TRUE(eventually(me, [&] {  // rest_for_one: the Server after the Stash starts again
    auto now = rt.whereis("ana_server");
    return now && *now != server;
  }));
  EXPECT_EQ(me.await(lab::Sessions::visit("ana")), 1);
}

TEST_F(ObserverLab, TheTermsCacheTableHasRows) {
  start();
  std::optional<otp::observer::TableInfo> table;
  ASSERT_TRUE(eventually(me, [&] {
    for (auto& t : me.await(otp::observer::snapshot()).tables)
      if (t.name == lab::TableTermsCache::name && t.size >= 3) table = t;
    return table.has_value();
  }));
  EXPECT_EQ(table->owner, *rt.whereis(lab::TableTermsCache::name));
  EXPECT_EQ(table->access, "protected");
  ASSERT_FALSE(table->rows.empty());
  EXPECT_NE(table->rows[0].find(", %Entry{value: \"value "), std::string::npos) << table->rows[0];
  EXPECT_TRUE(lab::TableTermsCache::get("term_0").has_value());
}

TEST_F(ObserverLab, TheObserversPageShowsTheApplicationsAsRoots) {
  start();
  otp::observer::View view;
  const std::string pool = rt.whereis("worker_pool")->to_string();
  view.expand(pool);
  const nlohmann::json update = view.update(me.await(otp::observer::snapshot()));
  std::map<std::string, nlohmann::json> nodes;
  for (const auto& node : update["tree"]["set"]) nodes[node["pid"]] = node;
  Names roots;
  for (const auto& pid : update["tree"]["roots"]) roots.push_back(nodes.at(pid)["name"]);
  for (const char* top : {"terms_cache", "sessions", "worker_pool"})
    EXPECT_NE(std::ranges::find(roots, top), roots.end()) << top << " is not a root";
  EXPECT_EQ(nodes.at(pool)["behaviour"], "Supervisor");
  EXPECT_EQ(nodes.at(pool)["children"], 5);
  ASSERT_EQ(nodes.at(pool)["shown"].size(), 5u);
  EXPECT_EQ(nodes.at(nodes.at(pool)["shown"][0])["name"], "worker_1");
  EXPECT_EQ(nodes.at(nodes.at(pool)["shown"][0])["module"], "Lab.Worker");
}
