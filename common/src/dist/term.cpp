// otp::Term: construction, Erlang's term order and its ~p rendering.
//
// A big integer is a sign and a little-endian magnitude with no high zero byte, and never a
// value that fits an int64_t: that keeps one form per integer, so equality is a comparison of
// forms, and a small integer never needs the big path. Comparing a big integer with a float is
// exact: a float at or beyond 2^63 in magnitude is an integer, turned into a magnitude and
// compared byte by byte.
#include "otp/dist/term.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <variant>

#include "otp/dist/detail/text.hpp"

namespace otp {

namespace {

struct ListData {
  std::vector<Term> elements;
  Term tail;
};

struct BigData {
  bool negative = false;
  std::string magnitude;
};

}  // namespace

struct Term::Node {
  std::variant<std::string, BigData, ListData, std::vector<Term>, std::vector<Term::Entry>,
               ExternalPid, ExternalRef, ExternalPort>
      data;
};

namespace {

template <class T, class N>
const T& get(const std::shared_ptr<N>& node) {
  return std::get<T>(node->data);
}

int rank(Term::Type t) {
  switch (t) {
    case Term::Type::integer:
    case Term::Type::floating:
      return 0;
    case Term::Type::binary:
    case Term::Type::bitstring:
      return 10;
    default:
      return static_cast<int>(t) - 1;
  }
}

int sign_of(auto c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

// Magnitudes, least significant byte first, no high zero bytes.
int compare_magnitudes(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (std::size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i])
      return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
  }
  return 0;
}

// |d| for an integral d >= 2^63 in magnitude, as a magnitude.
std::string magnitude_of(double d) {
  int exp = 0;
  const double m = std::frexp(std::fabs(d), &exp);  // |d| = m * 2^exp, m in [0.5, 1)
  auto mantissa = static_cast<std::uint64_t>(std::ldexp(m, 53));
  const int shift = exp - 53;  // >= 10 here
  std::string out(static_cast<std::size_t>(shift / 8), '\0');
  const int bit_shift = shift % 8;
  std::uint64_t v = mantissa << bit_shift;  // 53 + 7 bits at most
  while (v != 0) {
    out.push_back(static_cast<char>(static_cast<unsigned char>(v & 0xff)));
    v >>= 8;
  }
  return out;
}

int compare_int_double(std::int64_t i, double d) {
  constexpr double two63 = 9223372036854775808.0;
  if (d >= two63) return -1;
  if (d < -two63) return 1;
  const double t = std::trunc(d);
  const auto ti = static_cast<std::int64_t>(t);
  if (i != ti) return i < ti ? -1 : 1;
  const double frac = d - t;
  return frac > 0 ? -1 : (frac < 0 ? 1 : 0);
}

int compare_big_double(bool negative, std::string_view magnitude, double d) {
  constexpr double two63 = 9223372036854775808.0;
  if (negative != (d < 0)) return negative ? -1 : 1;
  int c = 0;
  if (std::fabs(d) < two63) {
    c = 1;  // a big integer is at least 2^63 in magnitude
  } else {
    c = compare_magnitudes(magnitude, magnitude_of(d));
  }
  return negative ? -c : c;
}

int compare_integers(const Term& a, const Term& b) {
  if (!a.is_big() && !b.is_big())
    return sign_of(a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0));
  if (!a.is_big()) return b.big_negative() ? 1 : -1;
  if (!b.is_big()) return a.big_negative() ? -1 : 1;
  if (a.big_negative() != b.big_negative()) return a.big_negative() ? -1 : 1;
  const int c = compare_magnitudes(a.big_magnitude(), b.big_magnitude());
  return a.big_negative() ? -c : c;
}

