// otp::Term — any Erlang term as a C++ value: what crosses the wire between nodes.
//
//   otp::Term t = otp::Term::tuple({otp::Term::atom("ok"), otp::Term::binary("x")});
//   fmt::print("{}\n", t);                            // {ok,<<"x">>}
//   t.elements()[0] == otp::Term::atom("ok");         // true
//   otp::Term::list({1, 2}, 3).to_string();           // "[1,2|3]"
//   otp::Term::integer(1) < otp::Term::atom("a");     // Erlang's term order: true
//
// A Term is immutable and cheap to copy: integers and floats sit in the Term itself, everything
// else behind a shared, never-modified node, so copies share their contents. The kinds are
// Erlang's: atom (UTF-8 text, at most 255 characters), integer (an int64_t, or a big integer
// kept as sign and magnitude; a value that fits an int64_t is always held as one, so each
// integer has one form), float, binary, bitstring (bytes plus the number of bits used in the
// last byte, the unused ones zero), list (elements plus a tail: [] for a proper list, anything
// else for an improper one; a tail that is itself a list is merged in, so [1|[2]] is [1,2]),
// tuple, map (entries kept sorted in Erlang's map-key order, one per key), pid, reference, port,
// and fun (kept as its encoded bytes: decoded and sent on, never called).
//
// Equality (==) is Erlang's =:=: 1 and 1.0 differ. The ordering (<=>) is Erlang's term order
//   number < atom < reference < fun < port < pid < tuple < map < nil < list < bitstring
// where integers and floats compare by value, so 1 <=> 1.0 is `equivalent` (Erlang's ==) but not
// equal: a weak ordering. Maps compare by size, then their keys in map-key order (all integers
// before all floats), then their values in that order.
//
// The formatter prints as io:format("~p") does, on one line: {ok,<<"x">>}, 'Quoted atom',
// [1,2|3], #{a => 1}, "text" for a list of printable characters, <0.12.0>. A pid, reference or
// port of the node `nonode@nohost` (a runtime that is not a node) prints with node number 0, as
// Erlang prints its own; one of any other node prints with that node's name where Erlang prints a
// node index: <other@host.12.0>, #Ref<other@host.1.2.3>, #Port<other@host.5>.
#pragma once

#include <compare>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace otp {

// A pid of any node, as NEW_PID_EXT carries it.
struct ExternalPid {
  std::string node = "nonode@nohost";
  std::uint32_t id = 0;
  std::uint32_t serial = 0;
  std::uint32_t creation = 0;
  friend bool operator==(const ExternalPid&, const ExternalPid&) = default;
};

// A reference of any node, as NEWER_REFERENCE_EXT carries it: one to five 32-bit ids.
struct ExternalRef {
  std::string node = "nonode@nohost";
  std::uint32_t creation = 0;
  std::vector<std::uint32_t> ids;
  friend bool operator==(const ExternalRef&, const ExternalRef&) = default;
};

// A port of any node, as V4_PORT_EXT carries it.
struct ExternalPort {
  std::string node = "nonode@nohost";
  std::uint64_t id = 0;
  std::uint32_t creation = 0;
  friend bool operator==(const ExternalPort&, const ExternalPort&) = default;
};

class Term {
 public:
  // In Erlang's term order (binary and bitstring rank together).
  enum class Type : std::uint8_t {
    integer,
    floating,
    atom,
    reference,
    fun,
    port,
    pid,
    tuple,
    map,
    nil,
    list,
    binary,
    bitstring,
  };
  using Entry = std::pair<Term, Term>;

  Term() = default;  // []
  Term(const Term&) = default;
  Term& operator=(const Term&) = default;
  // A moved-from Term is [].
  Term(Term&& other) noexcept
      : type_(std::exchange(other.type_, Type::nil)),
        word_(std::exchange(other.word_, 0)),
        node_(std::move(other.node_)) {}
  Term& operator=(Term&& other) noexcept {
    type_ = std::exchange(other.type_, Type::nil);
    word_ = std::exchange(other.word_, 0);
    node_ = std::move(other.node_);
    return *this;
  }
  ~Term() = default;
  Term(std::int64_t i) : type_(Type::integer), word_(i) {}  // NOLINT(google-explicit-constructor)
  Term(int i) : Term(static_cast<std::int64_t>(i)) {}       // NOLINT(google-explicit-constructor)

