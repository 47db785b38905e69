// otp::Registry: unique and duplicate keys, lookup, dispatch, exits, Via names.
#include "otp/registry.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

using otp_test::await_down;
using otp_test::Go;
using otp_test::kWait;
using otp_test::Never;

namespace {

struct Stop {};
// What a test process reports after its registration.
struct Did {
  otp::Pid from;
  bool ok;
  otp::Pid owner;
};
struct Hello {
  int n;
};

// Spawns a process that registers itself under `key` with `value`, reports the
// outcome to `me` as a Did, then waits for Stop.
template <class V>
otp::Pid spawn_registered(otp::Scoped& me, otp::Registry<V>& reg, std::string key, V value) {
  const otp::Pid to = me.pid();
  return me.spawn([to, &reg, key, value]() -> otp::Co<void> {
    auto r = reg.register_key(key, value);
    otp::send(to, Did{otp::self(), r.ok, r.owner});
    co_await otp::receive<Stop>();
  });
}

// The Did of `pid`, failing the test when none arrives.
Did await_did(otp::Scoped& me, const otp::Pid& pid) {
  auto d = me.receive<Did>([pid](const Did& d) { return d.from == pid; }, kWait);
  EXPECT_TRUE(d.has_value()) << "no report from " << pid.to_string();
  return d.value_or(Did{pid, false, otp::Pid{}});
}

// Spawns a holder of `key` and waits until it is registered.
template <class V>
otp::Pid holder(otp::Scoped& me, otp::Registry<V>& reg, std::string key, V value = {}) {
  otp::Pid pid = spawn_registered(me, reg, std::move(key), std::move(value));
  EXPECT_TRUE(await_did(me, pid).ok);
  return pid;
}

template <class V>
std::vector<otp::Pid> pids_of(const std::vector<std::pair<otp::Pid, V>>& entries) {
  std::vector<otp::Pid> out;
  for (const auto& e : entries) out.push_back(e.first);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<otp::Pid> sorted(std::vector<otp::Pid> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(Registry, UniqueKeyLookupFindsTheRegisteredProcessAndValue) {
  otp::Registry<int> reg(otp::Keys::unique, "reg");
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  EXPECT_EQ(reg.kind(), otp::Keys::unique);
  EXPECT_EQ(reg.name(), "reg");
  otp::Pid pid = spawn_registered(me, reg, "alice", 42);
  Did d = await_did(me, pid);
  EXPECT_TRUE(d.ok);
  EXPECT_EQ(d.owner, pid);
  auto entries = reg.lookup("alice");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].first, pid);
  EXPECT_EQ(entries[0].second, 42);
}

TEST(Registry, ScopedHandleRegistersItsProcessFromAPlainThread) {
  otp::Registry<> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto r = reg.register_key(me, "main");
  EXPECT_TRUE(r);
  EXPECT_EQ(r.owner, me.pid());
  EXPECT_EQ(pids_of(reg.lookup("main")), std::vector<otp::Pid>{me.pid()});
}

TEST(Registry, RegisterKeyOutsideAProcessThrowsLogicError) {
  otp::Registry<> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 1}};
  EXPECT_THROW(reg.register_key("k"), std::logic_error);
  EXPECT_THROW(reg.unregister_key("k"), std::logic_error);
}

TEST(Registry, UniqueKeyTakenIsRefusedWithItsOwner) {
  otp::Registry<int> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid first = holder(me, reg, "k", 1);
  otp::Pid second = spawn_registered(me, reg, "k", 2);
  Did d = await_did(me, second);
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.owner, first);
  // The holder itself cannot take its key twice either.
  auto again = reg.register_key(me, "mine");
  ASSERT_TRUE(again);
  auto twice = reg.register_key(me, "mine");
  EXPECT_FALSE(twice);
  EXPECT_EQ(twice.owner, me.pid());
  auto entries = reg.lookup("k");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].first, first);
  EXPECT_EQ(entries[0].second, 1);
  EXPECT_EQ(reg.keys(second), std::vector<std::string>{});
}

TEST(Registry, DuplicateKeyHoldsEveryRegisteredProcess) {
  otp::Registry<int> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid a = holder(me, reg, "topic", 1);
  otp::Pid b = holder(me, reg, "topic", 2);
  auto entries = reg.lookup("topic");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(pids_of(entries), sorted({a, b}));
  // Registration order is kept.
  EXPECT_EQ(entries[0], std::make_pair(a, 1));
  EXPECT_EQ(entries[1], std::make_pair(b, 2));
}

TEST(Registry, DuplicateKeyRegisteredTwiceBySameProcessGivesTwoEntries) {
  otp::Registry<std::string> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  EXPECT_TRUE(reg.register_key(me, "t", "first"));
  EXPECT_TRUE(reg.register_key(me, "t", "second"));
  auto entries = reg.lookup("t");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0], std::make_pair(me.pid(), std::string("first")));
  EXPECT_EQ(entries[1], std::make_pair(me.pid(), std::string("second")));
  EXPECT_EQ(reg.keys(me.pid()), (std::vector<std::string>{"t", "t"}));
  EXPECT_EQ(reg.count("t"), 2u);
}

