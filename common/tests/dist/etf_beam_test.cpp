// The External Term Format against the BEAM itself (Debian's OTP: `erl`, no distribution, no
// epmd): the same terms, written once as Erlang text and once as otp::Term, must give the same
// bytes both ways. Label `dist`.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "otp/dist/etf.hpp"
#include "otp/testing/child_process.hpp"

namespace {

using otp::Term;

struct Case {
  const char* erlang;      // an Erlang expression
  Term term;               // the same term built in C++
  bool same_bytes = true;  // false: a map of over 32 keys, which the BEAM writes in hash order
  bool same_text = true;   // false: printed with a node index by the BEAM
};

Term atom(const char* name) { return Term::atom(name); }

std::vector<Term> range(int from, int to) {
  std::vector<Term> out;
  for (int i = from; i <= to; ++i) out.emplace_back(i);
  return out;
}

std::vector<Case> cases() {
  std::vector<Term::Entry> forty;
  for (int i = 1; i <= 40; ++i) forty.emplace_back(i, i);
  std::string big_2040(255, '\0');
  big_2040.push_back('\1');
  return {
      {"0", 0},
      {"255", 255},
      {"256", 256},
      {"-1", -1},
      {"2147483647", Term(2147483647)},
      {"-2147483648", Term(INT32_MIN)},
      {"2147483648", Term(std::int64_t{2147483648})},
      {"-2147483649", Term(std::int64_t{-2147483649})},
      {"9223372036854775807", Term(INT64_MAX)},
      {"-9223372036854775808", Term(INT64_MIN)},
      {"18446744073709551616", Term::big_integer(false, std::string("\0\0\0\0\0\0\0\0\1", 9))},
      {"-(1 bsl 2040)", Term::big_integer(true, big_2040)},
      {"1.5", Term::floating(1.5)},
      {"-0.0", Term::floating(-0.0)},
      {"1.0e300", Term::floating(1e300)},
      {"0.1", Term::floating(0.1)},
      {"abc", atom("abc")},
      {"'Quoted atom'", atom("Quoted atom")},
      {"'é'", atom("é")},
      {"'λ'", atom("λ"), true, false},  // ~p writes '\x{3BB}', ~tp (and we) 'λ'
      {"''", atom("")},
      {"<<>>", Term::binary("")},
      {"<<\"hello\">>", Term::binary("hello")},
      {"<<1,2,3>>", Term::binary("\x01\x02\x03")},
      {"<<1,2:3>>", Term::bitstring("\x01\x40", 3)},
      {"<<127:7>>", Term::bitstring("\xfe", 7)},
      {"[]", Term()},
      {"\"abc\"", Term::string("abc")},
      {"[1,2|3]", Term::list({1, 2}, 3)},
      {"[a,b]", Term::list({atom("a"), atom("b")})},
      {"[256]", Term::list({256})},
      {"[1|<<\"t\">>]", Term::list({1}, Term::binary("t"))},
      {"lists:duplicate(65535, 7)", Term::list(std::vector<Term>(65535, 7))},
      {"lists:duplicate(70000, 7)", Term::list(std::vector<Term>(70000, 7))},
      {"lists:duplicate(1000, a)", Term::list(std::vector<Term>(1000, atom("a")))},
      {"binary:copy(<<\"ab\">>, 1000)", Term::binary([] {
         std::string s;
         for (int i = 0; i < 1000; ++i) s += "ab";
         return s;
       }())},
      {"{}", Term::tuple({})},
      {"{ok, <<\"x\">>}", Term::tuple({atom("ok"), Term::binary("x")})},
      {"list_to_tuple(lists:seq(1, 300))", Term::tuple(range(1, 300))},
      {"#{}", Term::map({})},
      {"#{a => 1, b => 2, 1 => x, 1.0 => y, <<\"k\">> => [z]}",
       Term::map({{atom("a"), 1},
                  {atom("b"), 2},
                  {1, atom("x")},
                  {Term::floating(1.0), atom("y")},
                  {Term::binary("k"), Term::list({atom("z")})}})},
      {"maps:from_list([{N, N} || N <- lists:seq(1, 40)])", Term::map(forty), false, false},
      {"[{nested, [#{k => {1, [2.5]}}]}]",
       Term::list({Term::tuple(
           {atom("nested"),
            Term::list({Term::map(
                {{atom("k"), Term::tuple({1, Term::list({Term::floating(2.5)})})}})})})})},
      {"list_to_pid(\"<0.12.3>\")", Term::pid({"nonode@nohost", 12, 3, 0})},
      {"erlang:list_to_ref(\"#Ref<0.1.2.3>\")", Term::reference({"nonode@nohost", 0, {3, 2, 1}})},
      {"list_to_port(\"#Port<0.5>\")", Term::port({"nonode@nohost", 5, 0})},
      {"binary_to_term(<<131,88,100,0,6,\"a@host\",0,0,0,1,0,0,0,2,0,0,0,3>>)",
       Term::pid({"a@host", 1, 2, 3}), true, false},
      {"binary_to_term(<<131,90,0,5,100,0,6,\"a@host\",0,0,0,3,1:32,2:32,3:32,4:32,5:32>>)",
       Term::reference({"a@host", 3, {1, 2, 3, 4, 5}}), true, false},
      {"binary_to_term(<<131,120,100,0,6,\"a@host\",0,0,0,1,0,0,0,0,0,0,0,7>>)",
       Term::port({"a@host", std::uint64_t{1} << 32, 7}), true, false},
  };
}

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : bytes) {
    out.push_back(digits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(digits[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

std::string unhex(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
  return out;
}

// A file of lines the Erlang side reads; removed with the test.
class LinesFile {
 public:
  explicit LinesFile(const std::vector<std::string>& lines) {
    char name[] = "/tmp/otp-etf-XXXXXX";
    const int fd = ::mkstemp(name);
    path_ = name;
    ::close(fd);
    std::ofstream out(path_);
    for (const auto& l : lines) out << l << "\n";
  }
  ~LinesFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `body` in erl with Lines bound to the lines of `file` (binaries) and Eval to a function
// that evaluates an Erlang expression given as a binary: what it printed.
std::string run_erl(const std::string& file, const std::string& body) {
  const std::string script =
      "{ok, B} = file:read_file(\"" + file +
      "\"), "
      "Lines = [L || L <- binary:split(B, <<\"\\n\">>, [global]), L =/= <<>>], "
      "Eval = fun(Text) -> {ok, Ts, _} = erl_scan:string(unicode:characters_to_list(Text) ++ "
      "\".\"), {ok, Es} = erl_parse:parse_exprs(Ts), {value, V, _} = erl_eval:exprs(Es, []), V "
      "end, " +
      body + ", halt().";
  otp::testing::ChildProcess erl({"erl", "-noshell", "-eval", script});
  EXPECT_TRUE(erl.wait_for_output("end-of-output", std::chrono::seconds(60))) << erl.output();
  erl.stop(SIGTERM, std::chrono::seconds(10));
  return erl.output();
}

std::vector<std::string> output_lines(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line == "end-of-output") break;
    lines.push_back(line);
  }
  return lines;
}

TEST(EtfBeam, BeamEncodingsDecodeAndReencodeToTheSameBytes) {
  const auto all = cases();
  std::vector<std::string> exprs;
  for (const auto& c : all) exprs.emplace_back(c.erlang);
  LinesFile file(exprs);
  // Per term: term_to_binary(T), with [compressed], with [{minor_version, 2}], and ~p on one line.
  const auto lines = output_lines(
      run_erl(file.path(),
              "io:setopts([{encoding, unicode}]), "
              "lists:foreach(fun(L) -> T = Eval(L), io:put_chars(unicode:characters_to_binary(["
              "binary:encode_hex(term_to_binary(T)), \" \", "
              "binary:encode_hex(term_to_binary(T, [compressed])), \" \", "
              "binary:encode_hex(term_to_binary(T, [{minor_version, 2}])), \" \", "
              "io_lib:print(T, 1, 10000000, -1), \"\\n\"])) end, Lines), "
              "io:put_chars(\"end-of-output\\n\")"));
  ASSERT_EQ(lines.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Case& c = all[i];
    std::istringstream fields(lines[i]);
    std::string plain, packed, v2;
    fields >> plain >> packed >> v2;
    std::string text;
    std::getline(fields, text);
    if (!text.empty()) text.erase(0, 1);
    auto decoded = otp::etf::decode(unhex(plain));
    ASSERT_TRUE(decoded.ok()) << c.erlang << ": " << decoded.to_string();
    EXPECT_EQ(decoded.value(), c.term) << c.erlang << ": " << decoded.value().to_string();
    auto from_packed = otp::etf::decode(unhex(packed));
    ASSERT_TRUE(from_packed.ok()) << c.erlang << ": " << from_packed.to_string();
    EXPECT_EQ(from_packed.value(), c.term) << c.erlang;
    if (c.same_bytes) {
      EXPECT_EQ(hex(otp::etf::encode(decoded.value())), plain) << c.erlang;
      EXPECT_EQ(hex(otp::etf::encode(decoded.value(), {.compressed = 6})), packed) << c.erlang;
      EXPECT_EQ(hex(otp::etf::encode(decoded.value(), {.minor_version = 2})), v2) << c.erlang;
    }
    if (c.same_text) {
      EXPECT_EQ(decoded.value().to_string(), text) << c.erlang;
    }
  }
}

TEST(EtfBeam, OurEncodingsDecodeOnTheBeamToTheSameTerms) {
  const auto all = cases();
  std::vector<std::string> lines;
  for (const auto& c : all) {
    lines.push_back(hex(otp::etf::encode(c.term)) + " " + c.erlang);
    lines.push_back(hex(otp::etf::encode(c.term, {.minor_version = 2, .compressed = 9})) + " " +
                    c.erlang);
  }
  LinesFile file(lines);
  const auto answers =
      output_lines(run_erl(file.path(),
                           "lists:foreach(fun(L) -> [Hex, Text] = binary:split(L, <<\" \">>), "
                           "Ours = binary_to_term(binary:decode_hex(Hex)), Theirs = Eval(Text), "
                           "io:put_chars(case Ours =:= Theirs of true -> \"same\\n\"; "
                           "false -> io_lib:format(\"differ ~w~n\", [Ours]) end) end, Lines), "
                           "io:put_chars(\"end-of-output\\n\")"));
  ASSERT_EQ(answers.size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i)
    EXPECT_EQ(answers[i], "same") << all[i / 2].erlang << (i % 2 ? " (compressed)" : "");
}

}  // namespace
