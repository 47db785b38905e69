// The RESP2 codec alone (otp/redis/resp.hpp): replies in any piece size, protocol errors, the
// encoder. The same codec against a real redis-server: tests/redis/resp_roundtrip_test.cpp.
#include "otp/redis/resp.hpp"

#include <cstdint>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "otp/redis/connection.hpp"

namespace otp::redis {
// GoogleTest's printer for failure messages.
inline void PrintTo(const Reply& reply, std::ostream* out) { *out << to_string(reply); }
}  // namespace otp::redis

namespace {

using namespace std::string_literals;
using otp::redis::Error;
using otp::redis::Nil;
using otp::redis::Parser;
using otp::redis::ProtocolError;
using otp::redis::Reply;
using otp::redis::SimpleString;

Reply bulk(std::string s) { return Reply(std::move(s)); }
Reply integer(std::int64_t i) { return Reply(i); }
Reply array(Reply::Array items) { return Reply(std::move(items)); }

// Every reply the stream holds, fed in pieces of the given sizes (cycled).
std::vector<Reply> parse_in_pieces(std::string_view stream, const std::vector<std::size_t>& sizes) {
  Parser parser;
  std::vector<Reply> replies;
  std::size_t i = 0;
  while (!stream.empty()) {
    const std::size_t n = std::min(sizes[i++ % sizes.size()], stream.size());
    parser.feed(stream.substr(0, n));
    stream.remove_prefix(n);
    while (auto reply = parser.next()) replies.push_back(std::move(*reply));
  }
  EXPECT_FALSE(parser.partial());
  return replies;
}

std::vector<Reply> parse_all(std::string_view stream) {
  return parse_in_pieces(stream, {stream.size() + 1});
}

// The fault the stream holds, after the replies that preceded it.
ProtocolError protocol_error(std::string_view stream, std::size_t good_replies = 0) {
  Parser parser;
  parser.feed(stream);
  for (std::size_t i = 0; i < good_replies; ++i) EXPECT_TRUE(parser.next().has_value());
  try {
    parser.next();
  } catch (const ProtocolError& e) {
    EXPECT_TRUE(parser.failed());
    return e;
  }
  ADD_FAILURE() << "no ProtocolError for " << stream;
  return ProtocolError("none", 0);
}

// A stream of every kind of reply, and what it parses to.
struct Sample {
  std::string wire;
  std::vector<Reply> replies;
};

Sample mixed_sample(int copies) {
  Sample sample;
  const std::string binary = "a\r\nb\0c\r\n$3\r\n\xff"s;
  for (int i = 0; i < copies; ++i) {
    sample.wire += "+OK\r\n";
    sample.replies.emplace_back(SimpleString{"OK"});
    sample.wire += "-ERR value is not an integer or out of range\r\n";
    sample.replies.emplace_back(Error{"ERR value is not an integer or out of range"});
    sample.wire += ":" + std::to_string(i * 7919 - 50000) + "\r\n";
    sample.replies.push_back(integer(i * 7919 - 50000));
    sample.wire += "$" + std::to_string(binary.size()) + "\r\n" + binary + "\r\n";
    sample.replies.push_back(bulk(binary));
    sample.wire += "$-1\r\n*-1\r\n$0\r\n\r\n*0\r\n";
    sample.replies.insert(sample.replies.end(), {Nil{}, Nil{}, bulk(""), array({})});
    sample.wire += "*3\r\n*2\r\n:1\r\n$1\r\nx\r\n*0\r\n*2\r\n$-1\r\n+QUEUED\r\n";
    sample.replies.push_back(
        array({array({integer(1), bulk("x")}), array({}), array({Nil{}, SimpleString{"QUEUED"}})}));
    const std::string big(1000 + i, static_cast<char>('a' + i % 26));
    sample.wire += "$" + std::to_string(big.size()) + "\r\n" + big + "\r\n";
    sample.replies.push_back(bulk(big));
  }
  return sample;
}

// --- replies ------------------------------------------------------------------------------------

TEST(Resp, ParsesEveryReplyType) {
  EXPECT_EQ(parse_all("+OK\r\n"), std::vector<Reply>{SimpleString{"OK"}});
  EXPECT_EQ(parse_all("-WRONGTYPE Operation against a key\r\n"),
            std::vector<Reply>{Error{"WRONGTYPE Operation against a key"}});
  EXPECT_EQ(parse_all(":0\r\n:-12\r\n:9223372036854775807\r\n:-9223372036854775808\r\n"),
            (std::vector<Reply>{integer(0), integer(-12), integer(INT64_MAX), integer(INT64_MIN)}));
  EXPECT_EQ(parse_all("$5\r\nhello\r\n"), std::vector<Reply>{bulk("hello")});
  EXPECT_EQ(parse_all("*2\r\n$3\r\nfoo\r\n:42\r\n"),
            std::vector<Reply>{array({bulk("foo"), integer(42)})});
}

TEST(Resp, NilBulkAndNilArrayAreNil) {
  const auto replies = parse_all("$-1\r\n*-1\r\n");
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_TRUE(replies[0].is_nil());
  EXPECT_TRUE(replies[1].is_nil());
}

TEST(Resp, EmptyBulkAndEmptyArrayAreNotNil) {
  const auto replies = parse_all("$0\r\n\r\n*0\r\n");
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].kind(), Reply::Kind::bulk_string);
  EXPECT_EQ(replies[0].as_string(), "");
  EXPECT_EQ(replies[1].kind(), Reply::Kind::array);
  EXPECT_TRUE(replies[1].as_array().empty());
}