TEST(Registry, UnregisterRemovesOnlyTheCallersEntries) {
  otp::Registry<> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid other = holder(me, reg, "t");
  ASSERT_TRUE(reg.register_key(me, "t"));
  ASSERT_TRUE(reg.register_key(me, "t"));
  ASSERT_TRUE(reg.register_key(me, "u"));
  reg.unregister_key(me, "t");
  EXPECT_EQ(pids_of(reg.lookup("t")), std::vector<otp::Pid>{other});
  EXPECT_EQ(reg.keys(me.pid()), std::vector<std::string>{"u"});
  EXPECT_EQ(reg.count(), 2u);
  reg.unregister_key(me, "missing");  // nothing to do
  EXPECT_EQ(reg.count(), 2u);
}

TEST(Registry, UnregisteredUniqueKeyCanBeTakenAgain) {
  otp::Registry<> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  ASSERT_TRUE(reg.register_key(me, "k"));
  reg.unregister_key(me, "k");
  EXPECT_TRUE(reg.lookup("k").empty());
  EXPECT_TRUE(reg.keys(me.pid()).empty());
  otp::Pid pid = spawn_registered(me, reg, std::string("k"), std::monostate{});
  EXPECT_TRUE(await_did(me, pid).ok);
  EXPECT_EQ(pids_of(reg.lookup("k")), std::vector<otp::Pid>{pid});
}

TEST(Registry, LookupOfAMissingKeyIsEmpty) {
  otp::Registry<> unique(otp::Keys::unique);
  otp::Registry<> duplicate(otp::Keys::duplicate);
  EXPECT_TRUE(unique.lookup("nobody").empty());
  EXPECT_TRUE(duplicate.lookup("nobody").empty());
  EXPECT_EQ(unique.count("nobody"), 0u);
}

TEST(Registry, DuplicateKeyDispatchReachesEveryEntry) {
  otp::Registry<int> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  std::vector<otp::Pid> subscribers;
  for (int i = 0; i < 3; ++i) {
    otp::Pid pid = me.spawn([to, &reg, i]() -> otp::Co<void> {
      reg.register_key("news", i * 10);
      otp::send(to, Did{otp::self(), true, otp::Pid{}});
      for (;;) {
        auto h = co_await otp::receive<Hello>();
        otp::send(to, Hello{h.n + i});  // proves which subscriber answered
      }
    });
    await_did(me, pid);
    subscribers.push_back(pid);
  }
  std::size_t seen = 0;
  const bool called = reg.dispatch("news", [&](const std::vector<std::pair<otp::Pid, int>>& es) {
    seen = es.size();
    for (const auto& [pid, value] : es) otp::send(pid, Hello{value});
  });
  EXPECT_TRUE(called);
  EXPECT_EQ(seen, 3u);
  std::vector<int> answers;
  for (int i = 0; i < 3; ++i) {
    auto h = me.receive<Hello>(kWait);
    ASSERT_TRUE(h.has_value());
    answers.push_back(h->n);
  }
  std::sort(answers.begin(), answers.end());
  EXPECT_EQ(answers, (std::vector<int>{0, 11, 22}));
}

TEST(Registry, DispatchIsNotCalledWhenTheKeyHasNoEntries) {
  otp::Registry<> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  bool ran = false;
  EXPECT_FALSE(reg.dispatch("nobody", [&](const auto&) { ran = true; }));
  ASSERT_TRUE(reg.register_key(me, "t"));
  reg.unregister_key(me, "t");
  EXPECT_FALSE(reg.dispatch("t", [&](const auto&) { ran = true; }));
  EXPECT_FALSE(ran);
}

TEST(Registry, DispatchMayUseTheRegistryFromItsCallback) {
  otp::Registry<> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  ASSERT_TRUE(reg.register_key(me, "t"));
  EXPECT_TRUE(reg.dispatch("t", [&](const auto&) { reg.register_key(me, "t"); }));
  EXPECT_EQ(reg.count("t"), 2u);
}

TEST(Registry, KeysListsWhatAProcessHolds) {
  otp::Registry<> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  ASSERT_TRUE(reg.register_key(me, "a"));
  ASSERT_TRUE(reg.register_key(me, "b"));
  EXPECT_EQ(reg.keys(me.pid()), (std::vector<std::string>{"a", "b"}));
  otp::Pid other = holder(me, reg, "c");
  EXPECT_EQ(reg.keys(other), std::vector<std::string>{"c"});
  EXPECT_TRUE(reg.keys(otp::Pid{}).empty());
}

