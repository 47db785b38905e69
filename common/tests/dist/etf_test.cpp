// The External Term Format (otp/dist/etf.hpp) alone: byte vectors written from the format's
// specification and from OTP 25's term_to_binary, round trips of every kind of term, and
// hostile input. The same codec against a running BEAM: etf_beam_test.cpp (label dist).
#include "otp/dist/etf.hpp"

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "term_support.hpp"

namespace {

using otp::Term;

using otp::dist::testing::bytes;
using otp::dist::testing::cat;

Term atom(const char* name) { return Term::atom(name); }

// "nonode@nohost" as ATOM_EXT.
const std::string local_node = cat({bytes({100, 0, 13}), "nonode@nohost"});

// Every kind of term, nested.
Term every_kind() {
  return Term::tuple({
      0,
      255,
      256,
      -1,
      Term(INT64_MAX),
      Term(INT64_MIN),
      Term::big_integer(true, std::string(300, '\x7f')),
      Term::floating(3.25),
      Term::floating(-0.0),
      atom("ok"),
      atom("λ"),
      atom("é"),
      Term::binary(std::string("\0\1\2", 3)),
      Term::bitstring("\xff\xff", 5),
      Term(),
      Term::string("hello"),
      Term::list({atom("a"), Term::list({1, 2}, 3)}, atom("tail")),
      Term::tuple(std::vector<Term>(300, atom("x"))),
      Term::map(
          {{atom("a"), 1}, {Term::binary("k"), Term::map({{1, 2}})}, {Term::floating(1.0), 2}}),
      Term::pid({"nonode@nohost", 12, 3, 0}),
      Term::pid({"a@host", 1, 0, 7}),
      Term::reference({"nonode@nohost", 1, {1, 2, 3}}),
      Term::reference({"b@host", 2, {1, 2, 3, 4, 5}}),
      Term::port({"nonode@nohost", 5, 0}),
      Term::port({"c@host", std::uint64_t{1} << 40, 9}),
      Term::list(std::vector<Term>(70000, 7)),
  });
}

TEST(Etf, EncodesAsOtp25sTermToBinary) {
  const std::vector<std::pair<Term, std::string>> cases{
      {atom("abc"), bytes({131, 100, 0, 3, 97, 98, 99})},
      {atom("λx"), bytes({131, 119, 3, 206, 187, 120})},
      {atom("é"), bytes({131, 100, 0, 1, 233})},
      {Term::floating(1.5), bytes({131, 70, 63, 248, 0, 0, 0, 0, 0, 0})},
      {0, bytes({131, 97, 0})},
      {255, bytes({131, 97, 255})},
      {-1, bytes({131, 98, 255, 255, 255, 255})},
      {256, bytes({131, 98, 0, 0, 1, 0})},
      {Term(INT32_MIN), bytes({131, 98, 128, 0, 0, 0})},
      {Term(std::int64_t{1} << 31), bytes({131, 110, 4, 0, 0, 0, 0, 128})},
      {Term(-(std::int64_t{1} << 31) - 1), bytes({131, 110, 4, 1, 1, 0, 0, 128})},
      {Term::integer(std::uint64_t{1} << 63), bytes({131, 110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 128})},
      {Term::big_integer(false, std::string("\0\0\0\0\0\0\0\0\1", 9)),
       bytes({131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})},
      {Term(), bytes({131, 106})},
      {Term::string("abc"), bytes({131, 107, 0, 3, 97, 98, 99})},
      {Term::list({1}, 2), bytes({131, 108, 0, 0, 0, 1, 97, 1, 97, 2})},
      {Term::list({atom("a")}), bytes({131, 108, 0, 0, 0, 1, 100, 0, 1, 97, 106})},
      {Term::list({256}), bytes({131, 108, 0, 0, 0, 1, 98, 0, 0, 1, 0, 106})},
      {Term::tuple({atom("ok"), 1}), bytes({131, 104, 2, 100, 0, 2, 111, 107, 97, 1})},
      {Term::map({{atom("b"), 1}, {atom("a"), 2}, {1, atom("x")}}),
       bytes({131, 116, 0, 0,  0,  3, 97,  1, 100, 0,  1,  120,
              100, 0,   1, 97, 97, 2, 100, 0, 1,   98, 97, 1})},
      {Term::binary("x"), bytes({131, 109, 0, 0, 0, 1, 120})},
      {Term::bitstring("\x01\x40", 3), bytes({131, 77, 0, 0, 0, 2, 3, 1, 64})},
      {Term::pid({"nonode@nohost", 9, 0, 0}),
       cat({bytes({131, 88}), local_node, bytes({0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0})})},
      {Term::port({"nonode@nohost", 1, 0}),
       cat({bytes({131, 89}), local_node, bytes({0, 0, 0, 1, 0, 0, 0, 0})})},
      {Term::port({"a@host", std::uint64_t{1} << 32, 3}),
       cat({bytes({131, 120, 100, 0, 6}), "a@host", bytes({0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3})})},
      {Term::reference({"nonode@nohost", 0, {1, 2, 3}}),
       cat({bytes({131, 90, 0, 3}), local_node,
            bytes({0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3})})},
  };
  for (const auto& [term, expected] : cases)
    EXPECT_EQ(otp::etf::encode(term), expected) << term.to_string();
}

TEST(Etf, MinorVersion2WritesEveryAtomAsUtf8) {
  const otp::etf::EncodeOptions v2{.minor_version = 2};
  EXPECT_EQ(otp::etf::encode(atom("abc"), v2), bytes({131, 119, 3, 97, 98, 99}));
  EXPECT_EQ(otp::etf::encode(atom("é"), v2), bytes({131, 119, 2, 195, 169}));
  // SMALL_ATOM_UTF8_EXT up to 255 bytes, ATOM_UTF8_EXT beyond (178 characters, 256 bytes).
  EXPECT_EQ(otp::etf::encode(Term::atom(std::string(255, 'a')), v2).substr(0, 3),
            bytes({131, 119, 255}));
  std::string wide(100, 'a');
  for (int i = 0; i < 78; ++i) wide += "λ";
  EXPECT_EQ(otp::etf::encode(Term::atom(wide), v2).substr(0, 4), bytes({131, 118, 1, 0}));
  EXPECT_EQ(otp::etf::encode(Term::atom(wide)).substr(0, 4), bytes({131, 118, 1, 0}));
}

TEST(Etf, CompressedIsWrittenOnlyWhenShorter) {
  const Term repetitive = Term::binary(std::string(1000, 'a'));
  const std::string packed = otp::etf::encode(repetitive, {.compressed = 6});
  ASSERT_EQ(static_cast<unsigned char>(packed[1]), 80);
  EXPECT_EQ(packed.substr(2, 4), bytes({0, 0, 3, 237}));  // 1005 bytes once inflated
  EXPECT_LT(packed.size(), 100u);
  EXPECT_EQ(otp::etf::decode(packed).value(), repetitive);
  EXPECT_EQ(otp::etf::encode(atom("abc"), {.compressed = 6}), otp::etf::encode(atom("abc")));
}

TEST(Etf, EveryKindOfTermRoundTrips) {
  const Term t = every_kind();
  for (int minor : {1, 2}) {
    for (int level : {0, 1, 9}) {
      const std::string encoded =
          otp::etf::encode(t, {.minor_version = minor, .compressed = level});
      auto decoded = otp::etf::decode(encoded);
      ASSERT_TRUE(decoded.ok()) << decoded.to_string();
      EXPECT_EQ(decoded.value(), t);
      EXPECT_EQ(otp::etf::encode(decoded.value(), {.minor_version = minor, .compressed = level}),
                encoded);
    }
  }
}

TEST(Etf, DecodesTheOlderForms) {
  const auto decode = [](const std::string& b) { return otp::etf::decode(b).value(); };
  EXPECT_EQ(decode(bytes({131, 115, 2, 111, 107})), atom("ok"));    // SMALL_ATOM_EXT
  EXPECT_EQ(decode(bytes({131, 118, 0, 2, 195, 169})), atom("é"));  // ATOM_UTF8_EXT
  EXPECT_EQ(decode(bytes({131, 100, 0, 1, 233})), atom("é"));       // Latin-1
  std::string f = cat({bytes({131, 99}), "1.50000000000000000000e+00"});
  f.resize(2 + 31, '\0');
  EXPECT_EQ(decode(f), Term::floating(1.5));  // FLOAT_EXT
  EXPECT_EQ(decode(cat({bytes({131, 103}), local_node, bytes({0, 0, 0, 9, 0, 0, 0, 1, 2})})),
            Term::pid({"nonode@nohost", 9, 1, 2}));  // PID_EXT
  EXPECT_EQ(decode(cat({bytes({131, 101}), local_node, bytes({0, 0, 0, 9, 1})})),
            Term::reference({"nonode@nohost", 1, {9}}));  // REFERENCE_EXT
  EXPECT_EQ(decode(cat({bytes({131, 114, 0, 2}), local_node, bytes({3, 0, 0, 0, 1, 0, 0, 0, 2})})),
            Term::reference({"nonode@nohost", 3, {1, 2}}));  // NEW_REFERENCE_EXT
  EXPECT_EQ(decode(cat({bytes({131, 102}), local_node, bytes({0, 0, 0, 9, 1})})),
            Term::port({"nonode@nohost", 9, 1}));  // PORT_EXT
  EXPECT_EQ(
      decode(cat({bytes({131, 120}), local_node, bytes({0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1})})),
      Term::port({"nonode@nohost", 9, 1}));                          // V4_PORT_EXT
  EXPECT_EQ(decode(bytes({131, 110, 3, 1, 5, 0, 0})), Term(-5));     // a big with high zero bytes
  EXPECT_EQ(decode(bytes({131, 108, 0, 0, 0, 0, 97, 1})), Term(1));  // LIST_EXT of none: its tail
  EXPECT_EQ(decode(bytes({131, 107, 0, 0})), Term());
  EXPECT_EQ(decode(bytes({131, 77, 0, 0, 0, 1, 3, 255})), Term::bitstring("\xe0", 3));
  EXPECT_EQ(decode(bytes({131, 77, 0, 0, 0, 0, 0})), Term::binary(""));
}

TEST(Etf, FunsAreKeptAsTheirBytesAndWrittenBack) {
  const std::string export_ext =
      cat({bytes({131, 113, 100, 0, 6}), "erlang", bytes({100, 0, 4}), "self", bytes({97, 0})});
  auto f = otp::etf::decode(export_ext);
  ASSERT_TRUE(f.ok()) << f.to_string();
  EXPECT_TRUE(f->is_fun());
  EXPECT_EQ(otp::etf::encode(f.value()), export_ext);
  const std::string new_fun = cat({bytes({131, 112, 0, 0, 0, 8}), "abcd"});
  auto g = otp::etf::decode(new_fun);
  ASSERT_TRUE(g.ok()) << g.to_string();
  EXPECT_EQ(otp::etf::encode(g.value()), new_fun);
  EXPECT_FALSE(otp::etf::decode(bytes({131, 112, 0, 0, 0, 9, 1, 2, 3, 4})).ok());
  EXPECT_FALSE(otp::etf::decode(bytes({131, 117, 0, 0, 0, 0})).ok());  // FUN_EXT
}

// The error of decoding `b`, which must fail.
std::string error_of(const std::string& b) {
  auto r = otp::etf::decode(b);
  EXPECT_FALSE(r.ok()) << r.value().to_string();
  return r.ok() ? std::string() : r.reason().to_string();
}

TEST(Etf, ErrorsNameTheOffsetAndTheFault) {
  EXPECT_EQ(error_of(""), "{bad_etf, 0, \"no bytes\"}");
  EXPECT_EQ(error_of(bytes({130, 106})), "{bad_etf, 0, \"version byte 130, not 131\"}");
  EXPECT_EQ(error_of(bytes({131, 106, 106})), "{bad_etf, 2, \"bytes after the term\"}");
  EXPECT_EQ(error_of(bytes({131, 104, 2, 97, 1, 200})), "{bad_etf, 5, \"unknown tag 200\"}");
  EXPECT_EQ(error_of(bytes({131, 109, 0, 0, 0, 5, 1})),
            "{bad_etf, 6, \"BINARY_EXT's bytes needs 5 bytes, 1 left\"}");
  EXPECT_EQ(error_of(bytes({131, 109, 255, 255, 255, 255})),
            "{bad_etf, 6, \"BINARY_EXT's bytes needs 4294967295 bytes, 0 left\"}");
}

TEST(Etf, LengthsClaimingGigabytesFailBeforeAllocating) {
  const int ff = 255;
  for (int tag : {105, 108, 116}) {  // LARGE_TUPLE_EXT, LIST_EXT, MAP_EXT
    EXPECT_NE(error_of(bytes({131, tag, ff, ff, ff, ff, 97, 1})).find("4294967295 elements"),
              std::string::npos);
  }
  for (int tag : {109, 111}) {  // BINARY_EXT, LARGE_BIG_EXT
    EXPECT_NE(error_of(bytes({131, tag, ff, ff, ff, ff, 0})).find("needs"), std::string::npos);
  }
  EXPECT_NE(error_of(bytes({131, 77, ff, ff, ff, ff, 3})).find("needs"), std::string::npos);
  // COMPRESSED claiming 4 GB from a few bytes of zlib data.
  EXPECT_NE(error_of(bytes({131, 80, ff, ff, ff, ff, 120, 156, 3, 0})).find("claims"),
            std::string::npos);
  otp::etf::Limits small;
  small.max_uncompressed = 100;
  auto r = otp::etf::decode(
      otp::etf::encode(Term::binary(std::string(1000, 'a')), {.compressed = 6}), small);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.reason().to_string().find("over the limit"), std::string::npos);
}

