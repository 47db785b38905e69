#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using otp_test::Gate;
using otp_test::kWait;

struct Counter : otp::GenServer<Counter, int> {
  struct Get {};
  struct Add {
    int n;
  };
  struct Crash {};
  struct Slow {};
  struct StopMe {};
  struct Tick {};
  using Info = otp::Messages<Tick>;

  int init(int start) { return start; }
  int handle_call(Get) { return state(); }
  int handle_call(Crash) { throw std::runtime_error("handler crashed"); }
  otp::Co<int> handle_call(Slow) {
    co_await otp::sleep(1h);
    co_return 0;
  }
  void handle_call(StopMe) { stop(otp::Reason::other("asked")); }
  void handle_cast(Add a) { state() += a.n; }
  void handle_info(Tick) { ++state(); }
};

TEST(GenServer, CallReturnsTheHandlersValue) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto started = me.await(Counter::start_link(41));
  ASSERT_TRUE(started.ok()) << started.to_string();
  Counter::cast(started.pid(), Counter::Add{1});
  EXPECT_EQ(me.await(Counter::call(started.pid(), Counter::Get{})), 42);
}

TEST(GenServer, InfoMessagesReachHandleInfo) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Counter::start_link(0)).pid();
  otp::send(pid, Counter::Tick{});
  otp::send(pid, Counter::Tick{});
  EXPECT_EQ(me.await(Counter::call(pid, Counter::Get{})), 2);
}

TEST(GenServer, CallToADeadServerExitsWithNoproc) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Counter::start(0)).pid();
  me.await(otp::stop(pid));
  try {
    me.await(Counter::call(pid, Counter::Get{}));
    FAIL() << "the call returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::noproc());
    EXPECT_EQ(std::string(e.what()).rfind("** (exit) exited in: GenServer.call(", 0), 0u)
        << e.what();
  }
}

TEST(GenServer, CallerSeesTheCalleeCrash) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto pid = me.await(Counter::start(0)).pid();
  try {
    me.await(Counter::call(pid, Counter::Crash{}));
    FAIL() << "the call returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::exception("handler crashed"));
  }
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::crash_report), 1u);
  EXPECT_TRUE(logs.contains("handler crashed"));
}

TEST(GenServer, CallTimesOut) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Counter::start(0)).pid();
  try {
    me.await(Counter::call(pid, Counter::Slow{}, 20ms));
    FAIL() << "the call returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::timeout());
    EXPECT_NE(std::string(e.what()).find("time out"), std::string::npos) << e.what();
  }
}

TEST(GenServer, HandlerCanAskToStop) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto pid = me.await(Counter::start(0)).pid();
  auto ref = me.monitor(pid);
  EXPECT_EQ(me.await(Counter::call(pid, Counter::StopMe{})), otp::Ok{});
  auto down = otp_test::await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::other("asked"));
}

TEST(GenServer, DeferredReplyReachesTheCaller) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto gate = me.await(Gate::start_link()).pid();
  auto [client, ref] = otp_test::spawn_monitored(me, [gate, me = me.pid()]() -> otp::Co<void> {
    int v = co_await Gate::call(gate, Gate::Wait{});
    otp::send(me, v);
  });
  (void)client;
  // The client is parked in the server; release it.
  EXPECT_FALSE(me.receive<int>(10ms));
  Gate::cast(gate, Gate::Release{7});
  EXPECT_EQ(me.receive<int>(kWait), 7);
  EXPECT_TRUE(otp_test::await_down(me, ref));
}

