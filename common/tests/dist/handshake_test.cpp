// The distribution handshake's state machine (otp/dist/handshake.hpp) on hand-made bytes and
// against itself: digests, statuses, flags, framing limits. No sockets.
#include "otp/dist/handshake.hpp"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "otp/dist/detail/md5.hpp"

namespace dist = otp::dist;
using State = dist::Handshake::State;

namespace {

std::string be(std::uint64_t v, std::size_t n) {
  std::string out;
  for (std::size_t i = n; i-- > 0;) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}
std::string framed(std::string_view body) { return be(body.size(), 2) + std::string(body); }
std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}
std::string send_name(std::uint64_t flags, std::uint32_t creation, std::string_view name) {
  return framed("N" + be(flags, 8) + be(creation, 4) + be(name.size(), 2) + std::string(name));
}
std::string challenge(std::uint64_t flags, std::uint32_t ch, std::uint32_t creation,
                      std::string_view name) {
  return framed("N" + be(flags, 8) + be(ch, 4) + be(creation, 4) + be(name.size(), 2) +
                std::string(name));
}

dist::Handshake::Options options(std::string name, std::string cookie = "secret") {
  return {.name = std::move(name), .cookie = std::move(cookie), .creation = 7};
}

// Runs both sides against each other, feeding each side's output to the other one byte at a
// time, the acceptor answering `status`.
void run(dist::Handshake& a, dist::Handshake& b,
         dist::AcceptStatus status = dist::AcceptStatus::ok) {
  for (int round = 0; round < 20; ++round) {
    for (char c : a.take_output()) b.feed(std::string_view(&c, 1));
    if (b.state() == State::needs_status) b.answer(status);
    for (char c : b.take_output()) a.feed(std::string_view(&c, 1));
  }
}

}  // namespace