// How reports and the observer name a process started under a Via name.
TEST(Registry, NameOfIsTheFirstKeyALiveProcessHolds) {
  otp::Registry<> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::NameRegistry& names = reg;
  EXPECT_EQ(names.name_of(me.pid()), "");
  ASSERT_TRUE(reg.register_key(me, "first"));
  ASSERT_TRUE(reg.register_key(me, "second"));
  EXPECT_EQ(names.name_of(me.pid()), "first");
  reg.unregister_key(me, "first");
  EXPECT_EQ(names.name_of(me.pid()), "second");
  const otp::Pid other = holder(me, reg, "a name longer than twenty-two bytes");
  EXPECT_EQ(names.name_of(other), "a name longer than twenty-two bytes");
  EXPECT_EQ(names.name_of(otp::Pid{}), "");
}

// A registry destroyed while processes hold keys: their exit still tidies its table, which
// goes with the last of them.
TEST(Registry, ProcessesMayOutliveTheirRegistry) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid a, b;
  {
    otp::Registry<> reg(otp::Keys::duplicate);
    a = holder(me, reg, "k");
    b = holder(me, reg, "k");
    ASSERT_EQ(reg.count("k"), 2u);
  }
  for (const otp::Pid& pid : {a, b}) {
    const otp::Ref ref = me.monitor(pid);
    me.send(pid, Stop{});
    ASSERT_TRUE(await_down(me, ref));
  }
}

TEST(Registry, CountCountsEveryEntryAndTheEntriesUnderAKey) {
  otp::Registry<> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  EXPECT_EQ(reg.count(), 0u);
  ASSERT_TRUE(reg.register_key(me, "a"));
  ASSERT_TRUE(reg.register_key(me, "a"));
  ASSERT_TRUE(reg.register_key(me, "b"));
  otp::Pid other = holder(me, reg, "a");
  EXPECT_EQ(reg.count(), 4u);
  EXPECT_EQ(reg.count("a"), 3u);
  EXPECT_EQ(reg.count("b"), 1u);
  reg.unregister_key(me, "a");
  EXPECT_EQ(reg.count(), 2u);
  EXPECT_EQ(reg.count("a"), 1u);
  EXPECT_EQ(pids_of(reg.lookup("a")), std::vector<otp::Pid>{other});
}

TEST(Registry, EntryVanishesWhenOwnerExits) {
  otp::Registry<> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  auto [pid, ref] = otp_test::spawn_monitored(me, [to, &reg]() -> otp::Co<void> {
    reg.register_key("a");
    reg.register_key("a");
    reg.register_key("b");
    otp::send(to, Did{otp::self(), true, otp::Pid{}});
    co_await otp::receive<Stop>();
  });
  await_did(me, pid);
  ASSERT_EQ(reg.count(), 3u);
  me.send(pid, Stop{});
  ASSERT_TRUE(await_down(me, ref));
  EXPECT_TRUE(reg.lookup("a").empty());
  EXPECT_TRUE(reg.lookup("b").empty());
  EXPECT_TRUE(reg.keys(pid).empty());
  EXPECT_EQ(reg.count(), 0u);
}

TEST(Registry, EntryVanishesWhenOwnerIsKilledOrCrashes) {
  otp::Registry<> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid killed = holder(me, reg, "killed");
  otp::Ref ref = me.monitor(killed);
  otp::exit(killed, otp::Reason::kill());
  ASSERT_TRUE(await_down(me, ref));
  EXPECT_TRUE(reg.lookup("killed").empty());

  auto [crashed, ref2] = otp_test::spawn_monitored(me, [&reg]() -> otp::Co<void> {
    reg.register_key("crashed");
    throw std::runtime_error("boom");
    co_return;
  });
  auto down = await_down(me, ref2);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason.kind(), otp::Reason::Kind::exception);
  EXPECT_TRUE(reg.lookup("crashed").empty());
  EXPECT_EQ(reg.count(), 0u);
}

TEST(Registry, UniqueKeyIsFreeOnceItsOwnerHasExited) {
  otp::Registry<> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid first = holder(me, reg, "k");
  otp::Ref ref = me.monitor(first);
  me.send(first, Stop{});
  ASSERT_TRUE(await_down(me, ref));
  otp::Pid second = holder(me, reg, "k");
  EXPECT_EQ(pids_of(reg.lookup("k")), std::vector<otp::Pid>{second});
}

TEST(Registry, ViaNameSendReachesTheRegisteredProcess) {
  otp::Registry<> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  otp::Pid pid = me.spawn([to, &reg]() -> otp::Co<void> {
    const bool ok = reg.register_name("echo", otp::self());
    otp::send(to, Did{otp::self(), ok, otp::Pid{}});
    for (;;) otp::send(to, co_await otp::receive<Hello>());
  });
  ASSERT_TRUE(await_did(me, pid).ok);
  const otp::Via via{&reg, "echo"};
  EXPECT_EQ(via.whereis(), pid);
  otp::send(via, Hello{7});  // from the test thread
  auto h = me.receive<Hello>(kWait);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->n, 7);
  me.spawn([via]() -> otp::Co<void> {  // from a process
    otp::send(via, Hello{8});
    co_return;
  });
  h = me.receive<Hello>(kWait);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->n, 8);
}

