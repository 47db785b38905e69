// Step 1: the blocking client answers one command at a time, and survives a server that is down.
#include "blocking_client.hpp"

#include <gtest/gtest.h>

#include "otp/testing/redis_server.hpp"

using lab::BlockingClient;
using otp::redis::Reply;
using otp::redis::SimpleString;
using otp::testing::RedisServer;

TEST(BlockingClient, SetThenGet) {
  RedisServer server;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto client = me.await(BlockingClient::start_link(server.host(), server.port())).pid();
  auto set = me.await(BlockingClient::call(client, BlockingClient::Command{{"SET", "k", "v"}}));
  ASSERT_TRUE(set.ok()) << set.to_string();
  EXPECT_EQ(set.value(), Reply(SimpleString{"OK"}));
  auto get = me.await(BlockingClient::call(client, BlockingClient::Command{{"GET", "k"}}));
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get.value(), Reply(std::string("v")));
}

TEST(BlockingClient, AReplyOverManyPacketsIsReadWhole) {
  RedisServer server;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto client = me.await(BlockingClient::start_link(server.host(), server.port())).pid();
  const std::string big(1 << 20, 'x');  // 1 MiB: many packets
  ASSERT_TRUE(
      me.await(BlockingClient::call(client, BlockingClient::Command{{"SET", "big", big}})).ok());
  auto get = me.await(BlockingClient::call(client, BlockingClient::Command{{"GET", "big"}}));
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get.value(), Reply(big));
}

TEST(BlockingClient, StartsWhileRedisIsDownAndAnswersOnceItIsUp) {
  RedisServer server;
  server.stop();
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto client = me.await(BlockingClient::start_link(server.host(), server.port()));
  ASSERT_TRUE(client.ok());
  auto refused = me.await(BlockingClient::call(client.pid(), BlockingClient::Command{{"PING"}}));
  EXPECT_FALSE(refused.ok());
  server.start();
  auto ping = me.await(BlockingClient::call(client.pid(), BlockingClient::Command{{"PING"}}));
  ASSERT_TRUE(ping.ok()) << ping.to_string();
  EXPECT_EQ(ping.value(), Reply(SimpleString{"PONG"}));
}