TEST(GenServer, ThousandCallersBlockedInCallsHoldNoThread) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto gate = me.await(Gate::start_link()).pid();
  constexpr int n = 1000;
  for (int i = 0; i < n; ++i)
    me.spawn([gate, me = me.pid()]() -> otp::Co<void> {
      int v = co_await Gate::call(gate, Gate::Wait{}, otp::infinity);
      otp::send(me, v);
    });
  // Every caller is parked in a call on a 2-thread runtime; the server still answers.
  auto deadline = std::chrono::steady_clock::now() + kWait;
  std::size_t parked = 0;
  while ((parked = me.await(Gate::call(gate, Gate::Count{}))) < n &&
         std::chrono::steady_clock::now() < deadline)
    (void)me.receive<otp_test::Never>(1ms);
  ASSERT_EQ(parked, std::size_t{n});
  Gate::cast(gate, Gate::Release{1});
  for (int i = 0; i < n; ++i) ASSERT_EQ(me.receive<int>(kWait), 1);
}

}  // namespace

namespace {

struct Trapper : otp::GenServer<Trapper, otp::Pid> {
  otp::Pid init(otp::Pid observer) {
    otp::trap_exit(true);
    return observer;
  }
  void terminate(const otp::Reason& r) { otp::send(state(), r); }
};

TEST(GenServer, TerminateRunsOnTheParentsShutdownWhenTrapping) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  // The parent is a process that starts the server, then exits with `shutdown`.
  auto [parent, ref] = otp_test::spawn_monitored(me, [me = me.pid()]() -> otp::Co<void> {
    auto r = co_await Trapper::start_link(me);
    otp::send(me, r.pid());
    co_await otp::receive<otp_test::Go>();
    otp::exit(otp::Reason::shutdown());
  });
  auto server = me.receive<otp::Pid>(kWait);
  ASSERT_TRUE(server);
  auto sref = me.monitor(*server);
  otp::send(parent, otp_test::Go{});
  EXPECT_EQ(me.receive<otp::Reason>(kWait), otp::Reason::shutdown());
  auto down = otp_test::await_down(me, sref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
}

TEST(GenServer, TerminateDoesNotRunOnTheParentsExitWithoutTrapping) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  struct Plain : otp::GenServer<Plain, otp::Pid> {
    otp::Pid init(otp::Pid observer) { return observer; }
    void terminate(const otp::Reason& r) { otp::send(state(), r); }
  };
  auto [parent, ref] = otp_test::spawn_monitored(me, [me = me.pid()]() -> otp::Co<void> {
    auto r = co_await Plain::start_link(me);
    otp::send(me, r.pid());
    co_await otp::receive<otp_test::Go>();
    otp::exit(otp::Reason::shutdown());
  });
  auto server = me.receive<otp::Pid>(kWait);
  auto sref = me.monitor(*server);
  otp::send(parent, otp_test::Go{});
  ASSERT_TRUE(otp_test::await_down(me, sref));
  EXPECT_FALSE(me.receive<otp::Reason>(0ms));
}

TEST(GenServer, TerminateRunsOnStopAndOnACrash) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  struct Crashy : otp::GenServer<Crashy, otp::Pid> {
    struct Boom {};
    otp::Pid init(otp::Pid observer) { return observer; }
    void handle_cast(Boom) { throw std::runtime_error("boom"); }
    void terminate(const otp::Reason& r) { otp::send(state(), r); }
  };
  auto a = me.await(Crashy::start(me.pid())).pid();
  me.await(otp::stop(a, otp::Reason::shutdown("done")));
  EXPECT_EQ(me.receive<otp::Reason>(kWait), otp::Reason::shutdown("done"));
  auto b = me.await(Crashy::start(me.pid())).pid();
  auto ref = me.monitor(b);
  Crashy::cast(b, Crashy::Boom{});
  EXPECT_EQ(me.receive<otp::Reason>(kWait), otp::Reason::exception("boom"));
  ASSERT_TRUE(otp_test::await_down(me, ref));  // the report is written before the exit
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::crash_report), 1u);
  EXPECT_TRUE(logs.contains("last message"));
}

TEST(GenServer, NamedStartTwiceGivesAlreadyStarted) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto first = me.await(Counter::start_link(otp::Name::local("counter"), 0));
  ASSERT_TRUE(first.ok());
  auto second = me.await(Counter::start_link(otp::Name::local("counter"), 0));
  EXPECT_EQ(second.kind(), otp::StartResult::Kind::already_started);
  EXPECT_EQ(second.pid(), first.pid());
  EXPECT_EQ(second.to_string(), fmt::format("{{:error, {{:already_started, {}}}}}", first.pid()));
  EXPECT_EQ(me.await(Counter::call("counter", Counter::Get{})), 0);
}