TEST(Registry, ViaNameOfAnUnknownKeyThrowsBadArg) {
  otp::Registry<> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 1}};
  otp::Scoped me{rt};
  const otp::Via via{&reg, "nobody"};
  EXPECT_FALSE(via.whereis().has_value());
  EXPECT_THROW(otp::send(via, Hello{1}), otp::BadArg);
}

TEST(Registry, RegisterNameIsRefusedWhenTheKeyIsTaken) {
  otp::Registry<> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid a = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Never>(); });
  otp::Pid b = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Never>(); });
  EXPECT_TRUE(reg.register_name("name", a));
  EXPECT_FALSE(reg.register_name("name", b));
  EXPECT_EQ(reg.whereis_name("name"), a);
  EXPECT_EQ(reg.keys(a), std::vector<std::string>{"name"});
}

TEST(Registry, RegisterNameOfAnExitedProcessIsRefused) {
  otp::Registry<> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto [pid, ref] = otp_test::spawn_monitored(me, []() -> otp::Co<void> { co_return; });
  ASSERT_TRUE(await_down(me, ref));
  EXPECT_FALSE(reg.register_name("name", pid));
  EXPECT_TRUE(reg.lookup("name").empty());
  EXPECT_EQ(reg.count(), 0u);
}

TEST(Registry, UnregisterNameFreesTheKeyWhoeverHoldsIt) {
  otp::Registry<> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Pid a = holder(me, reg, "name");
  reg.unregister_name("name");
  EXPECT_FALSE(reg.whereis_name("name").has_value());
  EXPECT_TRUE(reg.keys(a).empty());
  reg.unregister_name("name");  // nothing to do
  EXPECT_TRUE(reg.register_name("name", me.pid()));
}

TEST(Registry, ViaNamesNeedUniqueKeys) {
  otp::Registry<> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 1}};
  otp::Scoped me{rt};
  EXPECT_THROW(reg.whereis_name("k"), std::logic_error);
  EXPECT_THROW(reg.register_name("k", me.pid()), std::logic_error);
}

// A server started under a Via name of a duplicate registry: the registry refuses the name
// (std::logic_error in the server's start), the start fails with that reason, nothing else.
TEST(Registry, AServerStartedUnderADuplicateRegistrysNameFailsToStart) {
  otp::Registry<> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 1}};
  otp::Scoped me{rt};
  struct Named : otp::GenServer<Named, int> {
    int init() { return 0; }
    void terminate(const otp::Reason&) { ADD_FAILURE() << "terminate ran without a state"; }
  };
  otp::LogCapture logs;
  auto started = me.await(Named::start(otp::Via(&reg, "k")));
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.to_string().find("via names need a registry with unique keys"),
            std::string::npos)
      << started.to_string();
  EXPECT_EQ(reg.count(), 0u);
}

TEST(Registry, ConcurrentLookupsSeeConsistentEntriesWhileOthersRegisterAndExit) {
  constexpr int kStable = 200;
  constexpr int kChurn = 200;
  constexpr int kReaders = 4;
  constexpr int kRounds = 20;
  otp::Registry<int> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  std::vector<otp::Pid> stable;
  for (int i = 0; i < kStable; ++i)
    stable.push_back(holder(me, reg, "stable-" + std::to_string(i), i));

  struct Report {
    otp::Pid from;
    int bad;
  };
  const otp::Pid to = me.pid();
  std::vector<otp::Pid> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.push_back(me.spawn([to, &reg, stable]() -> otp::Co<void> {
      co_await otp::receive<Go>();
      int bad = 0;
      for (int round = 0; round < kRounds; ++round) {
        for (int i = 0; i < kStable; ++i) {
          auto e = reg.lookup("stable-" + std::to_string(i));
          if (e.size() != 1 || e[0].first != stable[i] || e[0].second != i) ++bad;
        }
        for (int j = 0; j < kChurn; ++j) {
          // A churning key has no entry or exactly its own.
          auto e = reg.lookup("churn-" + std::to_string(j));
          if (e.size() > 1 || (e.size() == 1 && e[0].second != j)) ++bad;
        }
        co_await otp::yield();
      }
      otp::send(to, Report{otp::self(), bad});
    }));
  }
  // Churners register, then exit at once.
  std::vector<otp::Ref> downs;
  for (int j = 0; j < kChurn; ++j) {
    auto [pid, ref] = otp_test::spawn_monitored(me, [&reg, j]() -> otp::Co<void> {
      reg.register_key("churn-" + std::to_string(j), j);
      co_return;
    });
    downs.push_back(ref);
    if (j == kChurn / 4) {
      for (const auto& r : readers) me.send(r, Go{});
    }
  }
  for (const auto& r : readers) {
    auto rep = me.receive<Report>([r](const Report& x) { return x.from == r; }, kWait * 4);
    ASSERT_TRUE(rep.has_value());
    EXPECT_EQ(rep->bad, 0);
  }
  for (const auto& ref : downs) ASSERT_TRUE(await_down(me, ref));
  EXPECT_EQ(reg.count(), static_cast<std::size_t>(kStable));
}

