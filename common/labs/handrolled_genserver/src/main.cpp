// handrolled_genserver: a Stack on the hand-rolled GenServer, and what happens to a call that is
// not answered or whose server is gone, and to a message nobody expects.
#include <chrono>

#include <fmt/format.h>

#include "stack.hpp"

using namespace std::chrono_literals;

namespace {

std::string shown(const otp::Result<lab::Stack::Reply>& r) {
  if (!r.ok()) return r.to_string();
  return r.value() ? fmt::format("{}", *r.value()) : std::string("empty");
}

struct Never {};

otp::Co<void> tour() {
  const otp::Pid stack = lab::Stack::start({1, 2});
  lab::Stack::push(stack, 3);
  for (int i = 0; i < 4; ++i) {
    auto top = co_await lab::Stack::pop(stack);
    fmt::print("pop: {}\n", shown(top));
  }
  otp::send(stack, std::string("hello"));  // logged, dropped
  auto after = co_await lab::Stack::pop(stack);
  fmt::print("pop after an unexpected message: {}\n", shown(after));

  const otp::Pid mute = otp::spawn([]() -> otp::Co<void> { co_await otp::receive<Never>(); });
  auto late = co_await lab::GenServer<lab::Stack>::call(mute, lab::Stack::Pop{}, 50ms);
  fmt::print("call with a 50 ms timeout to a process that never answers: {}\n", late.to_string());

  const otp::Ref ref = otp::monitor(stack);
  otp::exit(stack, otp::Reason::kill());
  co_await otp::receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
  auto gone = co_await lab::Stack::pop(stack);
  fmt::print("pop from a killed stack: {}\n", shown(gone));
}

}  // namespace

int main() {
  otp::Runtime rt;
  otp::Scoped me(rt);
  me.await(tour());
  return 0;
}
