// Micro-benchmarks of the runtime's building blocks (Google Benchmark).
// The workload programs (bench_*.cpp) measure whole behaviours; these isolate
// the pieces those numbers are made of.
#include <benchmark/benchmark.h>

#include "otp/detail/mailbox.hpp"
#include "otp/detail/msg.hpp"
#include "otp/reason.hpp"

namespace {

struct Inc {};

void message_alloc_free(benchmark::State& state) {
  for (auto _ : state) {
    otp::detail::Msg* m = otp::detail::make_msg<Inc>();
    benchmark::DoNotOptimize(m);
    otp::detail::free_msg(m);
  }
}
BENCHMARK(message_alloc_free);

// Push a batch of messages, then take them all in one exchange, as a receiver does.
void inbox_push_take(benchmark::State& state) {
  const auto batch = static_cast<int>(state.range(0));
  otp::detail::Inbox inbox;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) inbox.push(otp::detail::make_msg<Inc>());
    otp::detail::Msg* tail = nullptr;
    for (otp::detail::Msg* m = inbox.take(tail); m != nullptr;) {
      otp::detail::Msg* next = m->next;
      otp::detail::free_msg(m);
      m = next;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(inbox_push_take)->Arg(1)->Arg(64)->Arg(1024);

// The block/wake handshake a sleeping receiver goes through for each message.
void inbox_block_wake(benchmark::State& state) {
  otp::detail::Inbox inbox;
  for (auto _ : state) {
    inbox.try_block();
    auto r = inbox.push(otp::detail::make_msg<Inc>());
    benchmark::DoNotOptimize(r);
    otp::detail::Msg* tail = nullptr;
    otp::detail::free_msg(inbox.take(tail));
  }
}
BENCHMARK(inbox_block_wake);

void reason_copy(benchmark::State& state) {
  const otp::Reason r = otp::Reason::exception("boom");
  for (auto _ : state) {
    otp::Reason copy = r;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(reason_copy);

}  // namespace
