// A program outside the repository, built against an installed runtime: a GenServer started
// from a plain thread, three casts and a call, a duration of otp::otp; and a function of
// otp::console, so that its library and libedit are linked too (and not the web observer's
// HTTP: otp::console does not need it).
#include <fmt/format.h>

#include "otp/console.hpp"
#include "otp/duration.hpp"
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
  const auto words = otp::Console::split_words("tree dot");
  fmt::print("counter: {} (1s is {} ms; a console reads {} words in \"tree dot\")\n", count,
             second ? std::chrono::duration_cast<std::chrono::milliseconds>(*second).count() : -1,
             words.size());
  return count == 3 && words.size() == 2 ? 0 : 1;
}