  static Term integer(std::int64_t i) { return Term(i); }
  static Term integer(std::uint64_t u);
  // A big integer: its sign and its magnitude, least significant byte first (as SMALL_BIG_EXT
  // carries it). Held as an int64_t when it fits one.
  static Term big_integer(bool negative, std::string_view magnitude);
  static Term floating(double d);  // throws std::invalid_argument for NaN and infinities
  // Throws std::invalid_argument for text that is not UTF-8 or longer than 255 characters.
  static Term atom(std::string_view utf8);
  static Term boolean(bool b) { return atom(b ? "true" : "false"); }
  static Term binary(std::string bytes);
  // `bits` (1..8) of the last byte are used; 8 makes a binary. Unused bits are cleared.
  static Term bitstring(std::string bytes, unsigned bits_in_last_byte);
  static Term nil() { return Term(); }
  static Term list(std::vector<Term> elements);  // proper
  static Term list(std::vector<Term> elements, Term tail);
  // Erlang's string: the list of the code points of `utf8` (Throws std::invalid_argument for
  // text that is not UTF-8).
  static Term string(std::string_view utf8);
  static Term tuple(std::vector<Term> elements);
  // One entry per key: of two equal keys (=:=), the later one stays.
  static Term map(std::vector<Entry> entries);
  static Term pid(ExternalPid pid);
  static Term reference(ExternalRef ref);
  static Term port(ExternalPort port);
  // A fun or an external fun (NEW_FUN_EXT, EXPORT_EXT) as its encoded bytes, tag included.
  static Term fun(std::string encoded);

  Type type() const { return type_; }
  bool is_integer() const { return type_ == Type::integer; }
  bool is_big() const { return type_ == Type::integer && node_ != nullptr; }
  bool is_float() const { return type_ == Type::floating; }
  bool is_number() const { return is_integer() || is_float(); }
  bool is_atom() const { return type_ == Type::atom; }
  bool is_atom(std::string_view name) const { return is_atom() && atom_name() == name; }
  bool is_binary() const { return type_ == Type::binary; }
  bool is_bitstring() const { return type_ == Type::binary || type_ == Type::bitstring; }
  bool is_nil() const { return type_ == Type::nil; }
  bool is_list() const { return type_ == Type::list || type_ == Type::nil; }  // [] included
  bool is_proper_list() const { return is_nil() || (type_ == Type::list && tail().is_nil()); }
  bool is_tuple() const { return type_ == Type::tuple; }
  bool is_map() const { return type_ == Type::map; }
  bool is_pid() const { return type_ == Type::pid; }
  bool is_reference() const { return type_ == Type::reference; }
  bool is_port() const { return type_ == Type::port; }
  bool is_fun() const { return type_ == Type::fun; }

  // The accessors below have a precondition: the Term is of that kind.
  std::int64_t as_int() const { return word_; }  // an integer that is not big
  bool big_negative() const;
  std::string_view big_magnitude() const;  // least significant byte first, no high zero byte
  double as_double() const;
  std::string_view atom_name() const;
  std::string_view bytes() const;      // a binary's or bitstring's bytes
  unsigned bits_in_last_byte() const;  // 8 for a binary (and for <<>>)
  // A tuple's elements, or a list's elements before its tail ([] has none).
  std::span<const Term> elements() const;
  const Term& tail() const;                 // a list's tail: [] when proper
  std::span<const Entry> entries() const;   // a map's, in map-key order
  const Term* find(const Term& key) const;  // a map's value for key (=:=), or null
  const ExternalPid& pid() const;
  const ExternalRef& reference() const;
  const ExternalPort& port() const;
  std::string_view fun_bytes() const;

  // As io:format("~p") prints it, on one line.
  std::string to_string() const;

  friend bool operator==(const Term& a, const Term& b);
  friend std::weak_ordering operator<=>(const Term& a, const Term& b);
  // Erlang's map-key order: term order, but every integer before every float, and exact.
  static std::strong_ordering key_compare(const Term& a, const Term& b);

  struct Node;  // term.cpp

 private:
  Term(Type type, std::shared_ptr<const Node> node, std::int64_t word = 0)
      : type_(type), word_(word), node_(std::move(node)) {}

  Type type_ = Type::nil;
  std::int64_t word_ = 0;  // the integer, the float's bits, a bitstring's bits in its last byte
  std::shared_ptr<const Node> node_;
};

}  // namespace otp

template <>
struct fmt::formatter<otp::Term> : fmt::formatter<std::string_view> {
  auto format(const otp::Term& t, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(t.to_string(), ctx);
  }
};
