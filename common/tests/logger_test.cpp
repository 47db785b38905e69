#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

TEST(Logger, FormatsWithFmtAndKeepsTheLevel) {
  otp::LogCapture logs;
  otp::log::set_level(otp::Level::debug);
  otp::log::info("user {} made {} requests", "eric", 2);
  auto records = logs.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].text, "user eric made 2 requests");
  EXPECT_EQ(records[0].level, otp::Level::info);
  EXPECT_EQ(records[0].kind, otp::LogRecord::Kind::message);
}

TEST(Logger, DropsRecordsBelowTheLevel) {
  otp::LogCapture logs;
  otp::log::set_level(otp::Level::warning);
  otp::log::debug("d");
  otp::log::info("i");
  otp::log::notice("n");
  otp::log::warning("w");
  otp::log::error("e");
  auto records = logs.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].text, "w");
  EXPECT_EQ(records[1].text, "e");
}

TEST(Logger, LevelNoneDropsReportsToo) {
  otp::LogCapture logs;
  otp::log::set_level(otp::Level::none);
  otp::log::error("e");
  otp::report(otp::CrashReport{"<0.1.0>", "GenServer", otp::Reason::other("boom"), "Get", "0"});
  EXPECT_TRUE(logs.records().empty());
}

TEST(Logger, CaptureRestoresTheLevelAndSink) {
  otp::log::set_level(otp::Level::info);
  {
    otp::LogCapture logs;
    otp::log::set_level(otp::Level::error);
  }
  EXPECT_EQ(otp::log::level(), otp::Level::info);
  std::vector<std::string> seen;
  auto old = otp::log::set_sink([&](const otp::LogRecord& r) { seen.push_back(r.text); });
  otp::log::info("to the sink");
  otp::log::set_sink(std::move(old));
  EXPECT_EQ(seen, std::vector<std::string>{"to the sink"});
}

TEST(Logger, CrashReportNamesProcessReasonLastMessageAndState) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  struct Holder : otp::GenServer<Holder, int> {
    struct Boom {};
    int init() { return 41; }
    void handle_cast(Boom) { otp::exit(otp::Reason::other("kaput")); }
  };
  auto pid = me.await(Holder::start(otp::Name::local("holder"))).pid();
  auto ref = me.monitor(pid);
  Holder::cast(pid, Holder::Boom{});
  ASSERT_TRUE(otp_test::await_down(me, ref));
  auto records = logs.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, otp::LogRecord::Kind::crash_report);
  const std::string& t = records[0].text;
  EXPECT_NE(t.find(pid.to_string()), std::string::npos) << t;
  EXPECT_NE(t.find("holder"), std::string::npos) << t;
  EXPECT_NE(t.find("kaput"), std::string::npos) << t;
  EXPECT_NE(t.find("Boom"), std::string::npos) << t;
  EXPECT_NE(t.find("state: 41"), std::string::npos) << t;
}

TEST(Logger, OrderlyExitsAreNotCrashes) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  struct Quiet : otp::GenServer<Quiet, int> {
    int init() { return 0; }
  };
  auto pid = me.await(Quiet::start()).pid();
  me.await(otp::stop(pid, otp::Reason::shutdown("bye")));
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::crash_report), 0u);
}

}  // namespace

namespace hang_ten_like {
struct Holder : otp::GenServer<Holder, int> {
  struct Boom {};
  int init() { return 1; }
  void handle_call(Boom) { otp::exit(otp::Reason::other("kaput")); }
};
}  // namespace hang_ten_like

TEST(ModuleName, NamesTypesTheWayAReaderKnowsThem) {
  EXPECT_EQ(otp::module_name("hang_ten::Server"), "HangTen.Server");
  EXPECT_EQ(otp::module_name("hang_ten::Server::Boom"), "HangTen.Server.Boom");
  EXPECT_EQ(otp::module_name("otp::{anonymous}::SupervisorServer"), "SupervisorServer");
  EXPECT_EQ(otp::module_name("(anonymous namespace)::Holder"), "Holder");
  EXPECT_EQ(otp::module_name("otp::detail::CallMsg<hang_ten::Server, hang_ten::Server::Boom>"),
            "HangTen.Server.Boom");
  EXPECT_EQ(otp::module_name("{bad_call, otp::detail::CastMsg<a::B, a::B::C>}"),
            "{bad_call, A.B.C}");
  EXPECT_EQ(otp::module_name("std::string"), "std::string");
  EXPECT_EQ(otp::module_name("boom"), "boom");
}

// No C++ internals, no doubled parentheses: "process <0.N.0> holder (HangTenLike.Holder)".
TEST(Logger, CrashReportNamesTheModuleAsAReaderKnowsIt) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  using hang_ten_like::Holder;
  auto pid = me.await(Holder::start(otp::Name::local("holder"))).pid();
  auto ref = me.monitor(pid);
  EXPECT_THROW(me.await(Holder::call(pid, Holder::Boom{})), otp::ExitError);
  ASSERT_TRUE(otp_test::await_down(me, ref));
  auto records = logs.records();
  ASSERT_EQ(records.size(), 1u);
  const std::string& t = records[0].text;
  EXPECT_EQ(
      t.rfind(fmt::format("crash report: process {} holder (HangTenLike.Holder) exited", pid), 0),
      0u)
      << t;
  EXPECT_NE(t.find("last message: HangTenLike.Holder.Boom\n"), std::string::npos) << t;
  EXPECT_EQ(t.find("::"), std::string::npos) << t;
}

TEST(Logger, CallExitsNameTheRequestAndTheRegistryOfAViaName) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  otp::Registry<> registry{otp::Keys::unique, "HangTen.Registry"};
  using hang_ten_like::Holder;
  ASSERT_TRUE(me.await(Holder::start(otp::Name(otp::Via{&registry, "eric_server"}))).ok());
  try {
    me.await(Holder::call(otp::Via{&registry, "eric_server"}, Holder::Boom{}));
    FAIL() << "no exit";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(
                  "** (exit) exited in: GenServer.call({:via, HangTen.Registry, \"eric_server\"}, "
                  "HangTenLike.Holder.Boom, 5000) ** (EXIT) kaput",
                  0),
              0u)
        << e.what();
  }
}

namespace {

// A throttle lets the first event through, holds the next ones back for its period, then lets
// one through that counts them all.
TEST(Logger, AThrottleLetsOneLineAPeriodThroughWithTheCountSinceTheLast) {
  otp::log::Throttle hour(std::chrono::hours(1));
  EXPECT_EQ(hour.event(), 1u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(hour.event(), std::nullopt);
  otp::log::Throttle brief(std::chrono::milliseconds(20));
  EXPECT_EQ(brief.event(), 1u);
  EXPECT_EQ(brief.event(), std::nullopt);
  EXPECT_EQ(brief.event(), std::nullopt);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // past the period, whatever the load
  EXPECT_EQ(brief.event(), 3u);                                // the two held back, and this one
}

}  // namespace