TEST(Resp, BulkStringsAreBinarySafe) {
  const std::string value = "\r\n$-1\r\n\0\0*1\r\n\xff\r"s;
  const auto replies = parse_all("$" + std::to_string(value.size()) + "\r\n" + value + "\r\n");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].as_string(), value);
  EXPECT_EQ(replies[0].as_string().size(), 15u);
}

TEST(Resp, NestedArrays) {
  const auto replies = parse_all("*2\r\n*2\r\n*1\r\n:1\r\n*0\r\n*3\r\n$-1\r\n-ERR x\r\n+y\r\n");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0], array({array({array({integer(1)}), array({})}),
                               array({Nil{}, Error{"ERR x"}, SimpleString{"y"}})}));
}

TEST(Resp, SeveralRepliesInOnePieceComeOutInOrder) {
  Parser parser;
  parser.feed("+a\r\n:1\r\n$1\r\nb\r\n+c");
  EXPECT_EQ(parser.ready(), 3u);
  EXPECT_EQ(parser.next(), Reply(SimpleString{"a"}));
  EXPECT_EQ(parser.next(), integer(1));
  EXPECT_EQ(parser.next(), bulk("b"));
  EXPECT_EQ(parser.next(), std::nullopt);
  EXPECT_TRUE(parser.partial());
  parser.feed("\r\n");
  EXPECT_EQ(parser.next(), Reply(SimpleString{"c"}));
  EXPECT_FALSE(parser.partial());
}

TEST(Resp, ErrorReplyIsAValueNotAFault) {
  Parser parser;
  parser.feed("-ERR unknown command 'FOO'\r\n+OK\r\n");
  const auto reply = parser.next();
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->is_error());
  EXPECT_EQ(reply->as_string(), "ERR unknown command 'FOO'");
  EXPECT_FALSE(parser.failed());
  EXPECT_EQ(parser.next(), Reply(SimpleString{"OK"}));
}

// --- pieces
// ---------------------------------------------------------------------------------------

TEST(Resp, OneByteAtATime) {
  const Sample sample = mixed_sample(3);
  EXPECT_EQ(parse_in_pieces(sample.wire, {1}), sample.replies);
}

TEST(Resp, EverySplitIntoTwoPiecesGivesTheSameReplies) {
  const Sample sample = mixed_sample(2);
  for (std::size_t cut = 0; cut <= sample.wire.size(); ++cut) {
    Parser parser;
    std::vector<Reply> replies;
    parser.feed(std::string_view(sample.wire).substr(0, cut));
    while (auto reply = parser.next()) replies.push_back(std::move(*reply));
    parser.feed(std::string_view(sample.wire).substr(cut));
    while (auto reply = parser.next()) replies.push_back(std::move(*reply));
    ASSERT_EQ(replies, sample.replies) << "cut at byte " << cut;
  }
}

