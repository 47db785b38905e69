// The back-off of senders to a long mailbox (docs/semantics.md, "Messages"): a process whose
// send finds otp::backoff_threshold messages or more not yet taken in by the receiver waits, at
// its next yield, until the receiver takes its mailbox in. Sending itself never waits, never
// drops and keeps each sender's order; a receiver that never reads, or two processes flooding
// each other, never leave a sender waiting for good.
#include <atomic>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

using otp_test::await_down;

constexpr long kSendsPerYield = 100;

struct Item {
  int producer;
  long seq;
};
struct Done {};

struct Shared {
  std::atomic<long> sent{0};      // by all producers, counted after each send
  std::atomic<long> received{0};  // by the receiver
  std::atomic<long> peak{0};      // the largest sent - received the receiver saw
  std::atomic<long> out_of_order{0};
  std::atomic<bool> stop{false};
};

// Sends n items, yielding every kSendsPerYield sends, then Done.
otp::Co<void> producer(Shared* s, otp::Pid to, int id, long n) {
  for (long i = 0; i < n; ++i) {
    otp::send(to, Item{id, i});
    s->sent.fetch_add(1);
    if ((i + 1) % kSendsPerYield == 0) co_await otp::yield();
  }
  otp::send(to, Done{});
}

// Takes items until `producers` Dones, doing some work for each (slower than a send), and
// records the longest backlog it saw and whether each producer's items came in order.
otp::Co<void> slow_receiver(Shared* s, int producers) {
  long next[2] = {0, 0};
  volatile std::uint64_t work = 0;
  for (int done = 0; done < producers;) {
    co_await otp::receive(
        [&](const Item& it) {
          if (it.seq != next[it.producer]) s->out_of_order.fetch_add(1);
          next[it.producer] = it.seq + 1;
          const long backlog = s->sent.load() - s->received.fetch_add(1);
          if (backlog > s->peak.load()) s->peak.store(backlog);
          for (int k = 0; k < 200; ++k) work = work + k;
        },
        [&](Done) { ++done; });
  }
}

class Backoff : public ::testing::TestWithParam<unsigned> {
 protected:
  otp::Options options() const {
    otp::Options o;
    o.threads = GetParam();
    return o;
  }
};

TEST_P(Backoff, TwoFastSendersKeepASlowReceiversMailboxShort) {
  otp::Runtime rt{options()};
  otp::Scoped me{rt};
  Shared s;
  constexpr long kEach = 6 * static_cast<long>(otp::backoff_threshold);
  const otp::Pid receiver = rt.spawn(slow_receiver, &s, 2);
  const otp::Ref down = me.monitor(receiver);
  rt.spawn(producer, &s, receiver, 0, kEach);
  rt.spawn(producer, &s, receiver, 1, kEach);
  ASSERT_TRUE(await_down(me, down).has_value());
  EXPECT_EQ(s.received.load(), 2 * kEach);
  EXPECT_EQ(s.out_of_order.load(), 0);
  RecordProperty("peak_backlog", std::to_string(s.peak.load()));
  // The documented bound: twice (the threshold plus what the senders send between two of
  // their yields): what the receiver took in at once, and what arrived meanwhile.
  EXPECT_LE(s.peak.load(), 2 * (static_cast<long>(otp::backoff_threshold) + 2 * kSendsPerYield));
}

TEST_P(Backoff, ASenderToAReceiverThatNeverReadsStillFinishes) {
  otp::Runtime rt{options()};
  otp::Scoped me{rt};
  Shared s;
  // Runs, yielding, and never looks at its mailbox until told to stop.
  const otp::Pid deaf = rt.spawn([&s]() -> otp::Co<void> {
    while (!s.stop.load()) co_await otp::yield();
  });
  const otp::Pid test = me.pid();
  const otp::Pid sender = rt.spawn([&s, deaf, test]() -> otp::Co<void> {
    for (long i = 0; i < 3 * static_cast<long>(otp::backoff_threshold); ++i) {
      otp::send(deaf, Item{0, i});
      if ((i + 1) % kSendsPerYield == 0) co_await otp::yield();
    }
    otp::send(test, Done{});
  });
  const otp::Ref down = me.monitor(sender);
  EXPECT_TRUE(me.receive<Done>(otp_test::kWait).has_value());
  EXPECT_TRUE(await_down(me, down).has_value());
  s.stop.store(true);
  const otp::Ref deaf_down = me.monitor(deaf);
  EXPECT_TRUE(await_down(me, deaf_down).has_value());
}

TEST_P(Backoff, TwoProcessesFloodingEachOtherBothFinish) {
  otp::Runtime rt{options()};
  otp::Scoped me{rt};
  const otp::Pid test = me.pid();
  constexpr long kEach = 3 * static_cast<long>(otp::backoff_threshold);
  // Sends kEach items to its peer without reading, then reads the peer's kEach in order.
  auto flooder = [test]() -> otp::Co<void> {
    const otp::Pid peer = (co_await otp::receive<otp::Pid>());
    for (long i = 0; i < kEach; ++i) {
      otp::send(peer, Item{0, i});
      if ((i + 1) % kSendsPerYield == 0) co_await otp::yield();
    }
    for (long i = 0; i < kEach; ++i) {
      const Item it = co_await otp::receive<Item>();
      if (it.seq != i) co_return;  // no Done: the test fails
    }
    otp::send(test, Done{});
  };
  const otp::Pid a = rt.spawn(flooder);
  const otp::Pid b = rt.spawn(flooder);
  otp::send(a, b);
  otp::send(b, a);
  EXPECT_TRUE(me.receive<Done>(otp_test::kWait).has_value());
  EXPECT_TRUE(me.receive<Done>(otp_test::kWait).has_value());
}

INSTANTIATE_TEST_SUITE_P(Threads, Backoff, ::testing::Values(1u, 2u),
                         [](const auto& info) { return fmt::format("{}Threads", info.param); });

}  // namespace
