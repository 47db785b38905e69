// C++ structs to terms and back (otp/dist/term_convert.hpp).
#include "otp/dist/term_convert.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "otp/dist/etf.hpp"

namespace shapes {

struct Point {
  std::int64_t x = 0;
  std::int64_t y = 0;
  bool operator==(const Point&) const = default;
};
OTP_TERM_TUPLE(Point, point, x, y)

struct Ping {
  bool operator==(const Ping&) const = default;
};
OTP_TERM_TUPLE(Ping, ping)

struct User {
  std::string login;
  std::optional<std::string> name;
  std::vector<Point> marks;
  std::map<std::string, double> scores;
  bool admin = false;
  std::uint8_t level = 0;
  otp::Term extra;
  bool operator==(const User&) const = default;
};
OTP_TERM_MAP(User, login, name, marks, scores, admin, level, extra)

}  // namespace shapes

namespace {

using otp::Term;
using shapes::Point;
using shapes::User;

Term atom(const char* name) { return Term::atom(name); }

std::string error_of(const otp::Result<auto>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.reason().to_string();
}

TEST(TermConvert, StructMapsToATaggedTupleAndBack) {
  const Term t = otp::to_term(Point{1, -2});
  EXPECT_EQ(t.to_string(), "{point,1,-2}");
  EXPECT_EQ(otp::from_term<Point>(t).value(), (Point{1, -2}));
  EXPECT_EQ(otp::to_term(shapes::Ping{}).to_string(), "{ping}");
  EXPECT_TRUE(otp::from_term<shapes::Ping>(Term::tuple({atom("ping")})).ok());
}

TEST(TermConvert, StructMapsToAMapAndBackThroughTheWire) {
  const User user{"ann", std::nullopt, {{1, 2}, {3, 4}}, {{"go", 1.5}}, true, 7, atom("x")};
  const Term t = otp::to_term(user);
  EXPECT_EQ(t.to_string(),
            "#{admin => true,extra => x,level => 7,login => <<\"ann\">>,"
            "marks => [{point,1,2},{point,3,4}],name => undefined,scores => #{<<\"go\">> => 1.5}}");
  auto back = otp::etf::decode(otp::etf::encode(t));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(otp::from_term<User>(back.value()).value(), user);
  User named = user;
  named.name = "Ann";
  EXPECT_EQ(otp::from_term<User>(otp::to_term(named)).value(), named);
}

TEST(TermConvert, MapFormIgnoresOtherKeysAndTakesNilAsNothing) {
  User plain;
  plain.login = "bob";
  const Term bob = otp::to_term(plain);
  std::vector<Term::Entry> entries(bob.entries().begin(), bob.entries().end());
  entries.emplace_back(atom("__struct__"), atom("Elixir.User"));
  entries.emplace_back(atom("name"), atom("nil"));
  auto user = otp::from_term<User>(Term::map(entries));
  ASSERT_TRUE(user.ok()) << user.to_string();
  EXPECT_EQ(user->login, "bob");
  EXPECT_FALSE(user->name.has_value());
}

TEST(TermConvert, WrongShapesSayWhatWasExpectedWhatCameAndWhere) {
  EXPECT_EQ(error_of(otp::from_term<Point>(atom("x"))),
            "{bad_term, \"expected {point, x, y}, got x\"}");
  EXPECT_EQ(error_of(otp::from_term<Point>(Term::tuple({atom("point"), 1}))),
            "{bad_term, \"expected {point, x, y}, got {point,1}\"}");
  EXPECT_EQ(error_of(otp::from_term<Point>(Term::tuple({atom("point"), 1, atom("x")}))),
            "{bad_term, \"element 3 (y) of {point,1,x}: expected an integer, got x\"}");
  EXPECT_EQ(error_of(otp::from_term<std::vector<Point>>(Term::list(
                {otp::to_term(Point{}), Term::tuple({atom("point"), 1, Term::floating(2.5)})}))),
            "{bad_term, \"element 2 of [{point,0,0},{point,1,2.5}]: element 3 (y) of "
            "{point,1,2.5}: expected an integer, got 2.5\"}");
  const std::string missing =
      error_of(otp::from_term<User>(Term::map({{atom("login"), Term::binary("a")}})));
  EXPECT_NE(missing.find("no key name"), std::string::npos) << missing;
  const Term bad_level = Term::map({{atom("login"), Term::binary("a")},
                                    {atom("name"), atom("nil")},
                                    {atom("marks"), Term()},
                                    {atom("scores"), Term::map({})},
                                    {atom("admin"), atom("false")},
                                    {atom("level"), 300},
                                    {atom("extra"), Term()}});
  EXPECT_NE(error_of(otp::from_term<User>(bad_level)).find("key level of"), std::string::npos);
  EXPECT_NE(
      error_of(otp::from_term<User>(bad_level)).find("expected an integer in 0..255, got 300"),
      std::string::npos);
}

TEST(TermConvert, UsualTypesConvert) {
  EXPECT_EQ(otp::to_term(true), atom("true"));
  EXPECT_EQ(otp::from_term<bool>(atom("false")).value(), false);
  EXPECT_FALSE(otp::from_term<bool>(atom("maybe")).ok());
  EXPECT_EQ(otp::to_term(std::uint64_t{1} << 63).to_string(), "9223372036854775808");
  EXPECT_EQ(otp::from_term<std::uint64_t>(otp::to_term(std::uint64_t{1} << 63)).value(),
            std::uint64_t{1} << 63);
  EXPECT_FALSE(otp::from_term<std::uint32_t>(Term(-1)).ok());
  EXPECT_FALSE(otp::from_term<std::int8_t>(Term(128)).ok());
  EXPECT_EQ(otp::from_term<double>(Term(3)).value(), 3.0);
  EXPECT_EQ(otp::to_term(std::string("hi")), Term::binary("hi"));
  EXPECT_FALSE(otp::from_term<std::string>(Term::string("hi")).ok());
  const auto pair = std::make_pair(std::string("k"), 5);
  EXPECT_EQ(otp::to_term(pair).to_string(), "{<<\"k\">>,5}");
  EXPECT_EQ((otp::from_term<std::pair<std::string, int>>(otp::to_term(pair)).value()), pair);
  const std::tuple<int, bool, std::vector<int>> triple{1, true, {2, 3}};
  EXPECT_EQ(otp::to_term(triple).to_string(), "{1,true,[2,3]}");
  EXPECT_EQ((otp::from_term<std::tuple<int, bool, std::vector<int>>>(otp::to_term(triple)).value()),
            triple);
  const otp::ExternalPid pid{"a@b", 1, 2, 3};
  EXPECT_EQ(otp::from_term<otp::ExternalPid>(otp::to_term(pid)).value(), pid);
  EXPECT_FALSE(otp::from_term<std::vector<int>>(Term::list({1}, 2)).ok());
}

}  // namespace