int compare_numbers(const Term& a, const Term& b, bool exact) {
  if (a.is_integer() && b.is_integer()) return compare_integers(a, b);
  if (a.is_float() && b.is_float()) {
    const double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (exact) return a.is_integer() ? -1 : 1;
  if (a.is_float()) return -compare_numbers(b, a, exact);
  if (!a.is_big()) return compare_int_double(a.as_int(), b.as_double());
  return compare_big_double(a.big_negative(), a.big_magnitude(), b.as_double());
}

int compare_bits(const Term& a, const Term& b) {
  const auto bits = [](const Term& t) {
    return t.bytes().empty() ? std::size_t{0} : (t.bytes().size() - 1) * 8 + t.bits_in_last_byte();
  };
  const std::size_t na = bits(a), nb = bits(b), n = std::min(na, nb);
  const std::size_t full = n / 8;
  if (int c = std::memcmp(a.bytes().data(), b.bytes().data(), full); c != 0) return sign_of(c);
  if (const unsigned rest = n % 8; rest != 0) {
    const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    const auto x = static_cast<unsigned char>(a.bytes()[full]) & mask;
    const auto y = static_cast<unsigned char>(b.bytes()[full]) & mask;
    if (x != y) return x < y ? -1 : 1;
  }
  return na < nb ? -1 : (na > nb ? 1 : 0);
}

int compare(const Term& a, const Term& b, bool exact);

int compare_lists(const Term& a, const Term& b, bool exact) {
  if (a.is_nil() || b.is_nil()) return a.is_nil() == b.is_nil() ? 0 : (a.is_nil() ? -1 : 1);
  const auto ea = a.elements(), eb = b.elements();
  const std::size_t n = std::min(ea.size(), eb.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (int c = compare(ea[i], eb[i], exact); c != 0) return c;
  }
  if (ea.size() == eb.size()) return compare(a.tail(), b.tail(), exact);
  // One list has run out: its tail (never a list) meets the rest of the other, a list.
  const Term& tail = ea.size() < eb.size() ? a.tail() : b.tail();
  const int c = rank(tail.type()) < rank(Term::Type::list) ? -1 : 1;
  return ea.size() < eb.size() ? c : -c;
}

int compare_ids(std::string_view node_a, std::string_view node_b, std::span<const std::uint64_t> a,
                std::span<const std::uint64_t> b) {
  if (node_a != node_b) return node_a < node_b ? -1 : 1;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

int compare(const Term& a, const Term& b, bool exact) {
  if (rank(a.type()) != rank(b.type())) return rank(a.type()) < rank(b.type()) ? -1 : 1;
  switch (a.type()) {
    case Term::Type::integer:
    case Term::Type::floating:
      return compare_numbers(a, b, exact);
    case Term::Type::atom:
      return sign_of(a.atom_name().compare(b.atom_name()));
    case Term::Type::binary:
    case Term::Type::bitstring:
      return compare_bits(a, b);
    case Term::Type::nil:
    case Term::Type::list:
      return compare_lists(a, b, exact);
    case Term::Type::tuple: {
      const auto ea = a.elements(), eb = b.elements();
      if (ea.size() != eb.size()) return ea.size() < eb.size() ? -1 : 1;
      for (std::size_t i = 0; i < ea.size(); ++i) {
        if (int c = compare(ea[i], eb[i], exact); c != 0) return c;
      }
      return 0;
    }
    case Term::Type::map: {
      const auto ea = a.entries(), eb = b.entries();
      if (ea.size() != eb.size()) return ea.size() < eb.size() ? -1 : 1;
      for (std::size_t i = 0; i < ea.size(); ++i) {
        if (int c = compare(ea[i].first, eb[i].first, true); c != 0) return c;
      }
      for (std::size_t i = 0; i < ea.size(); ++i) {
        if (int c = compare(ea[i].second, eb[i].second, exact); c != 0) return c;
      }
      return 0;
    }
    case Term::Type::pid: {
      const auto& x = a.pid();
      const auto& y = b.pid();
      const std::array<std::uint64_t, 3> ix{x.serial, x.id, x.creation},
          iy{y.serial, y.id, y.creation};
      return compare_ids(x.node, y.node, ix, iy);
    }
    case Term::Type::port: {
      const auto& x = a.port();
      const auto& y = b.port();
      const std::array<std::uint64_t, 2> ix{x.id, x.creation}, iy{y.id, y.creation};
      return compare_ids(x.node, y.node, ix, iy);
    }
    case Term::Type::reference: {
      const auto& x = a.reference();
      const auto& y = b.reference();
      std::vector<std::uint64_t> ix(x.ids.rbegin(), x.ids.rend()), iy(y.ids.rbegin(), y.ids.rend());
      ix.push_back(x.creation);
      iy.push_back(y.creation);
      return compare_ids(x.node, y.node, ix, iy);
    }
    case Term::Type::fun:
      return sign_of(a.fun_bytes().compare(b.fun_bytes()));
  }
  return 0;
}

// --- rendering ------------------------------------------------------------------------------

std::string decimal(bool negative, std::string_view magnitude) {
  std::vector<std::uint32_t> words;  // base 2^32, least significant first
  for (std::size_t i = 0; i < magnitude.size(); i += 4) {
    std::uint32_t w = 0;
    for (std::size_t k = 0; k < 4 && i + k < magnitude.size(); ++k)
      w |= static_cast<std::uint32_t>(static_cast<unsigned char>(magnitude[i + k])) << (8 * k);
    words.push_back(w);
  }
  std::string digits;
  while (!words.empty()) {
    std::uint64_t rem = 0;
    for (std::size_t i = words.size(); i-- > 0;) {
      const std::uint64_t cur = (rem << 32) | words[i];
      words[i] = static_cast<std::uint32_t>(cur / 1000000000);
      rem = cur % 1000000000;
    }
    while (!words.empty() && words.back() == 0) words.pop_back();
    for (int k = 0; k < 9; ++k) {
      digits.push_back(static_cast<char>('0' + rem % 10));
      rem /= 10;
      if (words.empty() && rem == 0) break;
    }
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

// Erlang's shortest form (io_lib's ~p): the fewest digits that read back to the same double,
// written fixed (123.0, 0.0001) unless the exponent form is shorter (1.0e-5, 1.0e20), and always
// as an exponent from 2^53 on, where a float no longer holds every integer.
std::string float_text(double d) {
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), std::fabs(d),
                                 std::chars_format::scientific);
  const std::string_view s(buf.data(), static_cast<std::size_t>(end - buf.data()));
  const std::string sign = std::signbit(d) ? "-" : "";
  if (d == 0) return sign + "0.0";
  const auto e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e))
    if (c != '.') digits.push_back(c);
  int exp = 0;
  std::string_view es = s.substr(e + 1);
  if (es.front() == '+') es.remove_prefix(1);
  std::from_chars(es.data(), es.data() + es.size(), exp);
  // The point's place: the value is 0.<digits> * 10^place.
  const int place = exp + 1;
  const auto len = static_cast<int>(digits.size());
  if (place == 0) return sign + "0." + digits;
  if (place > 0 && place < len)
    return sign + digits.substr(0, static_cast<std::size_t>(place)) + "." +
           digits.substr(static_cast<std::size_t>(place));
  const std::string exp_text = std::to_string(exp);
  const int exp_cost = static_cast<int>(exp_text.size()) + 1 + (len == 1 ? 2 : 1);
  if (place < 0 && 2 - place <= exp_cost)
    return sign + "0." + std::string(static_cast<std::size_t>(-place), '0') + digits;
  if (place >= len && place - len + 2 <= exp_cost && std::fabs(d) < 9007199254740992.0)
    return sign + digits + std::string(static_cast<std::size_t>(place - len), '0') + ".0";
  return sign + digits.substr(0, 1) + "." + (len > 1 ? digits.substr(1) : "0") + "e" + exp_text;
}

