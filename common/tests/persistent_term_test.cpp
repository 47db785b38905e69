// persistent_term: a process-wide store with lock-free reads. Each test uses
// keys of its own, since the store outlives every test.
#include "otp/persistent_term.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace pt = otp::persistent_term;

namespace {

TEST(PersistentTerm, GetReturnsWhatPutStored) {
  pt::put("pt.get.int", 42);
  pt::put("pt.get.string", std::string("hello"));
  EXPECT_EQ(pt::get<int>("pt.get.int"), 42);
  EXPECT_EQ(pt::get<std::string>("pt.get.string"), "hello");
}

TEST(PersistentTerm, GetAsAnotherTypeThrowsBadArg) {
  pt::put("pt.type", 42);
  EXPECT_THROW((void)pt::get<long>("pt.type"), otp::BadArg);
  EXPECT_THROW((void)pt::get<std::string>("pt.type", "x"), otp::BadArg);
}

TEST(PersistentTerm, GetOfAMissingKeyThrowsBadArg) {
  EXPECT_THROW((void)pt::get<int>("pt.missing"), otp::BadArg);
}

TEST(PersistentTerm, GetWithADefaultAnswersForAMissingKey) {
  EXPECT_EQ(pt::get<int>("pt.default", 7), 7);
  pt::put("pt.default", 8);
  EXPECT_EQ(pt::get<int>("pt.default", 7), 8);
}

TEST(PersistentTerm, EraseRemovesTheKey) {
  pt::put("pt.erase", 1);
  EXPECT_TRUE(pt::erase("pt.erase"));
  EXPECT_FALSE(pt::erase("pt.erase"));
  EXPECT_THROW((void)pt::get<int>("pt.erase"), otp::BadArg);
}

TEST(PersistentTerm, OverwriteKeepsAnOldReferenceValid) {
  pt::put("pt.overwrite", std::string("first"));
  const std::string& first = pt::get<std::string>("pt.overwrite");
  pt::put("pt.overwrite", std::string("second"));
  pt::erase("pt.overwrite");
  pt::put("pt.overwrite", 3);
  EXPECT_EQ(first, "first");
  EXPECT_EQ(pt::get<int>("pt.overwrite"), 3);
}

TEST(PersistentTerm, ReadableFromProcesses) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  struct Seen {
    std::string value;
  };
  pt::put("pt.process", std::string("shared"));
  me.spawn([to = me.pid()]() -> otp::Co<void> {
    otp::send(to, Seen{pt::get<std::string>("pt.process")});
    co_return;
  });
  auto seen = me.receive<Seen>(otp_test::kWait);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->value, "shared");
}

TEST(PersistentTerm, ReadersSeeWholeValuesWhileAWriterPuts) {
  constexpr int puts = 200;
  std::atomic<bool> done{false};
  std::atomic<long> bad{0};
  pt::put("pt.race", std::vector<int>(8, 0));
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      int last = 0;
      while (!done.load(std::memory_order_acquire)) {
        const auto& v = pt::get<std::vector<int>>("pt.race");
        // Every element of one value is the same number, and values only grow.
        for (int x : v)
          if (x != v.front()) bad.fetch_add(1);
        if (v.front() < last) bad.fetch_add(1);
        last = v.front();
      }
    });
  }
  for (int i = 1; i <= puts; ++i) pt::put("pt.race", std::vector<int>(8, i));
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(pt::get<std::vector<int>>("pt.race").front(), puts);
}

}  // namespace
