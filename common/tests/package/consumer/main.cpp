// A program outside the repository, built against an installed runtime: a GenServer started
// from a plain thread, three casts and a call; and a function of otp::console, so that its
// library and libedit are linked too.
#include <fmt/format.h>

#include "otp/console.hpp"
#include "otp/otp.hpp"

struct Counter : otp::GenServer<Counter, int> {
  struct Add {
    int n;
  };
  struct Get {};

  int init(int start) { return start; }
  void handle_cast(Add add) { state() += add.n; }
  int handle_call(Get) { return state(); }
};

int main() {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  const otp::Pid counter = me.await(Counter::start(0)).pid();
  for (int i = 0; i < 3; ++i) Counter::cast(counter, Counter::Add{1});
  const int count = me.await(Counter::call(counter, Counter::Get{}));
  const auto second = otp::parse_duration("1s");
  fmt::print("counter: {} (a console parses 1s as {} ms)\n", count,
             second ? std::chrono::duration_cast<std::chrono::milliseconds>(*second).count() : -1);
  return count == 3 ? 0 : 1;
}
