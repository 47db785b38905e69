#include <gtest/gtest.h>

#include "otp/otp.hpp"

using namespace std::chrono_literals;

struct Ping { otp::Pid from; int n; };
struct Pong { int n; };

TEST(Smoke, PingPong) {
  otp::Runtime rt{otp::Options{.threads = 2}};
  otp::Scoped me{rt};
  auto ponger = rt.spawn([]() -> otp::Co<void> {
    for (;;) {
      auto p = co_await otp::receive<Ping>();
      otp::send(p.from, Pong{p.n + 1});
    }
  });
  otp::send(ponger, Ping{me.pid(), 41});
  EXPECT_EQ(me.receive<Pong>().n, 42);
}