TEST(Etf, BrokenCompressedDataIsAnError) {
  std::string packed = otp::etf::encode(Term::binary(std::string(1000, 'a')), {.compressed = 6});
  std::string truncated = packed.substr(0, packed.size() - 3);
  EXPECT_NE(error_of(truncated).find("zlib"), std::string::npos);
  std::string wrong_size = packed;
  wrong_size[5] = static_cast<char>(wrong_size[5] - 1);  // claims one byte less than it holds
  error_of(wrong_size);
  std::string more = packed;
  more[5] = static_cast<char>(more[5] + 1);  // claims one byte more
  error_of(more);
  error_of(packed + "x");
}

TEST(Etf, NestingDeeperThanTheLimitIsAnError) {
  std::string deep(1, '\x83');
  for (int i = 0; i < 100000; ++i) deep += bytes({104, 1});
  deep += bytes({106});
  EXPECT_NE(error_of(deep).find("nested deeper than 512"), std::string::npos);
  std::string list(1, '\x83');  // [[[...]]] as LIST_EXT tails
  for (int i = 0; i < 100000; ++i) list += bytes({108, 0, 0, 0, 1, 97, 1});
  list += bytes({106});
  EXPECT_NE(error_of(list).find("nested deeper"), std::string::npos);
}

TEST(Etf, MalformedTermsAreRefused) {
  error_of(bytes({131, 116, 0, 0, 0, 2, 97, 1, 97, 2, 97, 1, 97, 3}));    // a key twice
  error_of(bytes({131, 119, 1, 255}));                                    // not UTF-8
  error_of(cat({bytes({131, 100, 1, 0}), std::string(256, 'a')}));        // 256 characters
  error_of(bytes({131, 77, 0, 0, 0, 1, 0, 5}));                           // 0 bits used
  error_of(bytes({131, 77, 0, 0, 0, 1, 9, 5}));                           // 9 bits used
  error_of(bytes({131, 77, 0, 0, 0, 0, 8}));                              // bits of no byte
  error_of(bytes({131, 70, 127, 240, 0, 0, 0, 0, 0, 0}));                 // infinity
  error_of(bytes({131, 82, 0}));                                          // atom cache reference
  error_of(bytes({131, 88, 97, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));  // a pid's node: 1
  error_of(cat({bytes({131, 90, 0, 6}), local_node, std::string(28, '\0')}));  // 6 ids
  error_of(bytes({131, 113, 97, 1, 97, 2, 97, 3}));  // EXPORT_EXT of integers
}

TEST(Etf, EveryTruncationOfAValidTermIsAnError) {
  const std::string whole = otp::etf::encode(every_kind());
  for (std::size_t n = 0; n < whole.size(); n += (n < 2000 ? 1 : 997)) {
    auto r = otp::etf::decode(std::string_view(whole).substr(0, n));
    EXPECT_FALSE(r.ok()) << n;
  }
}

TEST(Etf, MutatedInputsDecodeToTermsThatRoundTripOrFail) {
  const std::string whole = otp::etf::encode(Term::tuple(
      {atom("ok"), Term::list({1, 2}, 3), Term::map({{atom("a"), Term::binary("b")}}), -70000,
       Term::floating(1.5), Term::pid({"a@b", 1, 2, 3}), Term::bitstring("\x01\x40", 3)}));
  std::mt19937 random(42);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string b = whole;
    const int changes = 1 + static_cast<int>(random() % 3);
    for (int k = 0; k < changes; ++k) b[random() % b.size()] = static_cast<char>(random() % 256);
    auto r = otp::etf::decode(b);
    if (!r.ok()) continue;
    ++decoded;
    auto again = otp::etf::decode(otp::etf::encode(r.value()));
    ASSERT_TRUE(again.ok()) << again.to_string();
    EXPECT_EQ(again.value(), r.value());
  }
  EXPECT_GT(decoded, 0);
}

TEST(Etf, DecodeOneReadsTermsOneAfterAnother) {
  std::string b;
  otp::etf::encode_to(b, Term::tuple({1, atom("a")}));
  otp::etf::encode_to(b, Term::binary("x"));
  std::size_t offset = 0;
  EXPECT_EQ(otp::etf::decode_one(b, offset).value(), Term::tuple({1, atom("a")}));
  EXPECT_EQ(otp::etf::decode_one(b, offset).value(), Term::binary("x"));
  EXPECT_EQ(offset, b.size());
  EXPECT_FALSE(otp::etf::decode_one(b, offset).ok());
}

}  // namespace
