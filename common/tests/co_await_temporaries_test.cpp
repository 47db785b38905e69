// Temporaries inside a co_await expression, spelled the way users write them.
// GCC 12 destroys an aggregate temporary (a braced struct, a lambda's closure)
// twice when it lives in a co_await expression and has members with
// destructors: that is the caller's own code and no API can help it (see
// docs/reference.md, "GCC 12 and co_await"). The library's own argument types
// (names, specs made by child<T>, reasons, start arguments) must be safe there.
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "otp/registry.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using otp_test::kWait;

struct Kv : otp::GenServer<Kv, std::map<std::string, std::string>> {
  struct Put {
    std::string key;
    std::string value;
  };
  struct Get {
    std::string key;
  };
  std::map<std::string, std::string> init() { return {}; }
  std::map<std::string, std::string> init(std::string first) { return {{first, first}}; }
  void handle_call(Put p) { state()[p.key] = p.value; }
  std::string handle_call(Get g) { return state()[g.key]; }
  struct Empty {};
  std::size_t handle_call(Empty) { return state().size(); }
};

struct Worker : otp::GenServer<Worker, std::string> {
  std::string init(std::string name) { return name; }
};

// Runs `body` in a process and expects it to end normally.
template <class F>
void run_in_process(F body) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto [pid, ref] = otp_test::spawn_monitored(me, std::move(body));
  (void)pid;
  auto down = otp_test::await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::normal());
}

// Named after its argument: a supervisor refuses two children with one id.
otp::ChildSpec make_spec(std::string name) {
  otp::ChildSpec spec = otp::child<Worker>(name);
  spec.id = std::move(name);
  return spec;
}

TEST(CoAwaitTemporaries, CallToANameBuiltInPlace) {
  run_in_process([]() -> otp::Co<void> {
    auto kv = (co_await Kv::start_link(otp::Name::local(std::string("kv")))).pid();
    (void)kv;
    auto r = co_await Kv::try_call(std::string("kv"), Kv::Empty{});
    if (!r || r.value() != 0) otp::exit(otp::Reason::other("wrong value"));
  });
}

TEST(CoAwaitTemporaries, CallToAViaNameBuiltInPlace) {
  otp::Registry<> reg(otp::Keys::unique);
  run_in_process([&reg]() -> otp::Co<void> {
    std::string key(40, 'k');
    auto kv = co_await Kv::start_link(otp::Via{&reg, key});
    if (!kv) otp::exit(otp::Reason::other("no start"));
    auto n = co_await Kv::call(otp::Via{&reg, key}, Kv::Empty{});
    auto r = co_await Kv::try_call(otp::Via{&reg, std::string(40, 'k')}, Kv::Empty{});
    if (n != 0 || !r) otp::exit(otp::Reason::other("wrong value"));
    co_await otp::stop(otp::Via{&reg, key});
  });
}

TEST(CoAwaitTemporaries, StartLinkWithArgumentsBuiltInPlace) {
  run_in_process([]() -> otp::Co<void> {
    auto r = co_await Kv::start_link(std::string(40, 'x'));
    if (!r) otp::exit(otp::Reason::other("no start"));
    auto named = co_await Kv::start_link(otp::Name::local(std::string(40, 'n')), std::string("y"));
    if (!named) otp::exit(otp::Reason::other("no named start"));
  });
}

TEST(CoAwaitTemporaries, StartChildWithASpecBuiltInPlace) {
  run_in_process([]() -> otp::Co<void> {
    auto sup = co_await otp::Supervisor::start_link(std::vector<otp::ChildSpec>{});
    auto r = co_await otp::Supervisor::start_child(sup.pid(), make_spec(std::string(40, 'a')));
    if (!r) otp::exit(otp::Reason::other("no child"));
    auto dyn = co_await otp::DynamicSupervisor::start_link();
    auto d = co_await otp::DynamicSupervisor::start_child(dyn.pid(),
                                                          otp::child<Worker>(std::string(40, 'b')));
    if (!d) otp::exit(otp::Reason::other("no dynamic child"));
  });
}

TEST(CoAwaitTemporaries, SupervisorStartLinkWithABracedChildList) {
  run_in_process([]() -> otp::Co<void> {
#ifdef OTP_BRACED
    auto sup = co_await otp::Supervisor::start_link(
        {otp::child<Worker>(std::string(40, 'a')), make_spec("b")});
#else
    std::vector<otp::ChildSpec> children{otp::child<Worker>(std::string(40, 'a')), make_spec("b")};
    auto sup = co_await otp::Supervisor::start_link(std::move(children));
#endif
    if (!sup) otp::exit(otp::Reason::other("no supervisor"));
    auto n = co_await otp::Supervisor::count_children(sup.pid());
    if (n.active != 2) otp::exit(otp::Reason::other("wrong count"));
  });
}

TEST(CoAwaitTemporaries, StopWithAReasonBuiltInPlace) {
  run_in_process([]() -> otp::Co<void> {
    auto kv = (co_await Kv::start()).pid();
    co_await otp::stop(kv, otp::Reason::other(std::string(40, 'r')));
  });
}

}  // namespace