bool is_printable_latin1(std::uint32_t c) {
  return (c >= 32 && c <= 126) || (c >= 160 && c <= 255) || (c >= 8 && c <= 13) || c == 27;
}

bool is_printable_unicode(std::uint32_t c) {
  return is_printable_latin1(c) || (c > 255 && c < 0xD800) || (c > 0xDFFF && c < 0xFFFE) ||
         (c > 0xFFFF && c <= 0x10FFFF);
}

void append_char(std::string& out, std::uint32_t c, char quote) {
  switch (c) {
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\v':
      out += "\\v";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case 27:
      out += "\\e";
      return;
    case '\\':
      out += "\\\\";
      return;
    case 127:
      out += "\\d";
      return;
    default:
      break;
  }
  if (c == static_cast<unsigned char>(quote)) {
    out.push_back('\\');
    out.push_back(quote);
  } else if (c < 32) {
    out += "\\^";
    out.push_back(static_cast<char>(c + 64));
  } else {
    dist::detail::append_utf8(out, c);
  }
}

bool atom_needs_quotes(std::string_view name) {
  static constexpr std::array<std::string_view, 28> reserved{
      "after", "and",    "andalso", "band", "begin", "bnot", "bor", "bsl",  "bsr", "bxor",
      "case",  "catch",  "cond",    "div",  "end",   "fun",  "if",  "let",  "not", "of",
      "or",    "orelse", "receive", "rem",  "try",   "when", "xor", "query"};
  if (std::find(reserved.begin(), reserved.end(), name) != reserved.end()) return true;
  const auto cps = dist::detail::utf8_code_points(name);
  if (!cps || cps->empty()) return true;
  const auto lower = [](std::uint32_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 223 && c <= 255 && c != 247);
  };
  const auto name_char = [&](std::uint32_t c) {
    return lower(c) || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '@' ||
           (c >= 192 && c <= 222 && c != 215);
  };
  if (!lower((*cps)[0])) return true;
  return !std::all_of(cps->begin(), cps->end(), name_char);
}