// The open-addressing table behind the shards: the same contents as a std::map
// after any mix of inserts and erases (erase moves later slots back).
TEST(Registry, InternalTableAgreesWithAStdMapUnderRandomInsertsAndErases) {
  // Half the keys on fourteen hash values at both ends of the table (long
  // probe runs that wrap around), half spread.
  auto poor_hash = [](const std::string& key) -> std::uint64_t {
    const std::uint64_t h = otp::detail::hash_key(key);
    const std::uint64_t k = h % 28;
    if (k >= 14) return h;
    return k < 7 ? ~std::uint64_t{0} - 2 * k : 2 * (k - 7) + 1;
  };
  otp::detail::FlatTable<std::string, int> table;
  std::map<std::string, int> model;
  std::mt19937 rng(12345);
  for (int step = 0; step < 20000; ++step) {
    const std::string key = "k" + std::to_string(rng() % 500);
    const std::uint64_t h = poor_hash(key);
    if (rng() % 3 != 0) {
      table.find_or_add(h, std::string_view(key)).value = step;
      model[key] = step;
    } else if (auto* slot = table.find(h, key)) {
      table.erase(slot);
      ASSERT_EQ(model.erase(key), 1u);
    } else {
      ASSERT_EQ(model.count(key), 0u);
    }
    ASSERT_EQ(table.size(), model.size());
  }
  for (const auto& [key, value] : model) {
    const auto* slot = table.find(poor_hash(key), key);
    ASSERT_NE(slot, nullptr);
    EXPECT_EQ(slot->value, value);
  }
  std::size_t seen = 0;
  table.for_each([&](const auto&) { ++seen; });
  EXPECT_EQ(seen, model.size());
}

// A key held in a table's slot: inline up to 22 bytes, on the heap beyond; copies and moves
// keep it whole, and a table keyed by it finds keys of every length across its growth.
TEST(Registry, InternalKeyKeepsShortAndLongKeysWhole) {
  for (const std::size_t n : {0u, 1u, 21u, 22u, 23u, 24u, 100u}) {
    const std::string text(n, 'x');
    otp::detail::Key key(text);
    EXPECT_EQ(key.view(), text);
    otp::detail::Key copy(key);
    otp::detail::Key moved(std::move(key));
    EXPECT_EQ(copy.view(), text);
    EXPECT_EQ(moved.view(), text);
    otp::detail::Key assigned;
    assigned = copy;
    EXPECT_TRUE(assigned == text);
    EXPECT_FALSE(assigned == text + "y");
  }
  otp::detail::FlatTable<otp::detail::Key, std::size_t> table;
  for (std::size_t i = 0; i < 2000; ++i) {
    const std::string key = std::string(i % 40, 'k') + std::to_string(i);
    table.find_or_add(otp::detail::hash_key(key), std::string_view(key)).value = i;
  }
  for (std::size_t i = 0; i < 2000; ++i) {
    const std::string key = std::string(i % 40, 'k') + std::to_string(i);
    const auto* slot = table.find(otp::detail::hash_key(key), key);
    ASSERT_NE(slot, nullptr) << key;
    EXPECT_EQ(slot->value, i);
    EXPECT_EQ(slot->key.view(), key);
  }
}

// Grown through sizes that are not powers of two (8, 10, 12, 15, ...), with the
// consecutive hashes pids give (homes in consecutive slots, wrapping around the
// end of the table): every key stays findable, erased ones are gone.
TEST(Registry, InternalTableFindsConsecutiveHashesAcrossEveryGrowth) {
  otp::detail::FlatTable<std::uint64_t, std::uint64_t> table;
  constexpr std::uint64_t n = 3000;
  for (std::uint64_t k = 1; k <= n; ++k) {
    table.find_or_add(k, k).value = 2 * k;
    if (k % 97 == 0) {
      for (std::uint64_t j = 1; j <= k; ++j) {
        const auto* slot = table.find(j, j);
        ASSERT_NE(slot, nullptr) << "key " << j << " of " << k;
        EXPECT_EQ(slot->value, 2 * j);
      }
    }
  }
  for (std::uint64_t k = 1; k <= n; k += 2) table.erase(table.find(k, k));
  EXPECT_EQ(table.size(), n / 2);
  for (std::uint64_t k = 1; k <= n; ++k)
    EXPECT_EQ(table.find(k, k) != nullptr, k % 2 == 0) << "key " << k;
}

// ---- values, update_value, match, count_match, unregister_match, select, meta ----