TEST(Resp, RandomPieceSizesGiveTheSameReplies) {
  const Sample sample = mixed_sample(40);
  std::mt19937 random(20240607);  // fixed seed: the same pieces every run
  for (int round = 0; round < 50; ++round) {
    std::vector<std::size_t> sizes(64);
    const std::size_t largest = round % 2 == 0 ? 16 : 3000;
    for (auto& size : sizes) size = std::uniform_int_distribution<std::size_t>(1, largest)(random);
    ASSERT_EQ(parse_in_pieces(sample.wire, sizes), sample.replies) << "round " << round;
  }
}

TEST(Resp, LargeBulkStringInManySmallPieces) {
  // 8 MiB in 7-byte pieces: linear work (a parser that re-scanned its buffer per piece would
  // take minutes here), and the bytes land in the reply's own string.
  const std::string value(8 * 1024 * 1024, 'z');
  const std::string wire = "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n+OK\r\n";
  Parser parser;
  std::string_view rest = wire;
  while (!rest.empty()) {
    const std::size_t n = std::min<std::size_t>(7, rest.size());
    parser.feed(rest.substr(0, n));
    rest.remove_prefix(n);
  }
  const auto reply = parser.next();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->as_string().size(), value.size());
  EXPECT_EQ(reply->as_string(), value);
  EXPECT_EQ(parser.next(), Reply(SimpleString{"OK"}));
}

TEST(Resp, LongSimpleStringInManySmallPieces) {
  const std::string text(1 << 20, 's');
  const std::string wire = "+" + text + "\r\n";
  const auto replies = parse_in_pieces(wire, {5});
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].as_string(), text);
}

TEST(Resp, ManyRepliesInOnePieceAndThenNothingIsLeft) {
  std::string wire;
  for (int i = 0; i < 100000; ++i) wire += ":" + std::to_string(i) + "\r\n";
  Parser parser;
  parser.feed(wire);
  EXPECT_EQ(parser.ready(), 100000u);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(parser.next(), integer(i));
  EXPECT_EQ(parser.next(), std::nullopt);
  EXPECT_FALSE(parser.partial());
}

// --- protocol errors ----------------------------------------------------------------------------

TEST(Resp, UnknownTypeByteIsAProtocolError) {
  const auto e = protocol_error("+OK\r\n!oops\r\n", 1);
  EXPECT_EQ(e.offset(), 5u);
  EXPECT_NE(std::string(e.what()).find("unknown reply type byte '!'"), std::string::npos)
      << e.what();
  // Found at once, without waiting for the line's end.
  Parser parser;
  parser.feed("x");
  EXPECT_TRUE(parser.failed());
}

TEST(Resp, BadLengthsAreProtocolErrors) {
  for (const char* wire : {"$-2\r\n", "$abc\r\n", "$\r\n", "$1x\r\n", "$99999999999999999999\r\n",
                           "*-5\r\n", "*two\r\n", ":12a\r\n", ":\r\n", "$+3\r\nabc\r\n"}) {
    const auto e = protocol_error(wire);
    EXPECT_EQ(e.offset(), 0u) << wire;
    EXPECT_NE(std::string(e.what()).find("RESP protocol error"), std::string::npos) << e.what();
  }
}

TEST(Resp, MissingCrlfIsAProtocolError) {
  EXPECT_NE(std::string(protocol_error("$3\r\nabcde\r\n").what()).find("not followed by CRLF"),
            std::string::npos);
  EXPECT_NE(std::string(protocol_error("+OK\rX\n").what()).find("CR not followed by LF"),
            std::string::npos);
}