void render(std::string& out, const Term& t);

void render_ids(std::string& out, std::string_view node, std::span<const std::uint64_t> ids) {
  if (node == "nonode@nohost") {
    out += "0";
  } else {
    out += node;
  }
  for (auto id : ids) fmt::format_to(std::back_inserter(out), ".{}", id);
}

void render_bits(std::string& out, const Term& t) {
  const std::string_view bytes = t.bytes();
  const unsigned last = t.bits_in_last_byte();
  if (last == 8) {
    const auto cps = dist::detail::utf8_code_points(bytes);
    const bool utf8 = cps && std::all_of(cps->begin(), cps->end(), is_printable_unicode);
    const bool latin1 = std::all_of(bytes.begin(), bytes.end(), [](char c) {
      return is_printable_latin1(static_cast<unsigned char>(c));
    });
    if (!bytes.empty() && (utf8 || latin1)) {
      out += "<<\"";
      if (utf8) {
        for (auto c : *cps) append_char(out, c, '"');
      } else {
        for (char c : bytes) append_char(out, static_cast<unsigned char>(c), '"');
      }
      out += "\">>";
      return;
    }
  }
  out += "<<";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out += ",";
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (i + 1 == bytes.size() && last != 8) {
      fmt::format_to(std::back_inserter(out), "{}:{}", b >> (8 - last), last);
    } else {
      fmt::format_to(std::back_inserter(out), "{}", b);
    }
  }
  out += ">>";
}

void render_list(std::string& out, const Term& t) {
  const auto elems = t.elements();
  const bool text = t.tail().is_nil() && std::all_of(elems.begin(), elems.end(), [](const Term& e) {
                      return e.is_integer() && !e.is_big() && e.as_int() >= 0 &&
                             e.as_int() <= 255 &&
                             is_printable_latin1(static_cast<std::uint32_t>(e.as_int()));
                    });
  if (text) {
    out += '"';
    for (const auto& e : elems) append_char(out, static_cast<std::uint32_t>(e.as_int()), '"');
    out += '"';
    return;
  }
  out += '[';
  for (std::size_t i = 0; i < elems.size(); ++i) {
    if (i > 0) out += ',';
    render(out, elems[i]);
  }
  if (!t.tail().is_nil()) {
    out += '|';
    render(out, t.tail());
  }
  out += ']';
}