TEST(Md5, MatchesTheReferenceDigests) {
  using otp::dist::detail::md5;
  auto text = [](const otp::dist::detail::Digest& d) {
    return hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
  };
  EXPECT_EQ(text(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(text(md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(text(md5("The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6");
  EXPECT_EQ(text(md5(std::string(56, 'a'))), "3b0c8ac703f828b04c6c197006d17218");
  EXPECT_EQ(text(md5(std::string(1000, 'x'))), "398533d48111e9f664b1f64cb10c4b63");
}

TEST(Handshake, DigestIsMd5OfCookieAndDecimalChallenge) {
  // As erlang:md5("secret16909060") and erlang:md5("secret4000000000") compute them.
  EXPECT_EQ(hex(dist::handshake_digest(0x01020304, "secret")), "24d92202cd3724fb37808c885f4e2298");
  EXPECT_EQ(hex(dist::handshake_digest(4000000000U, "secret")), "068283266ffc7df6091e084e0e32bdd2");
}

TEST(Handshake, InitiatorStartsWithAVersion6SendName) {
  auto a = dist::Handshake::initiate(options("a@127.0.0.1"), 1);
  EXPECT_EQ(a.take_output(), send_name(dist::default_flags, 7, "a@127.0.0.1"));
  EXPECT_EQ(a.state(), State::running);
}

TEST(Handshake, AdvertisedFlagsHoldTheOtp26MandatorySet) {
  EXPECT_TRUE(dist::has_mandatory_flags(dist::default_flags));
  EXPECT_TRUE(dist::default_flags & dist::flag::unlink_id);
  EXPECT_TRUE(dist::default_flags & dist::flag::v4_nc);
  EXPECT_TRUE(dist::default_flags & dist::flag::handshake_23);
  EXPECT_FALSE(dist::has_mandatory_flags(dist::mandatory_25_flags));
}

TEST(Handshake, AcceptorCompletesAHandMadeExchange) {
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 0x01020304);
  b.feed(send_name(dist::default_flags, 42, "erl@127.0.0.1"));
  ASSERT_EQ(b.state(), State::needs_status);
  EXPECT_EQ(b.peer().name, "erl@127.0.0.1");
  EXPECT_EQ(b.peer().creation, 42U);
  b.answer(dist::AcceptStatus::ok);
  EXPECT_EQ(b.take_output(),
            framed("sok") + challenge(dist::default_flags, 0x01020304, 7, "b@127.0.0.1"));
  // The peer's reply: its challenge 4000000000 and MD5("secret16909060"), then a first frame.
  b.feed(framed("r" + be(4000000000U, 4) +
                "\x24\xd9\x22\x02\xcd\x37\x24\xfb\x37\x80\x8c\x88\x5f\x4e\x22\x98") +
         std::string("\0\0\0\0", 4));
  ASSERT_EQ(b.state(), State::done) << b.error();
  EXPECT_EQ(b.take_output(),
            framed("a\x06\x82\x83\x26\x6f\xfc\x7d\xf6\x09\x1e\x08\x4e\x0e\x32\xbd\xd2"));
  EXPECT_EQ(b.take_rest(), std::string("\0\0\0\0", 4));
}

TEST(Handshake, InitiatorCompletesAHandMadeExchange) {
  auto a = dist::Handshake::initiate(options("a@127.0.0.1"), 4000000000U);
  a.take_output();
  a.feed(framed("sok"));
  a.feed(challenge(dist::default_flags, 0x01020304, 9, "erl@127.0.0.1"));
  ASSERT_EQ(a.state(), State::running) << a.error();
  EXPECT_EQ(a.take_output(),
            framed("r" + be(4000000000U, 4) +
                   "\x24\xd9\x22\x02\xcd\x37\x24\xfb\x37\x80\x8c\x88\x5f\x4e\x22\x98"));
  a.feed(framed("a\x06\x82\x83\x26\x6f\xfc\x7d\xf6\x09\x1e\x08\x4e\x0e\x32\xbd\xd2"));
  ASSERT_EQ(a.state(), State::done) << a.error();
  EXPECT_EQ(a.peer().name, "erl@127.0.0.1");
  EXPECT_EQ(a.peer().creation, 9U);
}

TEST(Handshake, TwoSidesAgreeWhateverThePieces) {
  auto a = dist::Handshake::initiate(options("a@127.0.0.1"), 11);
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 22);
  run(a, b);
  ASSERT_EQ(a.state(), State::done) << a.error();
  ASSERT_EQ(b.state(), State::done) << b.error();
  EXPECT_EQ(a.peer().name, "b@127.0.0.1");
  EXPECT_EQ(b.peer().name, "a@127.0.0.1");
  EXPECT_EQ(a.agreed_flags(), dist::default_flags);
}

TEST(Handshake, WrongCookieIsRefusedByTheAcceptorWhichSendsNoAck) {
  auto a = dist::Handshake::initiate(options("a@127.0.0.1", "one"), 11);
  auto b = dist::Handshake::accept(options("b@127.0.0.1", "two"), 22);
  run(a, b);
  EXPECT_EQ(b.state(), State::failed);
  EXPECT_NE(b.error().find("wrong cookie"), std::string::npos) << b.error();
  EXPECT_EQ(a.state(), State::running);  // never acknowledged: its driver times out and closes
}

TEST(Handshake, BadAckDigestIsRefusedByTheInitiator) {
  auto a = dist::Handshake::initiate(options("a@127.0.0.1"), 4000000000U);
  a.feed(framed("sok") + challenge(dist::default_flags, 0x01020304, 9, "erl@127.0.0.1"));
  a.feed(framed("a" + std::string(16, '\x55')));
  EXPECT_EQ(a.state(), State::failed);
  EXPECT_NE(a.error().find("wrong cookie"), std::string::npos) << a.error();
}

TEST(Handshake, AcceptorRefusesAPeerWithoutUnlinkId) {
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 1);
  b.feed(send_name(dist::default_flags & ~dist::flag::unlink_id, 1, "old@127.0.0.1"));
  EXPECT_EQ(b.state(), State::failed);
  EXPECT_NE(b.error().find("mandatory"), std::string::npos) << b.error();
}

TEST(Handshake, InitiatorRefusesAPeerWithoutV4NodeContainers) {
  auto a = dist::Handshake::initiate(options("a@127.0.0.1"), 1);
  a.feed(framed("sok") + challenge(dist::default_flags & ~dist::flag::v4_nc, 2, 3, "b@h"));
  EXPECT_EQ(a.state(), State::failed);
  EXPECT_NE(a.error().find("mandatory"), std::string::npos) << a.error();
}

TEST(Handshake, PeerMayStandForThe25SetWithItsDigestBit) {
  const std::uint64_t flags = dist::flag::mandatory_25_digest | dist::flag::handshake_23 |
                              dist::flag::unlink_id | dist::flag::v4_nc;
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 1);
  b.feed(send_name(flags, 1, "new@127.0.0.1"));
  EXPECT_EQ(b.state(), State::needs_status) << b.error();
}

TEST(Handshake, InitiatorRefusesAChallengeFromAnotherNode) {
  auto opts = options("a@127.0.0.1");
  opts.expected_peer = "b@127.0.0.1";
  auto a = dist::Handshake::initiate(opts, 1);
  a.feed(framed("sok") + challenge(dist::default_flags, 2, 3, "c@127.0.0.1"));
  EXPECT_EQ(a.state(), State::failed);
}

TEST(Handshake, Version5SendNameIsRefused) {
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 1);
  b.feed(framed("n" + be(5, 2) + be(dist::default_flags & 0xffffffff, 4) + "old@127.0.0.1"));
  EXPECT_EQ(b.state(), State::failed);
  EXPECT_NE(b.error().find("version 5"), std::string::npos) << b.error();
}

TEST(Handshake, OversizedMessageIsRefusedBeforeItArrives) {
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 1);
  b.feed(be(4097, 2) + "N");
  EXPECT_EQ(b.state(), State::failed);
  EXPECT_NE(b.error().find("over the limit"), std::string::npos) << b.error();
}

