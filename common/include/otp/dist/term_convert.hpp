// C++ values to otp::Term and back: how ordinary C++ structs cross the wire.
//
//   struct Point { std::int64_t x; std::int64_t y; };
//   OTP_TERM_TUPLE(Point, point, x, y)        // Point{1, 2} <-> {point, 1, 2}
//
//   struct User { std::string login; std::optional<std::string> name; std::vector<Point> marks; };
//   OTP_TERM_MAP(User, login, name, marks)    // <-> #{login => <<"ann">>, name => undefined, ...}
//
//   otp::Term t = otp::to_term(Point{1, 2});              // {point,1,2}
//   otp::Result<Point> p = otp::from_term<Point>(t);       // Point{1, 2}
//   otp::from_term<Point>(otp::Term::atom("x")).reason();  // {bad_term, "expected {point, x, y}, got x"}
//
// Write the macro beside the struct, in the struct's namespace (it declares a function found by
// argument-dependent lookup). A tuple form checks its tag and arity; a map form needs every
// member's key (an atom named after the member) and ignores other keys, so an Elixir struct with
// its __struct__ key decodes too.
//
// The conversions that come with it: bool <-> true/false; every integer type <-> integer
// (range-checked on the way back); double and float <-> float (an integer is accepted back);
// std::string <-> binary; std::vector<T> <-> proper list; std::optional<T> <-> the value or
// `undefined` (`nil`, Elixir's, is accepted back); std::map<K, V> <-> map; std::pair and
// std::tuple <-> tuple; otp::ExternalPid <-> pid; otp::Term <-> itself; and any type mapped with
// one of the macros, nested to any depth. Another type gets a conversion by specialising
// otp::TermConvert<T> with `static Term to(const T&)` and
// `static std::optional<std::string> from(const Term&, T&)` (the error, or nothing).
//
// A term of the wrong shape gives an error, never a crash: it says what was expected, which term
// came, and where ("element 3 (y) of {point,1,x}: expected an integer, got x").
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "otp/dist/detail/term_convert.hpp"
#include "otp/dist/term.hpp"
#include "otp/result.hpp"

namespace otp {

template <class T, class Enable = void>
struct TermConvert;  // no conversion for T: specialise it, or map T with OTP_TERM_TUPLE/_MAP

template <class T>
Term to_term(const T& value) {
  return TermConvert<T>::to(value);
}

// The value, or {bad_term, "what was expected, what came, where"}.
template <class T>
Result<T> from_term(const Term& term) {
  T value{};
  if (auto error = TermConvert<T>::from(term, value))
    return Reason::other(fmt::format("{{bad_term, \"{}\"}}", *error));
  return value;
}

template <>
struct TermConvert<Term> {
  static Term to(const Term& t) { return t; }
  static std::optional<std::string> from(const Term& t, Term& out) {
    out = t;
    return std::nullopt;
  }
};

template <>
struct TermConvert<bool> {
  static Term to(bool b) { return Term::boolean(b); }
  static std::optional<std::string> from(const Term& t, bool& out) {
    if (t.is_atom("true") || t.is_atom("false")) {
      out = t.is_atom("true");
      return std::nullopt;
    }
    return detail::expected("true or false", t);
  }
};

template <class T>
struct TermConvert<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  static Term to(T v) {
    if constexpr (std::is_signed_v<T>) {
      return Term::integer(static_cast<std::int64_t>(v));
    } else {
      return Term::integer(static_cast<std::uint64_t>(v));
    }
  }
  static std::optional<std::string> from(const Term& t, T& out) {
    if (!t.is_integer()) return detail::expected("an integer", t);
    if (t.is_big()) {
      if constexpr (std::is_same_v<T, std::uint64_t> || std::is_same_v<T, unsigned long long>) {
        if (!t.big_negative() && t.big_magnitude().size() <= 8) {
          std::uint64_t u = 0;
          for (auto i = t.big_magnitude().size(); i-- > 0;)
            u = (u << 8) | static_cast<unsigned char>(t.big_magnitude()[i]);
          out = static_cast<T>(u);
          return std::nullopt;
        }
      }
      return detail::expected(detail::range_name<T>(), t);
    }
    const std::int64_t i = t.as_int();
    if constexpr (std::is_signed_v<T>) {
      if (i < std::numeric_limits<T>::min() || i > std::numeric_limits<T>::max())
        return detail::expected(detail::range_name<T>(), t);
    } else {
      if (i < 0 || static_cast<std::uint64_t>(i) > std::numeric_limits<T>::max())
        return detail::expected(detail::range_name<T>(), t);
    }
    out = static_cast<T>(i);
    return std::nullopt;
  }
};

template <class T>
struct TermConvert<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  static Term to(T v) { return Term::floating(static_cast<double>(v)); }
  static std::optional<std::string> from(const Term& t, T& out) {
    if (t.is_float()) {
      out = static_cast<T>(t.as_double());
    } else if (t.is_integer() && !t.is_big()) {
      out = static_cast<T>(t.as_int());
    } else {
      return detail::expected("a float", t);
    }
    return std::nullopt;
  }
};

template <>
struct TermConvert<std::string> {
  static Term to(const std::string& s) { return Term::binary(s); }
  static std::optional<std::string> from(const Term& t, std::string& out) {
    if (!t.is_binary()) return detail::expected("a binary", t);
    out = std::string(t.bytes());
    return std::nullopt;
  }
};

template <>
struct TermConvert<ExternalPid> {
  static Term to(const ExternalPid& p) { return Term::pid(p); }
  static std::optional<std::string> from(const Term& t, ExternalPid& out) {
    if (!t.is_pid()) return detail::expected("a pid", t);
    out = t.pid();
    return std::nullopt;
  }
};