void render(std::string& out, const Term& t) {
  switch (t.type()) {
    case Term::Type::integer:
      if (t.is_big()) {
        out += decimal(t.big_negative(), t.big_magnitude());
      } else {
        fmt::format_to(std::back_inserter(out), "{}", t.as_int());
      }
      return;
    case Term::Type::floating:
      out += float_text(t.as_double());
      return;
    case Term::Type::atom: {
      const auto name = t.atom_name();
      if (!atom_needs_quotes(name)) {
        out += name;
        return;
      }
      out += '\'';
      const auto cps = dist::detail::utf8_code_points(name);
      for (auto c : *cps) append_char(out, c, '\'');
      out += '\'';
      return;
    }
    case Term::Type::binary:
    case Term::Type::bitstring:
      render_bits(out, t);
      return;
    case Term::Type::nil:
      out += "[]";
      return;
    case Term::Type::list:
      render_list(out, t);
      return;
    case Term::Type::tuple: {
      out += '{';
      const auto elems = t.elements();
      for (std::size_t i = 0; i < elems.size(); ++i) {
        if (i > 0) out += ',';
        render(out, elems[i]);
      }
      out += '}';
      return;
    }
    case Term::Type::map: {
      out += "#{";
      bool first = true;
      for (const auto& [k, v] : t.entries()) {
        if (!first) out += ',';
        first = false;
        render(out, k);
        out += " => ";
        render(out, v);
      }
      out += '}';
      return;
    }
    case Term::Type::pid: {
      const auto& p = t.pid();
      out += '<';
      const std::array<std::uint64_t, 2> ids{p.id, p.serial};
      render_ids(out, p.node, ids);
      out += '>';
      return;
    }
    case Term::Type::port: {
      const auto& p = t.port();
      out += "#Port<";
      const std::array<std::uint64_t, 1> ids{p.id};
      render_ids(out, p.node, ids);
      out += '>';
      return;
    }
    case Term::Type::reference: {
      const auto& r = t.reference();
      out += "#Ref<";
      const std::vector<std::uint64_t> ids(r.ids.rbegin(), r.ids.rend());
      render_ids(out, r.node, ids);
      out += '>';
      return;
    }
    case Term::Type::fun:
      fmt::format_to(std::back_inserter(out), "#Fun<{} bytes>", t.fun_bytes().size());
      return;
  }
}

}  // namespace

// --- construction ---------------------------------------------------------------------------

Term Term::integer(std::uint64_t u) {
  if (u <= static_cast<std::uint64_t>(INT64_MAX)) return Term(static_cast<std::int64_t>(u));
  std::string mag;
  for (; u != 0; u >>= 8) mag.push_back(static_cast<char>(u & 0xff));
  return big_integer(false, mag);
}

Term Term::big_integer(bool negative, std::string_view magnitude) {
  while (!magnitude.empty() && magnitude.back() == '\0') magnitude.remove_suffix(1);
  if (magnitude.size() <= 8) {
    std::uint64_t u = 0;
    for (std::size_t i = magnitude.size(); i-- > 0;)
      u = (u << 8) | static_cast<unsigned char>(magnitude[i]);
    if (!negative && u <= static_cast<std::uint64_t>(INT64_MAX))
      return Term(static_cast<std::int64_t>(u));
    if (negative && u <= static_cast<std::uint64_t>(INT64_MAX) + 1)
      return Term(static_cast<std::int64_t>(0 - u));
  }
  return Term(Type::integer,
              std::make_shared<const Node>(Node{BigData{negative, std::string(magnitude)}}));
}

Term Term::floating(double d) {
  if (!std::isfinite(d))
    throw std::invalid_argument("otp::Term::floating: Erlang floats are finite");
  return Term(Type::floating, nullptr, std::bit_cast<std::int64_t>(d));
}

Term Term::atom(std::string_view utf8) {
  const auto length = dist::detail::utf8_length(utf8);
  if (!length) throw std::invalid_argument("otp::Term::atom: the name is not UTF-8");
  if (*length > 255)
    throw std::invalid_argument("otp::Term::atom: the name is longer than 255 characters");
  return Term(Type::atom, std::make_shared<const Node>(Node{std::string(utf8)}));
}

Term Term::binary(std::string bytes) {
  return Term(Type::binary, std::make_shared<const Node>(Node{std::move(bytes)}), 8);
}

Term Term::bitstring(std::string bytes, unsigned bits) {
  if (bits < 1 || bits > 8)
    throw std::invalid_argument("otp::Term::bitstring: bits in the last byte must be 1..8");
  if (bits == 8 || bytes.empty()) return binary(std::move(bytes));
  bytes.back() = static_cast<char>(static_cast<unsigned char>(bytes.back()) & (0xff << (8 - bits)));
  return Term(Type::bitstring, std::make_shared<const Node>(Node{std::move(bytes)}), bits);
}

Term Term::list(std::vector<Term> elements) { return list(std::move(elements), Term()); }

Term Term::list(std::vector<Term> elements, Term tail) {
  if (tail.type_ == Type::list) {
    const auto& inner = get<ListData>(tail.node_);
    if (elements.empty()) return tail;
    elements.insert(elements.end(), inner.elements.begin(), inner.elements.end());
    Term rest = inner.tail;
    tail = std::move(rest);
  }
  if (elements.empty()) return tail;
  return Term(Type::list,
              std::make_shared<const Node>(Node{ListData{std::move(elements), std::move(tail)}}));
}

