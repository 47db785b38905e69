// TermsCache: values with a TTL, and an eviction that keeps what has none. On the virtual clock:
// the tests move time with rt.advance, nothing sleeps.
#include "terms_cache.hpp"

#include <gtest/gtest.h>

using lab::TermsCache;
using namespace std::chrono_literals;

namespace {

struct TermsCacheTest : ::testing::Test {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  void SetUp() override { ASSERT_TRUE(me.await(TermsCache::start_link(1s)).ok()); }
  std::optional<std::string> get(const std::string& key) { return me.await(TermsCache::get(key)); }
};

}  // namespace

TEST_F(TermsCacheTest, GetAnswersWhatWasPut) {
  me.await(TermsCache::put("greeting", "hello"));
  EXPECT_EQ(get("greeting"), "hello");
  EXPECT_EQ(get("nothing"), std::nullopt);
  me.await(TermsCache::put("greeting", "aloha"));
  EXPECT_EQ(get("greeting"), "aloha");
}

TEST_F(TermsCacheTest, AnEntryIsNotServedOnceItsTtlIsOver) {
  me.await(TermsCache::put("greeting", "hello", 2500ms));
  rt.advance(2499ms);
  EXPECT_EQ(get("greeting"), "hello");
  rt.advance(1ms);
  EXPECT_EQ(get("greeting"), std::nullopt);  // expired, though the next eviction is at 3 s
}

TEST_F(TermsCacheTest, TheEvictionFreesExpiredEntries) {
  for (const char* key : {"a", "b", "c"}) me.await(TermsCache::put(key, "x", 1s));
  me.await(TermsCache::put("d", "x", 3s));
  rt.advance(999ms);
  EXPECT_EQ(me.await(TermsCache::size()), 4u);
  rt.advance(1ms);  // the eviction at 1 s
  EXPECT_EQ(me.await(TermsCache::size()), 1u);
  rt.advance(2s);
  EXPECT_EQ(me.await(TermsCache::size()), 0u);
}

// The original's fault: its eviction dropped the entries put without a TTL too.
TEST_F(TermsCacheTest, TheEvictionKeepsEntriesWithoutATtl) {
  me.await(TermsCache::put("motto", "hang ten"));
  me.await(TermsCache::put("greeting", "hello", 1s));
  rt.advance(1h);  // 3600 evictions
  EXPECT_EQ(me.await(TermsCache::size()), 1u);
  EXPECT_EQ(get("motto"), "hang ten");
  EXPECT_EQ(get("greeting"), std::nullopt);
}

TEST_F(TermsCacheTest, APutReplacesTheTtlToo) {
  me.await(TermsCache::put("greeting", "hello", 1s));
  me.await(TermsCache::put("greeting", "hello"));
  rt.advance(10s);
  EXPECT_EQ(get("greeting"), "hello");
}
