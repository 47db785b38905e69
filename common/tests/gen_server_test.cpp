#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
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
    EXPECT_EQ(std::string(e.what()).rfind("** (exit) exited in: GenServer.call(", 0), 0u) << e.what();
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
    EXPECT_EQ(e.reason, otp::Reason::other("timeout"));
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

}  // namespace