TEST(Resp, LimitsAreProtocolErrors) {
  Parser::Limits limits;
  limits.max_bulk = 10;
  limits.max_line = 8;
  limits.max_depth = 3;
  limits.max_array = 100;
  auto fails = [&](std::string_view wire) {
    Parser parser(limits);
    parser.feed(wire);
    return parser.failed();
  };
  EXPECT_FALSE(fails("$10\r\n"));
  EXPECT_TRUE(fails("$11\r\n"));
  EXPECT_TRUE(fails("+123456789"));  // no CR yet, already too long
  EXPECT_FALSE(fails("*1\r\n*1\r\n*1\r\n"));
  EXPECT_TRUE(fails("*1\r\n*1\r\n*1\r\n*1\r\n"));
  EXPECT_TRUE(fails("*101\r\n"));
}

// Found by fuzz/fuzz_resp.cpp: a line over the limit whose CR is followed by another byte than LF was
// "CR not followed by LF" when it came whole and "line longer than the limit" in pieces.
TEST(Resp, AnOverlongLineIsTheSameFaultWholeOrInPieces) {
  Parser::Limits limits;
  limits.max_line = 8;
  const std::string wire = "-0123456789\rX\n";
  auto fault = [&](std::size_t piece) {
    Parser parser(limits);
    for (std::size_t at = 0; at < wire.size(); at += piece)
      parser.feed(std::string_view(wire).substr(at, piece));
    try {
      parser.next();
    } catch (const ProtocolError& e) {
      return std::pair<std::string, std::uint64_t>(e.what(), e.offset());
    }
    return std::pair<std::string, std::uint64_t>("no fault", 0);
  };
  const auto whole = fault(wire.size());
  EXPECT_NE(whole.first.find("line longer than the limit"), std::string::npos) << whole.first;
  for (std::size_t piece = 1; piece < wire.size(); ++piece) EXPECT_EQ(fault(piece), whole) << piece;
}

TEST(Resp, RepliesBeforeAFaultAreKeptAndTheFaultStays) {
  Parser parser;
  parser.feed("+one\r\n*2\r\n:1\r\n");
  parser.feed("?");
  parser.feed("+ignored\r\n");
  EXPECT_EQ(parser.next(), Reply(SimpleString{"one"}));
  EXPECT_THROW(parser.next(), ProtocolError);
  EXPECT_THROW(parser.next(), ProtocolError);
}

TEST(Resp, EveryPrefixOfAValidStreamIsIncompleteNotAFault) {
  const Sample sample = mixed_sample(1);
  for (std::size_t length = 0; length < sample.wire.size(); ++length) {
    Parser parser;
    parser.feed(std::string_view(sample.wire).substr(0, length));
    ASSERT_FALSE(parser.failed()) << "prefix of " << length << " bytes";
  }
}

TEST(Resp, RandomBytesGiveRepliesOrAProtocolErrorNeverACrash) {
  // Valid replies with random bytes flipped, in random pieces (fixed seed): each stream ends in
  // replies or a clean ProtocolError. Run under the asan preset, this also checks for UB.
  const Sample sample = mixed_sample(2);
  std::mt19937 random(7);
  for (int round = 0; round < 300; ++round) {
    std::string wire = sample.wire;
    const int flips = 1 + round % 5;
    for (int f = 0; f < flips; ++f) {
      const auto at = std::uniform_int_distribution<std::size_t>(0, wire.size() - 1)(random);
      wire[at] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(random));
    }
    Parser parser;
    std::string_view rest = wire;
    while (!rest.empty()) {
      const auto n =
          std::min(std::uniform_int_distribution<std::size_t>(1, 64)(random), rest.size());
      parser.feed(rest.substr(0, n));
      rest.remove_prefix(n);
    }
    try {
      while (parser.next()) {
      }
    } catch (const ProtocolError& e) {
      EXPECT_NE(std::string(e.what()).find("RESP protocol error at byte"), std::string::npos);
    }
  }
}

TEST(Resp, DeepNestingWithinTheLimitIsFine) {
  std::string wire;
  for (int i = 0; i < 500; ++i) wire += "*1\r\n";
  wire += ":7\r\n";
  const auto replies = parse_in_pieces(wire, {3});
  ASSERT_EQ(replies.size(), 1u);
  const Reply* inner = &replies[0];
  for (int i = 0; i < 500; ++i) inner = &inner->as_array().at(0);
  EXPECT_EQ(inner->as_integer(), 7);
}