TEST(GenServer, InitFailureIsTheStartError) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  struct Refuses : otp::GenServer<Refuses, int> {
    int init() { otp::exit(otp::Reason::other("no")); }
  };
  auto r = me.await(Refuses::start());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.reason(), otp::Reason::other("no"));
}

// A server whose init and handlers call another server: waiting in them holds no thread.
struct Front : otp::GenServer<Front, otp::Pid> {
  struct Get {};
  otp::Co<otp::Pid> init(otp::Pid) {
    auto back = co_await Counter::start_link(10);
    int v = co_await Counter::call(back.pid(), Counter::Get{});
    if (v != 10) otp::exit(otp::Reason::other("bad init"));
    co_return back.pid();
  }
  otp::Co<int> handle_call(Get) { co_return co_await Counter::call(state(), Counter::Get{}) + 1; }
};

TEST(GenServer, InitAndHandlersMayCallOtherServers) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto front = me.await(Front::start_link(otp::Pid{}));
  ASSERT_TRUE(front.ok()) << front.to_string();
  EXPECT_EQ(me.await(Front::call(front.pid(), Front::Get{})), 11);
}

TEST(GenServer, CallOfAnotherServersRequestCrashesTheServer) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto gate = me.await(Gate::start()).pid();
  try {
    me.await(Counter::call(gate, Counter::Get{}));
    FAIL();
  } catch (const otp::ExitError& e) {
    EXPECT_NE(e.reason.to_string().find("bad_call"), std::string::npos) << e.reason.to_string();
  }
}

TEST(GenServer, UnexpectedInfoIsLoggedAndDropped) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto pid = me.await(Counter::start(5)).pid();
  otp::send(pid, std::string("stray"));
  EXPECT_EQ(me.await(Counter::call(pid, Counter::Get{})), 5);
  EXPECT_TRUE(logs.contains("unexpected message"));
}

TEST(GenServer, RuntimeShutdownRunsTerminateOfTrappingServers) {
  std::atomic<int> terminated{0};
  {
    otp::Runtime rt({.threads = 2});
    struct Counted : otp::GenServer<Counted, std::atomic<int>*> {
      std::atomic<int>* init(std::atomic<int>* c) {
        otp::trap_exit(true);
        return c;
      }
      void terminate(const otp::Reason& r) {
        if (r.is_shutdown()) state()->fetch_add(1);
      }
    };
    {
      otp::Scoped me(rt);
      auto sup = me.await(otp::Supervisor::start_link(
          {otp::ChildSpec{.id = "a", .start = [&] { return Counted::start_link(&terminated); }},
           otp::ChildSpec{.id = "b", .start = [&] { return Counted::start_link(&terminated); }}}));
      ASSERT_TRUE(sup.ok());
    }
    rt.shutdown();
  }
  EXPECT_EQ(terminated.load(), 2);
}

}  // namespace

namespace {

TEST(GenServer, TryCallReturnsTheFailureAsAValue) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto pid = me.await(Counter::start(3)).pid();
  auto ok = me.await(Counter::try_call(pid, Counter::Get{}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.value(), 3);
  auto crashed = me.await(Counter::try_call(pid, Counter::Crash{}));
  ASSERT_FALSE(crashed.ok());
  EXPECT_EQ(crashed.reason(), otp::Reason::exception("handler crashed"));
  auto gone = me.await(Counter::try_call(pid, Counter::Get{}));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.reason(), otp::Reason::noproc());
  auto unknown = me.await(Counter::try_call("nobody", Counter::Get{}));
  EXPECT_EQ(unknown.reason(), otp::Reason::noproc());
}

