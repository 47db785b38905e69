// Step 2: the non-blocking client serves many callers at once and answers every one of them,
// also when the connection goes away.
#include "async_client.hpp"

#include <chrono>

#include <gtest/gtest.h>

#include "otp/testing/redis_server.hpp"

using lab::AsyncClient;
using otp::redis::Reply;
using otp::redis::SimpleString;
using otp::testing::RedisServer;
using namespace std::chrono_literals;

namespace {

struct Done {
  int wrong;
};
struct Outcome {
  bool ok;
};

otp::Co<void> incr_caller(otp::Pid client, otp::Pid report, int caller) {
  AsyncClient::Command incr{{"INCR", "n:" + std::to_string(caller)}};
  int wrong = 0;
  for (int i = 1; i <= 50; ++i) {
    auto r = co_await AsyncClient::call(client, incr);
    if (!r.ok() || r.value() != Reply(std::int64_t{i})) ++wrong;
  }
  otp::send(report, Done{wrong});
}

otp::Co<void> waiting_caller(otp::Pid client, otp::Pid report) {
  AsyncClient::Command get{{"GET", "k"}};
  auto r = co_await AsyncClient::call(client, get, 20s);
  otp::send(report, Outcome{r.ok()});
}

bool wait_until_serves(otp::Scoped& me, const otp::Pid& client) {
  for (int attempt = 0; attempt < 300; ++attempt) {
    auto r = me.await(AsyncClient::call(client, AsyncClient::Command{{"PING"}}));
    if (r.ok()) return true;
    me.receive<int>(100ms);  // a pause; no int ever comes
  }
  return false;
}

}  // namespace

TEST(AsyncClient, ManyCallersShareOneConnection) {
  RedisServer server;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto client = me.await(AsyncClient::start_link(server.host(), server.port())).pid();
  ASSERT_TRUE(wait_until_serves(me, client));
  for (int c = 0; c < 20; ++c) rt.spawn(incr_caller, client, me.pid(), c);
  int wrong = 0;
  for (int c = 0; c < 20; ++c) {
    auto done = me.receive<Done>(30s);
    ASSERT_TRUE(done);
    wrong += done->wrong;
  }
  EXPECT_EQ(wrong, 0);
}

TEST(AsyncClient, WaitingCallersAreAnsweredWhenRedisGoesAndItReconnects) {
  RedisServer server;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto client = me.await(AsyncClient::start_link(server.host(), server.port())).pid();
  ASSERT_TRUE(wait_until_serves(me, client));
  ASSERT_TRUE(
      me.await(AsyncClient::call(client, AsyncClient::Command{{"CLIENT", "PAUSE", "20000"}})).ok());
  for (int c = 0; c < 10; ++c) rt.spawn(waiting_caller, client, me.pid());
  server.stop();
  for (int c = 0; c < 10; ++c) {
    auto outcome = me.receive<Outcome>(30s);
    ASSERT_TRUE(outcome) << "a caller hangs";
    EXPECT_FALSE(outcome->ok);
  }
  server.start();
  EXPECT_TRUE(wait_until_serves(me, client));
}