// --- encoding
// -------------------------------------------------------------------------------------

TEST(Resp, EncodesACommandAsAnArrayOfBulkStrings) {
  EXPECT_EQ(otp::redis::encode({"SET", "key", "value"}),
            "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
  EXPECT_EQ(otp::redis::encode({"PING"}), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(otp::redis::encode({"SET", "k", ""}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
}

TEST(Resp, EncodesBinaryArgumentsAndAnyRangeOfStrings) {
  const std::string value = "a\r\n\0b"s;
  std::string out = "prefix";
  const std::vector<std::string> args = {"SET", "bin", value};
  otp::redis::encode(out, args);
  EXPECT_EQ(out, "prefix*3\r\n$3\r\nSET\r\n$3\r\nbin\r\n$5\r\n" + value + "\r\n");
}

TEST(Resp, EncodesAPipelineBackToBack) {
  std::string out;
  otp::redis::encode_pipeline(out, {{"MULTI"}, {"INCR", "n"}, {"EXEC"}});
  EXPECT_EQ(out, otp::redis::encode({"MULTI"}) + otp::redis::encode({"INCR", "n"}) +
                     otp::redis::encode({"EXEC"}));
  const std::vector<std::vector<std::string>> commands = {{"GET", "a"}, {"GET", "b"}};
  std::string out2;
  otp::redis::encode_pipeline(out2, commands);
  EXPECT_EQ(out2, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
}

TEST(Resp, AnEncodedCommandParsesAsAnArrayOfBulkStrings) {
  // A server reads commands in the same format: the parser reads what the encoder writes.
  const std::string value(70000, '\r');
  const auto replies = parse_in_pieces(otp::redis::encode({"SET", "k", value}), {1000});
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0], array({bulk("SET"), bulk("k"), bulk(value)}));
}

// --- formatting
// -----------------------------------------------------------------------------------

TEST(Resp, FormatsRepliesLikeRedisCli) {
  EXPECT_EQ(fmt::format("{}", Reply(SimpleString{"OK"})), "OK");
  EXPECT_EQ(fmt::format("{}", Reply(Error{"ERR no"})), "(error) ERR no");
  EXPECT_EQ(fmt::format("{}", integer(-3)), "(integer) -3");
  EXPECT_EQ(fmt::format("{}", Reply()), "(nil)");
  EXPECT_EQ(fmt::format("{}", bulk("a\"b\r\n\0\xff"s)), R"("a\"b\r\n\x00\xff")");
  EXPECT_EQ(fmt::format("{}", array({bulk("k"), integer(1), Nil{}, array({})})),
            R"(["k", (integer) 1, (nil), []])");
}

TEST(Resp, AccessorsRefuseTheWrongKind) {
  EXPECT_THROW((void)integer(1).as_string(), std::logic_error);
  EXPECT_THROW((void)bulk("1").as_integer(), std::logic_error);
  EXPECT_THROW((void)Reply().as_array(), std::logic_error);
}

// Options::from_url: what --stash accepts, and a clear refusal of what it does not.
TEST(RedisOptions, FromUrlReadsHostAndPortAndRefusesWhatItCannotHonour) {
  using otp::redis::Options;
  EXPECT_EQ(Options::from_url("redis://127.0.0.1:6380").port, 6380);
  EXPECT_EQ(Options::from_url("redis://cache.example").host, "cache.example");
  EXPECT_EQ(Options::from_url("redis://cache.example").port, 6379);
  EXPECT_EQ(Options::from_url("redis://[::1]:7000").host, "::1");
  EXPECT_EQ(Options::from_url("redis://[::1]").port, 6379);
  for (const char* bad : {"mongodb://x:1", "127.0.0.1:6379", "redis://", "redis://h:99999",
                          "redis://user:secret@h:6379", "redis://h:6379/2"})
    EXPECT_THROW(Options::from_url(bad), std::invalid_argument) << bad;
}

}  // namespace