TEST(Handshake, EmptyMessageIsRefused) {
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 1);
  b.feed(be(0, 2));
  EXPECT_EQ(b.state(), State::failed);
}

TEST(Handshake, ShortMessagesAreRefused) {
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 1);
  b.feed(framed("N" + be(dist::default_flags, 8)));  // no creation, no name
  EXPECT_EQ(b.state(), State::failed);
  EXPECT_NE(b.error().find("malformed"), std::string::npos);

  auto b2 = dist::Handshake::accept(options("b@127.0.0.1"), 1);
  b2.feed(send_name(dist::default_flags, 1, "x@h"));
  b2.answer(dist::AcceptStatus::ok);
  b2.feed(framed("r" + be(1, 4) + "short"));
  EXPECT_EQ(b2.state(), State::failed);

  // A name length past the message's end.
  auto b3 = dist::Handshake::accept(options("b@127.0.0.1"), 1);
  b3.feed(framed("N" + be(dist::default_flags, 8) + be(1, 4) + be(50, 2) + "x@h"));
  EXPECT_EQ(b3.state(), State::failed);
}

TEST(Handshake, IncompleteMessageWaitsForTheRest) {
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 1);
  const std::string m = send_name(dist::default_flags, 1, "x@h");
  b.feed(m.substr(0, m.size() - 1));
  EXPECT_EQ(b.state(), State::running);
  b.feed(m.substr(m.size() - 1));
  EXPECT_EQ(b.state(), State::needs_status);
}

TEST(Handshake, InvalidNodeNameIsRefused) {
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 1);
  b.feed(send_name(dist::default_flags, 1, "nohost"));
  EXPECT_EQ(b.state(), State::failed);
}

TEST(Handshake, NokStatusEndsTheInitiatorsAttempt) {
  auto a = dist::Handshake::initiate(options("a@127.0.0.1"), 1);
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 2);
  run(a, b, dist::AcceptStatus::nok);
  EXPECT_EQ(a.state(), State::failed);
  EXPECT_NE(a.error().find("simultaneous"), std::string::npos) << a.error();
  EXPECT_EQ(b.state(), State::failed);
}

TEST(Handshake, NotAllowedStatusEndsTheInitiatorsAttempt) {
  auto a = dist::Handshake::initiate(options("a@127.0.0.1"), 1);
  a.feed(framed("snot_allowed"));
  EXPECT_EQ(a.state(), State::failed);
}

TEST(Handshake, OkSimultaneousGoesOn) {
  auto a = dist::Handshake::initiate(options("a@127.0.0.1"), 1);
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 2);
  run(a, b, dist::AcceptStatus::ok_simultaneous);
  EXPECT_EQ(a.state(), State::done) << a.error();
  EXPECT_EQ(b.state(), State::done) << b.error();
}

TEST(Handshake, AliveStatusIsAnsweredTrueAndTheHandshakeGoesOn) {
  auto a = dist::Handshake::initiate(options("a@127.0.0.1"), 1);
  a.take_output();
  a.feed(framed("salive"));
  EXPECT_EQ(a.take_output(), framed("strue"));
  auto b = dist::Handshake::initiate(options("a@127.0.0.1"), 1);
  auto c = dist::Handshake::accept(options("c@127.0.0.1"), 2);
  run(b, c, dist::AcceptStatus::alive);
  EXPECT_EQ(b.state(), State::done) << b.error();
  EXPECT_EQ(c.state(), State::done) << c.error();
}

TEST(Handshake, AliveAnsweredFalseEndsTheAcceptorsSide) {
  auto b = dist::Handshake::accept(options("b@127.0.0.1"), 1);
  b.feed(send_name(dist::default_flags, 1, "x@h"));
  b.answer(dist::AcceptStatus::alive);
  EXPECT_EQ(b.take_output(), framed("salive"));
  b.feed(framed("sfalse"));
  EXPECT_EQ(b.state(), State::failed);
}

TEST(Handshake, MessageOutOfTurnIsRefused) {
  auto a = dist::Handshake::initiate(options("a@127.0.0.1"), 1);
  a.feed(framed("a" + std::string(16, '\0')));  // an ack before any status
  EXPECT_EQ(a.state(), State::failed);
}
