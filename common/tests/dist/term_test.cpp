// otp::Term (otp/dist/term.hpp): its forms, Erlang's term order and the ~p rendering.
#include "otp/dist/term.hpp"

#include <algorithm>
#include <compare>
#include <cstdint>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "term_support.hpp"

namespace {

using otp::Term;

Term atom(const char* name) { return Term::atom(name); }
Term big(bool negative, const std::string& magnitude) {
  return Term::big_integer(negative, magnitude);
}

TEST(Term, BigIntegerThatFitsAnInt64IsHeldAsOne) {
  EXPECT_FALSE(big(false, std::string("\x05\x00\x00", 3)).is_big());
  EXPECT_EQ(big(false, std::string("\x05\x00\x00", 3)), Term(5));
  const Term min = big(true, std::string("\x00\x00\x00\x00\x00\x00\x00\x80", 8));
  EXPECT_FALSE(min.is_big());
  EXPECT_EQ(min.as_int(), std::numeric_limits<std::int64_t>::min());
  const Term over = big(false, std::string("\x00\x00\x00\x00\x00\x00\x00\x80", 8));
  EXPECT_TRUE(over.is_big());
  EXPECT_EQ(Term::integer(std::uint64_t{1} << 63), over);
  EXPECT_EQ(big(true, std::string()), Term(0));
}

TEST(Term, ListWithAListTailIsOneList) {
  const Term inner = Term::list({2, 3}, atom("x"));
  const Term outer = Term::list({1}, inner);
  EXPECT_EQ(outer.elements().size(), 3u);
  EXPECT_EQ(outer.tail(), atom("x"));
  EXPECT_EQ(outer, Term::list({1, 2, 3}, atom("x")));
  EXPECT_EQ(Term::list({}, atom("x")), atom("x"));
  EXPECT_TRUE(Term::list({}).is_nil());
}

TEST(Term, MapKeepsOneEntryPerKeyTheLastGiven) {
  const Term m = Term::map({{atom("a"), 1}, {atom("b"), 2}, {atom("a"), 3}});
  ASSERT_EQ(m.entries().size(), 2u);
  EXPECT_EQ(*m.find(atom("a")), Term(3));
  EXPECT_EQ(m.find(atom("c")), nullptr);
}

TEST(Term, MapKeysFollowMapKeyOrderIntegersBeforeFloats) {
  const Term m = Term::map({{Term::floating(1.5), atom("b")},
                            {2, atom("a")},
                            {1, atom("c")},
                            {Term::floating(1.0), atom("d")}});
  std::vector<Term> keys;
  for (const auto& e : m.entries()) keys.push_back(e.first);
  EXPECT_EQ(keys, (std::vector<Term>{1, 2, Term::floating(1.0), Term::floating(1.5)}));
  EXPECT_EQ(m.entries().size(), 4u);  // 1 and 1.0 are two keys
}

TEST(Term, BitstringClearsItsUnusedBits) {
  const Term b = Term::bitstring(std::string("\x01\xff", 2), 3);
  EXPECT_EQ(b.type(), Term::Type::bitstring);
  EXPECT_EQ(b.bytes(), std::string("\x01\xe0", 2));
  EXPECT_EQ(Term::bitstring("ab", 8), Term::binary("ab"));
  EXPECT_THROW(Term::bitstring("a", 0), std::invalid_argument);
}

TEST(Term, AtomRefusesBadUtf8AndLongNames) {
  EXPECT_THROW(Term::atom("\xff"), std::invalid_argument);
  EXPECT_THROW(Term::atom(std::string(256, 'a')), std::invalid_argument);
  EXPECT_NO_THROW(Term::atom(std::string(255, 'a')));
  EXPECT_THROW(Term::floating(std::numeric_limits<double>::infinity()), std::invalid_argument);
}

TEST(Term, EqualityIsExactAndOrderComparesNumbersByValue) {
  EXPECT_NE(Term(1), Term::floating(1.0));
  EXPECT_TRUE(std::is_eq(Term(1) <=> Term::floating(1.0)));
  EXPECT_LT(Term(1), Term::floating(1.5));
  EXPECT_LT(Term::floating(0.5), Term(1));
  EXPECT_LT(Term(-3), Term(2));
}

TEST(Term, BigIntegersCompareWithFloatsExactly) {
  const Term two64 = big(false, std::string("\x00\x00\x00\x00\x00\x00\x00\x00\x01", 9));
  EXPECT_TRUE(std::is_eq(two64 <=> Term::floating(18446744073709551616.0)));
  EXPECT_LT(Term::floating(1.8446744073709550e19), two64);
  EXPECT_LT(two64, Term::floating(1.8446744073709555e19));
  const Term minus = big(true, std::string("\x00\x00\x00\x00\x00\x00\x00\x00\x01", 9));
  EXPECT_LT(minus, Term::floating(-1.0));
  EXPECT_LT(Term::floating(-1e30), minus);
  EXPECT_LT(minus, Term(std::numeric_limits<std::int64_t>::min()));
  EXPECT_LT(Term(std::numeric_limits<std::int64_t>::max()), two64);
}

TEST(Term, TermOrderRanksTheKindsAsErlangDoes) {
  const std::vector<Term> ascending{
      Term(1),
      atom("a"),
      Term::reference({"nonode@nohost", 0, {1, 2, 3}}),
      Term::fun(std::string("\x71\x64\x00\x01m\x64\x00\x01"
                            "f\x61\x00",
                            11)),
      Term::port({"nonode@nohost", 5, 0}),
      Term::pid({"nonode@nohost", 12, 0, 0}),
      Term::tuple({1}),
      Term::map({}),
      Term(),
      Term::list({1}),
      Term::bitstring("a", 3),
      Term::binary("a"),
  };
  for (std::size_t i = 0; i + 1 < ascending.size(); ++i)
    EXPECT_LT(ascending[i], ascending[i + 1]) << i;
}

TEST(Term, CompoundTermsCompareAsErlangDoes) {
  EXPECT_LT(Term::tuple({9, 9}), Term::tuple({1, 1, 1}));  // size first
  EXPECT_LT(Term::tuple({1, 2}), Term::tuple({1, 3}));
  EXPECT_LT(Term::list({1, 2}), Term::list({1, 2, 3}));
  EXPECT_LT(Term::list({1}, atom("x")), Term::list({1, 2}));  // an atom tail before a list
  EXPECT_LT(Term::list({1, 2}), Term::list({1, 3}));
  EXPECT_LT(Term::binary("ab"), Term::binary("abc"));
  EXPECT_LT(Term::bitstring("\x80", 1), Term::binary("\x80"));
  // Maps: size, then keys, then values.
  EXPECT_LT(Term::map({{atom("z"), 1}}), Term::map({{atom("a"), 1}, {atom("b"), 1}}));
  EXPECT_LT(Term::map({{atom("a"), 2}}), Term::map({{atom("b"), 1}}));
  EXPECT_LT(Term::map({{atom("a"), 1}}), Term::map({{atom("a"), 2}}));
  // Keys compare exactly: a float key is after every integer key.
  EXPECT_LT(Term::map({{2, 0}}), Term::map({{Term::floating(1.0), 0}}));
}

TEST(Term, SortingMixedTermsGivesErlangsOrder) {
  std::vector<Term> terms{
      Term::binary("b"),       Term::tuple({}), atom("b"), Term::floating(2.5), Term(),
      Term::list({atom("a")}), Term(3),         atom("a")};
  std::sort(terms.begin(), terms.end());
  std::string printed;
  for (const auto& t : terms) printed += t.to_string() + " ";
  EXPECT_EQ(printed, "2.5 3 a b {} [] [a] <<\"b\">> ");
}

TEST(Term, PrintsAsErlangsTildeP) {
  EXPECT_EQ(Term::tuple({atom("ok"), Term::binary("x")}).to_string(), "{ok,<<\"x\">>}");
  EXPECT_EQ(atom("Quoted atom").to_string(), "'Quoted atom'");
  EXPECT_EQ(atom("a@b").to_string(), "a@b");
  EXPECT_EQ(atom("and").to_string(), "'and'");
  EXPECT_EQ(atom("").to_string(), "''");
  EXPECT_EQ(atom("It's").to_string(), "'It\\'s'");
  EXPECT_EQ(Term::list({1, 2}, 3).to_string(), "[1,2|3]");
  EXPECT_EQ(Term::map({{atom("a"), 1}, {atom("b"), 2}}).to_string(), "#{a => 1,b => 2}");
  EXPECT_EQ(Term::string("abc").to_string(), "\"abc\"");
  EXPECT_EQ(Term::string("a\tb").to_string(), "\"a\\tb\"");
  EXPECT_EQ(Term::list({1, 2, 3}).to_string(), "[1,2,3]");
  EXPECT_EQ(Term::binary("\x01\x02\x03").to_string(), "<<1,2,3>>");
  EXPECT_EQ(Term::binary("").to_string(), "<<>>");
  EXPECT_EQ(Term::binary("a\nb").to_string(), "<<\"a\\nb\">>");
  EXPECT_EQ(Term::bitstring("\x01\x40", 3).to_string(), "<<1,2:3>>");
  EXPECT_EQ(Term::tuple({}).to_string(), "{}");
  EXPECT_EQ(Term::map({}).to_string(), "#{}");
  EXPECT_EQ(Term().to_string(), "[]");
  EXPECT_EQ(Term(-5).to_string(), "-5");
  EXPECT_EQ(big(false, std::string("\xd2\x0a\x3f\x4e\xee\xe0\x73\xc3\xf6\x0f\xe9\x8e\x01", 13))
                .to_string(),
            "123456789012345678901234567890");
  EXPECT_EQ(big(true, std::string("\x00\x00\x00\x00\x00\x00\x00\x00\x01", 9)).to_string(),
            "-18446744073709551616");
}

TEST(Term, PrintsFloatsInTheirShortestErlangForm) {
  const std::vector<std::pair<double, const char*>> cases{
      {1.0, "1.0"},
      {0.1, "0.1"},
      {1e100, "1.0e100"},
      {1e21, "1.0e21"},
      {1e20, "1.0e20"},
      {123456789.0, "123456789.0"},
      {1e-5, "1.0e-5"},
      {0.0001, "0.0001"},
      {1e15, "1.0e15"},
      {1234567890123456789.0, "1.2345678901234568e18"},
      {5e-324, "5.0e-324"},
      {0.30000000000000004, "0.30000000000000004"},
      {100.0, "100.0"},
      {1.5e-7, "1.5e-7"},
      {-0.0, "-0.0"},
      {2.5e22, "2.5e22"},
      {9007199254740992.0, "9.007199254740992e15"},
      {-1.5, "-1.5"},
  };
  for (const auto& [d, text] : cases) EXPECT_EQ(Term::floating(d).to_string(), text);
}

TEST(Term, PrintsPidsRefsAndPortsOfThisNodeWithNodeZero) {
  EXPECT_EQ(Term::pid({"nonode@nohost", 12, 0, 0}).to_string(), "<0.12.0>");
  EXPECT_EQ(Term::pid({"a@host", 1, 2, 3}).to_string(), "<a@host.1.2>");
  EXPECT_EQ(Term::reference({"nonode@nohost", 0, {1, 2, 3}}).to_string(), "#Ref<0.3.2.1>");
  EXPECT_EQ(Term::port({"nonode@nohost", 5, 0}).to_string(), "#Port<0.5>");
}

TEST(Term, FormatsWithFmt) { EXPECT_EQ(fmt::format("{}", Term::tuple({atom("ok"), 1})), "{ok,1}"); }

}  // namespace