// A value shaped like the tuples of Elixir's tests: {number, tag, number}.
struct Triple {
  int a = 0;
  std::string tag;
  int b = 0;
  bool operator==(const Triple&) const = default;
};

// registry_test.exs, unique: "updates current process value" and the values/3 doctests.
TEST(Registry, ValuesAreThoseOfTheGivenProcessUnderTheKey) {
  otp::Registry<int> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  EXPECT_TRUE(reg.values("hello", me.pid()).empty());
  ASSERT_TRUE(reg.register_key(me, "hello", 1));
  otp::Pid other = holder(me, reg, "world", 2);
  EXPECT_EQ(reg.values("hello", me.pid()), std::vector<int>{1});
  EXPECT_TRUE(reg.values("hello", other).empty());
  EXPECT_EQ(reg.values("world", other), std::vector<int>{2});
  EXPECT_TRUE(reg.values("world", me.pid()).empty());
  EXPECT_TRUE(reg.values("nobody", me.pid()).empty());
  otp::send(other, Stop{});
}

// The values/3 doctest for duplicate registries: one value per entry of that process.
TEST(Registry, DuplicateValuesListEveryEntryOfTheProcessInOrder) {
  otp::Registry<int> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  ASSERT_TRUE(reg.register_key(me, "hello", 1));
  otp::Pid other = holder(me, reg, "hello", 3);
  ASSERT_TRUE(reg.register_key(me, "hello", 2));
  EXPECT_EQ(reg.values("hello", me.pid()), (std::vector<int>{1, 2}));
  EXPECT_EQ(reg.values("hello", other), std::vector<int>{3});
  otp::send(other, Stop{});
}

// registry_test.exs, unique: "updates current process value".
TEST(Registry, UpdateValueChangesOnlyTheCallersOwnEntry) {
  otp::Registry<int> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto never = [](const int&) -> int {
    ADD_FAILURE() << "the callback runs only for the caller's own entry";
    return 0;
  };
  EXPECT_FALSE(reg.update_value(me, "hello", never));
  otp::Pid other = holder(me, reg, "hello", 7);
  EXPECT_FALSE(reg.update_value(me, "hello", never));
  EXPECT_EQ(reg.lookup("hello"), (std::vector<std::pair<otp::Pid, int>>{{other, 7}}));

  ASSERT_TRUE(reg.register_key(me, "world", 1));
  auto r = reg.update_value(me, "world", [](const int& v) { return v + 1; });
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, std::make_pair(2, 1));
  EXPECT_EQ(reg.lookup("world"), (std::vector<std::pair<otp::Pid, int>>{{me.pid(), 2}}));
  EXPECT_EQ(reg.count(), 2u);
  otp::send(other, Stop{});
}

TEST(Registry, UpdateValueCallbackMayUseTheRegistry) {
  otp::Registry<int> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  ASSERT_TRUE(reg.register_key(me, "n", 1));
  auto r = reg.update_value(me, "n", [&](const int& v) {
    return v + static_cast<int>(reg.lookup("n").size()) + static_cast<int>(reg.count("n"));
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 3);
  EXPECT_EQ(reg.values("n", me.pid()), std::vector<int>{3});
}

// Registry.update_value/3 raises ArgumentError for a duplicate registry.
TEST(Registry, UpdateValueOnADuplicateRegistryThrowsLogicError) {
  otp::Registry<int> dup(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  ASSERT_TRUE(dup.register_key(me, "hello", 1));
  EXPECT_THROW(dup.update_value(me, "hello", [](const int& v) { return v; }), std::logic_error);
  EXPECT_EQ(dup.values("hello", me.pid()), std::vector<int>{1});
}

// Like register_key, the functions that act on the caller's own entries need a process.
TEST(Registry, UpdateValueAndUnregisterMatchOutsideAProcessThrowLogicError) {
  otp::Registry<int> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 1}};
  EXPECT_THROW(reg.update_value("k", [](const int& v) { return v; }), std::logic_error);
  EXPECT_THROW(reg.unregister_match("k", [](const int&) { return true; }), std::logic_error);
}

// registry_test.exs, duplicate: "supports match patterns" and "supports guards".
TEST(Registry, MatchReturnsTheEntriesWhoseValueSatisfiesThePredicate) {
  otp::Registry<Triple> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  const Triple v1{1, "atom", 1}, v2{2, "atom", 2};
  ASSERT_TRUE(reg.register_key(me, "hello", v1));
  ASSERT_TRUE(reg.register_key(me, "hello", v2));
  otp::Pid other = holder(me, reg, "world", Triple{1, "atom", 1});
  using Entries = std::vector<std::pair<otp::Pid, Triple>>;
  EXPECT_EQ(reg.match("hello", [](const Triple& t) { return t.a == 1; }),
            (Entries{{me.pid(), v1}}));
  EXPECT_EQ(reg.match("hello", [](const Triple& t) { return t.tag == "atom"; }),
            (Entries{{me.pid(), v1}, {me.pid(), v2}}));
  EXPECT_EQ(reg.match("hello", [](const Triple& t) { return t.a == t.b; }),
            (Entries{{me.pid(), v1}, {me.pid(), v2}}));
  EXPECT_EQ(reg.match("hello", [](const Triple& t) { return t.a > 3; }), Entries{});
  EXPECT_EQ(reg.match("nobody", [](const Triple&) { return true; }), Entries{});
  // Only the key asked for, whoever holds it.
  EXPECT_EQ(reg.match("world", [](const Triple&) { return true; }),
            (Entries{{other, Triple{1, "atom", 1}}}));
  otp::send(other, Stop{});
}

