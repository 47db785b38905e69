// otp::testing::RedisServer: a redis-server of the test's own on a free loopback port.
#include "otp/testing/redis_server.hpp"

#include <cerrno>
#include <filesystem>
#include <stdexcept>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "blocking_connection.hpp"
#include "otp/redis/resp.hpp"

namespace {

using otp::redis::Reply;
using otp::redis::SimpleString;
using otp::testing::RedisServer;
using otp_test::BlockingConnection;

// CONFIG GET <name> -> the value.
std::string config(BlockingConnection& redis, std::string_view name) {
  const Reply reply = redis.command({"CONFIG", "GET", name});
  return reply.as_array().at(1).as_string();
}

TEST(RedisServer, StartsOnItsOwnLoopbackPortWithoutPersistence) {
  RedisServer server;
  EXPECT_EQ(server.host(), "127.0.0.1");
  EXPECT_NE(server.port(), 0);
  EXPECT_NE(server.port(), 6379);  // never the machine's own server
  EXPECT_EQ(server.url(), "redis://127.0.0.1:" + std::to_string(server.port()));
  BlockingConnection redis(server.host(), server.port());
  EXPECT_EQ(redis.command({"PING"}), Reply(SimpleString{"PONG"}));
  EXPECT_EQ(config(redis, "bind"), "127.0.0.1");
  EXPECT_EQ(config(redis, "save"), "");
  EXPECT_EQ(config(redis, "appendonly"), "no");
  EXPECT_EQ(std::filesystem::path(config(redis, "dir")), server.dir());
}

// A program that starts (or restarts) its server while it has sockets open must still be able
// to close them: the server held the client sockets of a soak's HTTP clients, so the service
// never saw them close.
TEST(RedisServer, HoldsNoneOfTheCallersDescriptors) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);  // no O_CLOEXEC, as a socket opened by Asio
  RedisServer server;
  server.stop();
  server.start();  // a restart too
  ::close(fds[1]);
  ASSERT_EQ(::fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
  char byte = 0;
  const auto n = ::read(fds[0], &byte, 1);
  const int error = errno;
  ::close(fds[0]);
  EXPECT_EQ(n, 0) << "the write end is still open elsewhere (errno " << error << ")";
}

TEST(RedisServer, TwoServersAreIndependent) {
  RedisServer a;
  RedisServer b;
  EXPECT_NE(a.port(), b.port());
  BlockingConnection to_a(a.host(), a.port());
  BlockingConnection to_b(b.host(), b.port());
  EXPECT_EQ(to_a.command({"SET", "k", "a"}), Reply(SimpleString{"OK"}));
  EXPECT_TRUE(to_b.command({"GET", "k"}).is_nil());
}

TEST(RedisServer, StopsAndStartsAgainOnTheSamePort) {
  RedisServer server;
  const auto port = server.port();
  {
    BlockingConnection redis(server.host(), port);
    EXPECT_EQ(redis.command({"SET", "k", "v"}), Reply(SimpleString{"OK"}));
    server.stop();
    EXPECT_FALSE(server.running());
    EXPECT_THROW(redis.command({"PING"}), std::exception);  // the connection was closed
  }
  EXPECT_THROW(BlockingConnection(server.host(), port), std::system_error);  // refused

  server.start();
  EXPECT_TRUE(server.running());
  EXPECT_EQ(server.port(), port);
  BlockingConnection redis(server.host(), port);
  EXPECT_EQ(redis.command({"PING"}), Reply(SimpleString{"PONG"}));
  EXPECT_TRUE(redis.command({"GET", "k"}).is_nil());  // nothing was persisted
}

TEST(RedisServer, KillEndsItAtOnceAndItCanStartAgain) {
  RedisServer server;
  BlockingConnection redis(server.host(), server.port());
  server.kill();
  EXPECT_THROW(redis.command({"PING"}), std::exception);
  server.start();
  BlockingConnection again(server.host(), server.port());
  EXPECT_EQ(again.command({"PING"}), Reply(SimpleString{"PONG"}));
}

TEST(RedisServer, RemovesItsDirectoryWhenDestroyed) {
  std::filesystem::path dir;
  {
    RedisServer server;
    dir = server.dir();
    EXPECT_TRUE(std::filesystem::is_directory(dir));
    EXPECT_NE(server.log().find("Ready to accept connections"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(RedisServer, AMissingBinaryIsAClearError) {
  RedisServer::Options options;
  options.binary = "/nonexistent/redis-server";
  try {
    RedisServer server(options);
    FAIL() << "started a server that does not exist";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("scripts/deps.sh"), std::string::npos) << e.what();
  }
}

}  // namespace