template <class T>
struct TermConvert<std::vector<T>> {
  static Term to(const std::vector<T>& v) {
    std::vector<Term> elements;
    elements.reserve(v.size());
    for (const auto& e : v) elements.push_back(TermConvert<T>::to(e));
    return Term::list(std::move(elements));
  }
  static std::optional<std::string> from(const Term& t, std::vector<T>& out) {
    if (!t.is_proper_list()) return detail::expected("a proper list", t);
    out.clear();
    out.reserve(t.elements().size());
    std::size_t i = 0;
    for (const auto& e : t.elements()) {
      ++i;
      T value{};
      if (auto error = TermConvert<T>::from(e, value))
        return fmt::format("element {} of {}: {}", i, detail::brief(t), *error);
      out.push_back(std::move(value));
    }
    return std::nullopt;
  }
};

template <class T>
struct TermConvert<std::optional<T>> {
  static Term to(const std::optional<T>& v) {
    return v ? TermConvert<T>::to(*v) : Term::atom("undefined");
  }
  static std::optional<std::string> from(const Term& t, std::optional<T>& out) {
    if (t.is_atom("undefined") || t.is_atom("nil")) {
      out.reset();
      return std::nullopt;
    }
    T value{};
    if (auto error = TermConvert<T>::from(t, value)) return error;
    out = std::move(value);
    return std::nullopt;
  }
};

template <class K, class V>
struct TermConvert<std::map<K, V>> {
  static Term to(const std::map<K, V>& m) {
    std::vector<Term::Entry> entries;
    entries.reserve(m.size());
    for (const auto& [k, v] : m) entries.emplace_back(TermConvert<K>::to(k), TermConvert<V>::to(v));
    return Term::map(std::move(entries));
  }
  static std::optional<std::string> from(const Term& t, std::map<K, V>& out) {
    if (!t.is_map()) return detail::expected("a map", t);
    out.clear();
    for (const auto& [key, value] : t.entries()) {
      K k{};
      V v{};
      if (auto error = TermConvert<K>::from(key, k))
        return fmt::format("key {} of {}: {}", detail::brief(key), detail::brief(t), *error);
      if (auto error = TermConvert<V>::from(value, v))
        return fmt::format("value of {} in {}: {}", detail::brief(key), detail::brief(t), *error);
      out.insert_or_assign(std::move(k), std::move(v));
    }
    return std::nullopt;
  }
};

template <class... Ts>
struct TermConvert<std::tuple<Ts...>> {
  static Term to(const std::tuple<Ts...>& v) {
    return std::apply([](const Ts&... e) { return Term::tuple({TermConvert<Ts>::to(e)...}); }, v);
  }
  static std::optional<std::string> from(const Term& t, std::tuple<Ts...>& out) {
    if (!t.is_tuple() || t.elements().size() != sizeof...(Ts))
      return detail::expected(fmt::format("a tuple of {}", sizeof...(Ts)), t);
    return from_elements(t, out, std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t... I>
  static std::optional<std::string> from_elements(const Term& t, std::tuple<Ts...>& out,
                                                  std::index_sequence<I...>) {
    std::optional<std::string> error;
    ((error = error ? error : element<I>(t, std::get<I>(out))), ...);
    return error;
  }
  template <std::size_t I, class E>
  static std::optional<std::string> element(const Term& t, E& out) {
    if (auto error = TermConvert<E>::from(t.elements()[I], out))
      return fmt::format("element {} of {}: {}", I + 1, detail::brief(t), *error);
    return std::nullopt;
  }
};

template <class A, class B>
struct TermConvert<std::pair<A, B>> {
  static Term to(const std::pair<A, B>& p) {
    return TermConvert<std::tuple<A, B>>::to(std::tuple<A, B>(p.first, p.second));
  }
  static std::optional<std::string> from(const Term& t, std::pair<A, B>& out) {
    std::tuple<A, B> tuple;
    if (auto error = TermConvert<std::tuple<A, B>>::from(t, tuple)) return error;
    out = {std::move(std::get<0>(tuple)), std::move(std::get<1>(tuple))};
    return std::nullopt;
  }
};

// A type mapped with OTP_TERM_TUPLE or OTP_TERM_MAP.
template <class T>
struct TermConvert<T, std::void_t<decltype(otp_term_shape(static_cast<const T*>(nullptr)))>> {
  static Term to(const T& v) { return detail::shape_to<TermConvert>(shape(), v); }
  static std::optional<std::string> from(const Term& t, T& out) {
    return detail::shape_from<TermConvert>(shape(), t, out);
  }

 private:
  static auto shape() { return otp_term_shape(static_cast<const T*>(nullptr)); }
};

}  // namespace otp

// {tag, Member1, Member2, ...}: the tag an atom, the members in order.
#define OTP_TERM_TUPLE(Type, tag, ...)                                                  \
  [[maybe_unused]] inline auto otp_term_shape(const Type*) {                            \
    return ::otp::detail::Shape{false, #tag,                                            \
                                std::tuple_cat(std::tuple<> {} OTP_DIST_FOR_EACH(       \
                                    OTP_DIST_FIELD, Type __VA_OPT__(, ) __VA_ARGS__))}; \
  }

// #{member1 => Value1, ...}: atom keys named after the members.
#define OTP_TERM_MAP(Type, ...)                                                         \
  [[maybe_unused]] inline auto otp_term_shape(const Type*) {                            \
    return ::otp::detail::Shape{true, "",                                               \
                                std::tuple_cat(std::tuple<> {} OTP_DIST_FOR_EACH(       \
                                    OTP_DIST_FIELD, Type __VA_OPT__(, ) __VA_ARGS__))}; \
  }
