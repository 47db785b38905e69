// otp::redis::Connection against a redis-server of each test's own: replies matched to callers,
// pipelines, caller timeouts, and a connection that survives its server going away.
#include "otp/redis/connection.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "blocking_connection.hpp"
#include "otp/otp.hpp"
#include "otp/testing/redis_server.hpp"

namespace {

using namespace std::chrono_literals;
using otp::redis::Connection;
using otp::redis::Reply;
using otp::redis::SimpleString;
using otp::testing::RedisServer;
using otp_test::BlockingConnection;

constexpr auto kBound = 30s;  // generous: for waits that should end much sooner

otp::redis::Options options_for(const RedisServer& server) {
  return otp::redis::Options{.host = server.host(), .port = server.port()};
}

otp::Pid start(otp::Scoped& me, const RedisServer& server) {
  auto started = me.await(Connection::start_link(options_for(server)));
  EXPECT_TRUE(started.ok()) << started.to_string();
  return started.pid();
}

// Polls PING until the connection serves; false after kBound.
bool wait_until_serves(otp::Scoped& me, const otp::Pid& conn) {
  const auto until = std::chrono::steady_clock::now() + kBound;
  while (std::chrono::steady_clock::now() < until) {
    auto r = me.await(otp::redis::command(conn, {"PING"}, 1s));
    if (r.ok() && r.value() == Reply(SimpleString{"PONG"})) return true;
    me.receive<int>(100ms);  // a pause between attempts; no int ever comes
  }
  return false;
}

struct Done {
  int caller;
  int wrong;  // replies that were not this caller's
};
struct Outcome {
  bool ok;
  std::string reason;
};
struct Ready {};

otp::Co<void> incr_caller(otp::Pid conn, otp::Pid report, int caller, int times) {
  const std::string key = "counter:" + std::to_string(caller);
  int wrong = 0;
  const std::vector<std::string> incr{"INCR", key};  // GCC 12: no braced list in a co_await
  for (int i = 1; i <= times; ++i) {
    auto r = co_await otp::redis::command(conn, incr, 10s);
    if (!r.ok() || r.value() != Reply(std::int64_t{i})) ++wrong;
  }
  otp::send(report, Done{caller, wrong});
}

otp::Co<void> waiting_caller(otp::Pid conn, otp::Pid report) {
  otp::send(report, Ready{});
  const std::vector<std::string_view> get{"GET", "k"};
  auto r = co_await otp::redis::command(conn, get, 20s);
  otp::send(report, Outcome{r.ok(), r.ok() ? "" : r.reason().to_string()});
}

}  // namespace

TEST(RedisConnection, SetThenGetRoundTrip) {
  RedisServer server;
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto conn = start(me, server);
  auto set = me.await(otp::redis::command(conn, {"SET", "greeting", "hello"}));
  ASSERT_TRUE(set.ok()) << set.to_string();
  EXPECT_EQ(set.value(), Reply(SimpleString{"OK"}));
  auto get = me.await(otp::redis::command(conn, {"GET", "greeting"}));
  ASSERT_TRUE(get.ok()) << get.to_string();
  EXPECT_EQ(get.value(), Reply(std::string("hello")));
  std::vector<std::string> args{"GET", "missing"};
  auto missing = me.await(otp::redis::command(conn, args));
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing.value().is_nil());
}

TEST(RedisConnection, AnErrorReplyIsAValue) {
  RedisServer server;
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto conn = start(me, server);
  ASSERT_TRUE(me.await(otp::redis::command(conn, {"SET", "s", "text"})).ok());
  auto r = me.await(otp::redis::command(conn, {"LPUSH", "s", "x"}));
  ASSERT_TRUE(r.ok()) << r.to_string();
  ASSERT_TRUE(r.value().is_error());
  EXPECT_EQ(r.value().as_string().rfind("WRONGTYPE", 0), 0u) << r.value().as_string();
  // The connection goes on serving.
  auto get = me.await(otp::redis::command(conn, {"GET", "s"}));
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get.value(), Reply(std::string("text")));
}

TEST(RedisConnection, FiftyCallersShareOneConnectionAndEachGetsItsOwnReplies) {
  RedisServer server;
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto conn = start(me, server);
  constexpr int kCallers = 50;
  constexpr int kTimes = 100;
  for (int c = 0; c < kCallers; ++c) rt.spawn(incr_caller, conn, me.pid(), c, kTimes);
  int wrong = 0;
  for (int c = 0; c < kCallers; ++c) {
    auto done = me.receive<Done>(kBound);
    ASSERT_TRUE(done) << "caller " << c << " of " << kCallers << " did not finish";
    wrong += done->wrong;
  }
  EXPECT_EQ(wrong, 0);
  BlockingConnection check(server.host(), server.port());
  for (int c = 0; c < kCallers; ++c) {
    EXPECT_EQ(check.command({"GET", "counter:" + std::to_string(c)}),
              Reply(std::to_string(kTimes)));
  }
}

