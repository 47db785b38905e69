// TableTermsCache: reads from the Table in the reader's own process; a put that has returned is
// seen by every reader; only the owner writes; the same TTL and eviction as TermsCache.
#include "table_terms_cache.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

using lab::TableTermsCache;
using namespace std::chrono_literals;

namespace {

struct Read {
  int reader;
  otp::Pid pid;
  std::optional<std::string> value;
};

// `readers` processes each read `key` once and report.
void read_from(otp::Runtime& rt, otp::Pid to, int readers, const std::string& key) {
  for (int r = 0; r < readers; ++r) {
    rt.spawn([to, r, key]() -> otp::Co<void> {
      otp::send(to, Read{r, otp::self(), TableTermsCache::get(key)});
      co_return;
    });
  }
}

struct TableTermsCacheVirtual : ::testing::Test {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  void SetUp() override { ASSERT_TRUE(me.await(TableTermsCache::start_link(1s)).ok()); }
};

}  // namespace

// No sleep between the put and the reads: the reply to put comes after the insert.
TEST(TableTermsCache, APutThatReturnedIsSeenByEveryReader) {
  otp::Runtime rt{otp::Options{.threads = 4}};
  otp::Scoped me(rt);
  ASSERT_TRUE(me.await(TableTermsCache::start_link()).ok());
  constexpr int readers = 8;
  for (int round = 0; round < 200; ++round) {
    const std::string value = std::to_string(round);
    me.await(TableTermsCache::put("round", value));
    read_from(rt, me.pid(), readers, "round");
    for (int r = 0; r < readers; ++r) {
      Read read = me.receive<Read>();
      ASSERT_EQ(read.value, value) << "reader " << read.reader << " in round " << round;
    }
  }
}

TEST(TableTermsCache, ReadsAreMadeByTheReadersThemselves) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid cache = me.await(TableTermsCache::start_link()).pid();
  me.await(TableTermsCache::put("greeting", "hello"));
  EXPECT_EQ(TableTermsCache::get("greeting"), "hello");  // from this thread: no process in between
  EXPECT_EQ(TableTermsCache::get("nothing"), std::nullopt);
  read_from(rt, me.pid(), 1, "greeting");
  Read read = me.receive<Read>();
  EXPECT_NE(read.pid, cache);
  EXPECT_EQ(read.value, "hello");
}

TEST(TableTermsCache, OnlyTheOwnerWritesTheTable) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  ASSERT_TRUE(me.await(TableTermsCache::start_link()).ok());
  auto table = otp::persistent_term::get<lab::EntryTable>(TableTermsCache::name);
  EXPECT_THROW(table.insert("greeting", lab::Entry{"hello"}), otp::BadArg);
  EXPECT_EQ(TableTermsCache::get("greeting"), std::nullopt);
}

TEST_F(TableTermsCacheVirtual, AnEntryIsNotServedOnceItsTtlIsOver) {
  me.await(TableTermsCache::put("greeting", "hello", 2500ms));
  rt.advance(2499ms);
  EXPECT_EQ(TableTermsCache::get("greeting"), "hello");
  rt.advance(1ms);
  EXPECT_EQ(TableTermsCache::get("greeting"), std::nullopt);
}

TEST_F(TableTermsCacheVirtual, TheEvictionKeepsEntriesWithoutATtl) {
  me.await(TableTermsCache::put("motto", "hang ten"));
  for (const char* key : {"a", "b", "c"}) me.await(TableTermsCache::put(key, "x", 1s));
  rt.advance(999ms);
  EXPECT_EQ(TableTermsCache::size(), 4u);
  rt.advance(1ms);
  EXPECT_EQ(TableTermsCache::size(), 1u);
  rt.advance(1h);
  EXPECT_EQ(TableTermsCache::size(), 1u);
  EXPECT_EQ(TableTermsCache::get("motto"), "hang ten");
}