Term Term::string(std::string_view utf8) {
  const auto cps = dist::detail::utf8_code_points(utf8);
  if (!cps) throw std::invalid_argument("otp::Term::string: the text is not UTF-8");
  std::vector<Term> elements;
  elements.reserve(cps->size());
  for (auto c : *cps) elements.emplace_back(static_cast<std::int64_t>(c));
  return list(std::move(elements));
}

Term Term::tuple(std::vector<Term> elements) {
  return Term(Type::tuple, std::make_shared<const Node>(Node{std::move(elements)}));
}

Term Term::map(std::vector<Entry> entries) {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::is_lt(key_compare(a.first, b.first));
  });
  // Of equal keys, the last given stays: the last of each run after the stable sort.
  std::vector<Entry> unique;
  unique.reserve(entries.size());
  for (auto& e : entries) {
    if (!unique.empty() && std::is_eq(key_compare(unique.back().first, e.first))) {
      unique.back() = std::move(e);
    } else {
      unique.push_back(std::move(e));
    }
  }
  return Term(Type::map, std::make_shared<const Node>(Node{std::move(unique)}));
}

Term Term::pid(ExternalPid pid) {
  return Term(Type::pid, std::make_shared<const Node>(Node{std::move(pid)}));
}

Term Term::reference(ExternalRef ref) {
  return Term(Type::reference, std::make_shared<const Node>(Node{std::move(ref)}));
}

Term Term::port(ExternalPort port) {
  return Term(Type::port, std::make_shared<const Node>(Node{std::move(port)}));
}

Term Term::fun(std::string encoded) {
  return Term(Type::fun, std::make_shared<const Node>(Node{std::move(encoded)}));
}

// --- access ---------------------------------------------------------------------------------

bool Term::big_negative() const { return get<BigData>(node_).negative; }
std::string_view Term::big_magnitude() const { return get<BigData>(node_).magnitude; }
double Term::as_double() const { return std::bit_cast<double>(word_); }
std::string_view Term::atom_name() const { return get<std::string>(node_); }
std::string_view Term::bytes() const { return get<std::string>(node_); }
unsigned Term::bits_in_last_byte() const { return static_cast<unsigned>(word_); }
std::string_view Term::fun_bytes() const { return get<std::string>(node_); }

std::span<const Term> Term::elements() const {
  if (type_ == Type::nil) return {};
  if (type_ == Type::list) return get<ListData>(node_).elements;
  return get<std::vector<Term>>(node_);
}

const Term& Term::tail() const {
  static const Term nil_term;
  if (type_ == Type::nil) return nil_term;
  return get<ListData>(node_).tail;
}

std::span<const Term::Entry> Term::entries() const { return get<std::vector<Entry>>(node_); }

const Term* Term::find(const Term& key) const {
  const auto e = entries();
  auto it = std::lower_bound(e.begin(), e.end(), key, [](const Entry& entry, const Term& k) {
    return std::is_lt(key_compare(entry.first, k));
  });
  if (it == e.end() || std::is_neq(key_compare(it->first, key))) return nullptr;
  return &it->second;
}

const ExternalPid& Term::pid() const { return get<ExternalPid>(node_); }
const ExternalRef& Term::reference() const { return get<ExternalRef>(node_); }
const ExternalPort& Term::port() const { return get<ExternalPort>(node_); }

std::string Term::to_string() const {
  std::string out;
  render(out, *this);
  return out;
}

bool operator==(const Term& a, const Term& b) {
  if (a.node_ == b.node_ && a.type_ == b.type_ && a.word_ == b.word_) return true;
  return compare(a, b, true) == 0;
}

std::weak_ordering operator<=>(const Term& a, const Term& b) {
  const int c = compare(a, b, false);
  return c < 0 ? std::weak_ordering::less
               : (c > 0 ? std::weak_ordering::greater : std::weak_ordering::equivalent);
}

std::strong_ordering Term::key_compare(const Term& a, const Term& b) {
  const int c = compare(a, b, true);
  return c < 0 ? std::strong_ordering::less
               : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

}  // namespace otp
