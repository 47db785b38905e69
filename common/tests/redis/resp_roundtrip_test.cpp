// The RESP codec against a real redis-server: what the encoder writes, Redis understands; what
// Redis answers, the parser reads, in whatever pieces the socket delivers it.
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "blocking_connection.hpp"
#include "otp/redis/resp.hpp"
#include "otp/testing/redis_server.hpp"

namespace otp::redis {
inline void PrintTo(const Reply& reply, std::ostream* out) { *out << to_string(reply); }
}  // namespace otp::redis

namespace {

using namespace std::string_literals;
using otp::redis::Nil;
using otp::redis::Reply;
using otp::redis::SimpleString;
using otp::testing::RedisServer;
using otp_test::BlockingConnection;

class RespRoundTrip : public ::testing::Test {
 protected:
  RedisServer server_;
  BlockingConnection redis_{server_.host(), server_.port()};
};

TEST_F(RespRoundTrip, BinaryValueComesBackByteForByte) {
  const std::string value = "line one\r\nline two\r\n\0\0$-1\r\n*2\r\n\xff\xfe"s;
  EXPECT_EQ(redis_.command({"SET", "bin\r\nkey", value}), Reply(SimpleString{"OK"}));
  EXPECT_EQ(redis_.command({"GET", "bin\r\nkey"}), Reply(value));
  EXPECT_EQ(redis_.command({"STRLEN", "bin\r\nkey"}),
            Reply(static_cast<std::int64_t>(value.size())));
}

TEST_F(RespRoundTrip, IncrOnANonIntegerIsAnErrorReply) {
  redis_.command({"SET", "word", "hello"});
  const Reply reply = redis_.command({"INCR", "word"});
  ASSERT_TRUE(reply.is_error()) << to_string(reply);
  EXPECT_EQ(reply.as_string(), "ERR value is not an integer or out of range");
  EXPECT_EQ(redis_.command({"PING"}), Reply(SimpleString{"PONG"}));  // the stream goes on
}

TEST_F(RespRoundTrip, MissingKeyIsNil) {
  EXPECT_TRUE(redis_.command({"GET", "nothing here"}).is_nil());
  EXPECT_EQ(redis_.command({"HGETALL", "nothing here"}), Reply(Reply::Array{}));  // empty, not nil
}

TEST_F(RespRoundTrip, TransactionRepliesAreNestedArrays) {
  redis_.send(otp::redis::encode({"MULTI"}) + otp::redis::encode({"SET", "n", "41"}) +
              otp::redis::encode({"INCR", "n"}) + otp::redis::encode({"GET", "missing"}) +
              otp::redis::encode({"LRANGE", "n", "0", "-1"}) + otp::redis::encode({"EXEC"}));
  const auto replies = redis_.receive(6, [] { return std::size_t{3}; });
  EXPECT_EQ(replies[0], Reply(SimpleString{"OK"}));
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(replies[i], Reply(SimpleString{"QUEUED"}));
  ASSERT_TRUE(replies[5].is_array()) << to_string(replies[5]);
  const auto& results = replies[5].as_array();
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0], Reply(SimpleString{"OK"}));
  EXPECT_EQ(results[1], Reply(std::int64_t{42}));
  EXPECT_EQ(results[2], Reply(Nil{}));
  EXPECT_TRUE(results[3].is_error());  // WRONGTYPE, inside the array
}

TEST_F(RespRoundTrip, CommandInfoIsDeeplyNested) {
  const Reply reply = redis_.command({"COMMAND", "INFO", "get"});
  ASSERT_EQ(reply.as_array().size(), 1u) << to_string(reply);
  const auto& get = reply.as_array()[0].as_array();
  EXPECT_EQ(get.at(0), Reply("get"s));
  EXPECT_EQ(get.at(1), Reply(std::int64_t{2}));  // arity
  EXPECT_TRUE(get.at(2).is_array());             // flags
  bool has_nested_array = false;
  for (const Reply& field : get) {
    if (!field.is_array()) continue;
    for (const Reply& inner : field.as_array()) has_nested_array |= inner.is_array();
  }
  EXPECT_TRUE(has_nested_array) << to_string(reply);  // key specs: arrays of arrays
}

TEST_F(RespRoundTrip, PipelineOfAThousandCommandsReadInRandomPieces) {
  std::string pipeline;
  std::vector<Reply> expected;
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "key:" + std::to_string(i);
    const std::string value(static_cast<std::size_t>(i % 97), static_cast<char>(i % 256));
    switch (i % 4) {
      case 0:
        otp::redis::encode(pipeline, {"SET", key, value});
        expected.emplace_back(SimpleString{"OK"});
        break;
      case 1:
        otp::redis::encode(pipeline, {"INCRBY", "counter", std::to_string(i)});
        expected.emplace_back(std::int64_t{(i / 4 + 1) * (i / 4) * 4 / 2 + (i / 4 + 1)});
        break;
      case 2:
        otp::redis::encode(pipeline, {"GET", "key:" + std::to_string(i - 2)});
        expected.emplace_back(
            std::string(static_cast<std::size_t>((i - 2) % 97), static_cast<char>((i - 2) % 256)));
        break;
      default:
        otp::redis::encode(pipeline, {"GET", "never set " + key});
        expected.emplace_back(Nil{});
    }
  }
  redis_.send(pipeline);
  std::mt19937 random(1000);  // fixed seed
  std::uniform_int_distribution<std::size_t> piece(1, 1500);
  const auto replies = redis_.receive(1000, [&] { return piece(random); });
  ASSERT_EQ(replies.size(), expected.size());
  for (std::size_t i = 0; i < replies.size(); ++i)
    ASSERT_EQ(replies[i], expected[i]) << "reply " << i;
  EXPECT_EQ(redis_.command({"PING"}), Reply(SimpleString{"PONG"}));  // nothing left over
}

}  // namespace