// Result::to_optional, for a caller to whom any failure means "none".
TEST(GenServer, TryCallsResultBecomesAnOptional) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto pid = me.await(Counter::start(3)).pid();
  EXPECT_EQ(me.await(Counter::try_call(pid, Counter::Get{})).to_optional(), 3);
  me.await(otp::stop(pid));
  EXPECT_EQ(me.await(Counter::try_call(pid, Counter::Get{})).to_optional(), std::nullopt);
}

TEST(GenServer, CallByAnUnknownNameExitsWithNoproc) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  EXPECT_THROW(me.await(Counter::call("nobody", Counter::Get{})), otp::ExitError);
  Counter::cast("nobody", Counter::Add{1});  // a cast to nobody is not an error
}

}  // namespace

namespace {

// A server that calls or stops itself from a handler and answers with what that raised.
struct SelfCaller : otp::GenServer<SelfCaller, int> {
  struct CallSelf {};
  struct StopSelf {};
  struct Get {};
  int init() { return 0; }
  int handle_call(Get) { return state(); }
  otp::Co<std::string> handle_call(CallSelf) {
    try {
      co_await SelfCaller::call(otp::self(), Get{}, otp::infinity);
      co_return std::string("the call returned");
    } catch (const otp::ExitError& e) {
      co_return e.reason.to_string();
    }
  }
  otp::Co<std::string> handle_call(StopSelf) {
    try {
      co_await otp::stop(otp::self());
      co_return std::string("the stop returned");
    } catch (const otp::ExitError& e) {
      co_return e.reason.to_string();
    }
  }
};

// Ported in spirit from the calling_self guard of OTP's gen:do_call (and its gen_server_SUITE
// check): a call to itself would wait for its own reply, so it exits at once, even with an
// infinite timeout.
TEST(GenServer, ACallToItselfExitsWithCallingSelf) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(SelfCaller::start_link()).pid();
  // The bound only guards against the old hang; the answer comes at once.
  EXPECT_EQ(me.await(SelfCaller::call(pid, SelfCaller::CallSelf{}, 2 * kWait)), "calling_self");
  EXPECT_TRUE(otp::is_alive(pid));
}

// proc_lib:stop goes through sys:terminate, a gen call, which exits with calling_self when the
// process is the caller: stopping oneself must not wait for one's own exit forever.
TEST(GenServer, StoppingItselfExitsWithCallingSelf) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(SelfCaller::start_link()).pid();
  EXPECT_EQ(me.await(SelfCaller::call(pid, SelfCaller::StopSelf{}, 2 * kWait)), "calling_self");
  EXPECT_EQ(me.await(SelfCaller::call(pid, SelfCaller::Get{})), 0);
}

// Holds the exit of a failed server back (from the destruction of its process's frame, which
// comes before its name would go at the exit) until the test lets it go.
std::atomic<bool> failed_exit_armed{false};
std::atomic<bool> failed_exit_released{false};
struct ExitHolder {
  ~ExitHolder() {
    if (!failed_exit_armed.exchange(false)) return;
    for (int i = 0; i < 20'000 && !failed_exit_released.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
};
struct FailsSlowly : otp::GenServer<FailsSlowly, int> {
  ExitHolder holder;
  int init() {
    failed_exit_armed = true;
    otp::exit(otp::Reason::other("no"));
  }
};

// Ported in spirit from gen_server_SUITE:otp_7669: a start that fails releases the name
// before it returns its error, so a start right after it finds the name free.
TEST(GenServer, AFailedStartReleasesItsNameBeforeItReturns) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  failed_exit_released = false;
  struct Release {
    ~Release() { failed_exit_released = true; }
  } release;
  auto failed = me.await(FailsSlowly::start(otp::Name::local("slow_failure")));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.reason(), otp::Reason::other("no"));
  EXPECT_FALSE(otp::whereis("slow_failure").has_value());
  auto second = me.await(SelfCaller::start(otp::Name::local("slow_failure")));
  EXPECT_TRUE(second.ok()) << second.to_string();
}

}  // namespace