TEST(RedisConnection, PipelineAnswersEveryCommandInOrder) {
  RedisServer server;
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto conn = start(me, server);
  auto r = me.await(otp::redis::pipeline(
      conn, {{"SET", "n", "1"}, {"INCR", "n"}, {"GET", "n"}, {"LPUSH", "n", "x"}}));
  ASSERT_TRUE(r.ok()) << r.to_string();
  ASSERT_EQ(r.value().size(), 4u);
  EXPECT_EQ(r.value()[0], Reply(SimpleString{"OK"}));
  EXPECT_EQ(r.value()[1], Reply(std::int64_t{2}));
  EXPECT_EQ(r.value()[2], Reply(std::string("2")));
  EXPECT_TRUE(r.value()[3].is_error());
  std::vector<std::vector<std::string>> many;
  for (int i = 0; i < 1000; ++i) many.push_back({"INCR", "m"});
  auto big = me.await(otp::redis::pipeline(conn, many));
  ASSERT_TRUE(big.ok()) << big.to_string();
  ASSERT_EQ(big.value().size(), 1000u);
  EXPECT_EQ(big.value().back(), Reply(std::int64_t{1000}));
  auto empty = me.await(otp::redis::pipeline(conn, std::vector<std::vector<std::string>>{}));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.value().empty());
}

TEST(RedisConnection, ALateReplyNeverReachesTheCallerThatTimedOut) {
  RedisServer server;
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto conn = start(me, server);
  auto blocked = me.await(otp::redis::command(conn, {"BLPOP", "empty", "1"}, 100ms));
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.reason(), otp::Reason::timeout());
  // Replies come in order: once PING is answered, BLPOP's nil has come and gone.
  auto ping = me.await(otp::redis::command(conn, {"PING"}, kBound));
  ASSERT_TRUE(ping.ok()) << ping.to_string();
  EXPECT_EQ(ping.value(), Reply(SimpleString{"PONG"}));
  EXPECT_EQ(me.mailbox_size(), 0u);
}

TEST(RedisConnection, EveryWaitingCallerGetsAnErrorWhenRedisStopsAndTheConnectionComesBack) {
  RedisServer server;
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto conn = start(me, server);
  ASSERT_TRUE(wait_until_serves(me, conn));
  {
    BlockingConnection admin(server.host(), server.port());
    ASSERT_EQ(admin.command({"CLIENT", "PAUSE", "20000"}), Reply(SimpleString{"OK"}));
  }
  constexpr int kCallers = 100;
  for (int c = 0; c < kCallers; ++c) rt.spawn(waiting_caller, conn, me.pid());
  for (int c = 0; c < kCallers; ++c) ASSERT_TRUE(me.receive<Ready>(kBound));
  server.stop();
  int errors = 0;
  for (int c = 0; c < kCallers; ++c) {
    auto outcome = me.receive<Outcome>(kBound);
    ASSERT_TRUE(outcome) << "a caller hangs";
    EXPECT_FALSE(outcome->ok);
    EXPECT_NE(outcome->reason, "timeout");
    if (!outcome->ok) ++errors;
  }
  EXPECT_EQ(errors, kCallers);
  server.start();
  EXPECT_TRUE(wait_until_serves(me, conn));
  auto set = me.await(otp::redis::command(conn, {"SET", "k", "back"}));
  ASSERT_TRUE(set.ok()) << set.to_string();
}

TEST(RedisConnection, ReconnectsAfterClientKill) {
  RedisServer server;
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto conn = start(me, server);
  ASSERT_TRUE(wait_until_serves(me, conn));
  auto id = me.await(otp::redis::command(conn, {"CLIENT", "ID"}));
  ASSERT_TRUE(id.ok()) << id.to_string();
  BlockingConnection admin(server.host(), server.port());
  EXPECT_EQ(admin.command({"CLIENT", "KILL", "ID", std::to_string(id.value().as_integer())}),
            Reply(std::int64_t{1}));
  ASSERT_TRUE(wait_until_serves(me, conn));
  auto again = me.await(otp::redis::command(conn, {"CLIENT", "ID"}));
  ASSERT_TRUE(again.ok()) << again.to_string();
  EXPECT_NE(again.value(), id.value());
}

TEST(RedisConnection, StartsWhileRedisIsDownAndConnectsOnceItIsUp) {
  RedisServer server;
  server.stop();
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto conn = start(me, server);
  auto refused = me.await(otp::redis::command(conn, {"PING"}, kBound));
  EXPECT_FALSE(refused.ok());
  server.start();
  EXPECT_TRUE(wait_until_serves(me, conn));
}

TEST(RedisConnection, ACallToNoConnectionIsNoproc) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto r = me.await(otp::redis::command(std::string("no_such_connection"), {"PING"}, 1s));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason(), otp::Reason::noproc());
}