// registry_test.exs: "count_match supports match patterns" and "... guard conditions".
TEST(Registry, CountMatchCountsTheEntriesWhoseValueSatisfiesThePredicate) {
  otp::Registry<Triple> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  ASSERT_TRUE(reg.register_key(me, "hello", Triple{1, "atom", 2}));
  auto any = [](const Triple&) { return true; };
  EXPECT_EQ(reg.count_match("hello", [](const Triple& t) { return t.a == 1; }), 1u);
  EXPECT_EQ(reg.count_match("hello", [](const Triple& t) { return t.b > 1; }), 1u);
  EXPECT_EQ(reg.count_match("hello", [](const Triple& t) { return t.b > 2; }), 0u);
  EXPECT_EQ(reg.count_match("hello", any), 1u);
  EXPECT_EQ(reg.count_match("world", any), 0u);
}

// registry_test.exs, duplicate: "unregister_match supports patterns"; and the
// unregister_match/4 doctests for both kinds.
TEST(Registry, UnregisterMatchRemovesOnlyTheCallersMatchingEntries) {
  otp::Registry<std::string> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  for (const char* v : {"world_a", "world_b", "world_c"})
    ASSERT_TRUE(reg.register_key(me, "hello", v));
  otp::Pid other = holder(me, reg, "hello", std::string("world_a"));
  EXPECT_EQ(reg.unregister_match(me, "hello", [](const std::string& v) { return v == "nope"; }),
            0u);
  EXPECT_EQ(reg.unregister_match(me, "hello", [](const std::string& v) { return v == "world_a"; }),
            1u);
  EXPECT_EQ(reg.keys(me.pid()), (std::vector<std::string>{"hello", "hello"}));
  EXPECT_EQ(reg.values("hello", me.pid()), (std::vector<std::string>{"world_b", "world_c"}));
  // The other process's matching entry stays.
  EXPECT_EQ(reg.values("hello", other), std::vector<std::string>{"world_a"});
  EXPECT_EQ(reg.count(), 3u);
  // Then the rest: the key's hashes in the caller's list went with them.
  EXPECT_EQ(reg.unregister_match(me, "hello", [](const std::string&) { return true; }), 2u);
  EXPECT_TRUE(reg.keys(me.pid()).empty());
  EXPECT_EQ(reg.count(), 1u);
  EXPECT_EQ(pids_of(reg.lookup("hello")), std::vector<otp::Pid>{other});
  // After its exit nothing is left.
  const otp::Ref ref = me.monitor(other);
  otp::send(other, Stop{});
  ASSERT_TRUE(await_down(me, ref));
  EXPECT_EQ(reg.count(), 0u);
  EXPECT_TRUE(reg.lookup("hello").empty());
}

// The unregister_match/4 doctest for unique registries: a value that does not match keeps the key.
TEST(Registry, UniqueUnregisterMatchFreesTheKeyOnlyWhenTheValueMatches) {
  otp::Registry<std::string> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  ASSERT_TRUE(reg.register_key(me, "hello", "world"));
  EXPECT_EQ(reg.unregister_match(me, "hello", [](const std::string& v) { return v == "foo"; }), 0u);
  EXPECT_EQ(reg.keys(me.pid()), std::vector<std::string>{"hello"});
  EXPECT_EQ(reg.unregister_match(me, "hello", [](const std::string& v) { return v == "world"; }),
            1u);
  EXPECT_TRUE(reg.keys(me.pid()).empty());
  EXPECT_TRUE(reg.register_key(me, "hello", "again"));
}

// registry_test.exs, unique: "empty list for empty registry", "select all", "select supports
// full match specs", "select supports guard conditions"; and count_select.
TEST(Registry, SelectFiltersEveryEntryByKeyPidAndValue) {
  otp::Registry<Triple> reg(otp::Keys::unique);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto all = [](std::string_view, const otp::Pid&, const Triple&) { return true; };
  EXPECT_TRUE(reg.select(all).empty());
  EXPECT_EQ(reg.count_select(all), 0u);
  const Triple value{1, "atom", 2};
  ASSERT_TRUE(reg.register_key(me, "hello", value));
  otp::Pid other = holder(me, reg, "world", Triple{3, "other", 3});

  auto found = reg.select(all);
  std::sort(found.begin(), found.end(), [](const auto& x, const auto& y) { return x.key < y.key; });
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].key, "hello");
  EXPECT_EQ(found[0].pid, me.pid());
  EXPECT_EQ(found[0].value, value);
  EXPECT_EQ(found[1].key, "world");
  EXPECT_EQ(found[1].pid, other);

  auto mine = reg.select(
      [&](std::string_view, const otp::Pid& pid, const Triple&) { return pid == me.pid(); });
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].key, "hello");
  auto big_b = [](std::string_view, const otp::Pid&, const Triple& t) { return t.b > 1; };
  EXPECT_EQ(reg.count_select(big_b), 2u);
  EXPECT_EQ(reg.count_select([](std::string_view k, const otp::Pid&, const Triple& t) {
    return k == "world" && t.a == t.b;
  }),
            1u);
  EXPECT_TRUE(
      reg.select([](std::string_view k, const otp::Pid&, const Triple&) { return k == "nobody"; })
          .empty());
  const otp::Ref ref = me.monitor(other);
  otp::send(other, Stop{});
  ASSERT_TRUE(await_down(me, ref));
  EXPECT_EQ(reg.count_select(all), 1u);
}

// select in a duplicate registry sees each entry, many under one key.
TEST(Registry, DuplicateSelectSeesEveryEntryInRegistrationOrderUnderAKey) {
  otp::Registry<int> reg(otp::Keys::duplicate);
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(reg.register_key(me, "k", i));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(reg.register_key(me, "other" + std::to_string(i), i));
  auto under_k =
      reg.select([](std::string_view k, const otp::Pid&, const int&) { return k == "k"; });
  std::vector<int> values;
  for (const auto& e : under_k) values.push_back(e.value);
  EXPECT_EQ(values, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(reg.count_select([](std::string_view, const otp::Pid&, const int&) { return true; }),
            105u);
}

// registry_test.exs: "supports meta" (meta/put_meta, atom and tuple keys); delete_meta.
TEST(Registry, MetaStoresValuesByNameApartFromTheEntries) {
  otp::Registry<> reg(otp::Keys::unique);
  EXPECT_FALSE(reg.meta<std::string>("custom_key"));
  reg.put_meta("custom_key", std::string("custom_value"));
  EXPECT_EQ(reg.meta<std::string>("custom_key"), std::string("custom_value"));
  reg.put_meta("custom_key", std::string("replaced"));
  EXPECT_EQ(reg.meta<std::string>("custom_key"), std::string("replaced"));
  reg.put_meta("pair", std::make_pair(1, 2));
  EXPECT_EQ((reg.meta<std::pair<int, int>>("pair")), std::make_pair(1, 2));
  EXPECT_THROW(reg.meta<int>("pair"), std::bad_any_cast);
  EXPECT_EQ(reg.count(), 0u);
  EXPECT_TRUE(reg.delete_meta("pair"));
  EXPECT_FALSE(reg.delete_meta("pair"));
  EXPECT_FALSE(reg.meta<int>("pair"));
}

// registry_test.exs, unique and duplicate: "allows listeners". Exits are not reported.
TEST(Registry, ListenersHearOfRegistrationsAndUnregistrations) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  otp::Registry<int> reg(otp::Keys::duplicate, "topics", {me.pid()});
  using Reg = otp::RegistryRegisterEvent<int>;
  using Unreg = otp::RegistryUnregisterEvent;
  otp::Pid other = holder(me, reg, "hello", 1);
  auto r = me.receive<Reg>(kWait);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->registry, "topics");
  EXPECT_EQ(r->key, "hello");
  EXPECT_EQ(r->pid, other);
  EXPECT_EQ(r->value, 1);

  ASSERT_TRUE(reg.register_key(me, "world", 2));
  ASSERT_TRUE(reg.register_key(me, "world", 3));
  for (int v : {2, 3}) {
    auto w = me.receive<Reg>(kWait);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->pid, me.pid());
    EXPECT_EQ(w->value, v);
  }
  // One entry of two goes: no event; the last one goes: an event.
  EXPECT_EQ(reg.unregister_match(me, "world", [](const int& v) { return v == 2; }), 1u);
  EXPECT_FALSE(me.receive<Unreg>(std::chrono::milliseconds(20)));
  reg.unregister_key(me, "world");
  auto u = me.receive<Unreg>(kWait);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->key, "world");
  EXPECT_EQ(u->pid, me.pid());
  // Unregistering nothing tells nothing; neither does an exit.
  reg.unregister_key(me, "world");
  const otp::Ref ref = me.monitor(other);
  otp::send(other, Stop{});
  ASSERT_TRUE(await_down(me, ref));
  EXPECT_FALSE(me.receive<Unreg>(std::chrono::milliseconds(20)));
}

}  // namespace
