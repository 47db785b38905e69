// Machinery of otp/dist/term_convert.hpp: the member lists the macros build, and the
// conversions of a mapped struct.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "otp/dist/term.hpp"

namespace otp::detail {

// A term in an error message: cut after 60 characters.
inline std::string brief(const Term& t) {
  std::string s = t.to_string();
  if (s.size() > 60) {
    s.resize(57);
    s += "...";
  }
  return s;
}

inline std::string expected(std::string_view what, const Term& got) {
  return fmt::format("expected {}, got {}", what, brief(got));
}

template <class T>
std::string range_name() {
  return fmt::format("an integer in {}..{}", std::numeric_limits<T>::min(),
                     std::numeric_limits<T>::max());
}

template <class T, class M>
struct Field {
  std::string_view name;
  M T::*member;
};

template <class T, class M>
auto field(std::string_view name, M T::*member) {
  return std::make_tuple(Field<T, M>{name, member});
}

template <class Fields>
struct Shape {
  bool is_map;
  std::string_view tag;
  Fields fields;
};
template <class Fields>
Shape(bool, const char*, Fields) -> Shape<Fields>;

// How the shape reads in an error message: {point, x, y} or #{x := _, y := _}.
template <class Fields>
std::string shape_name(const Shape<Fields>& shape) {
  std::string out = shape.is_map ? "#{" : "{" + std::string(shape.tag);
  bool first = shape.is_map;  // a tuple's members follow its tag
  std::apply(
      [&](const auto&... f) {
        ((out += (first ? "" : ", ") + std::string(f.name) + (shape.is_map ? " := _" : ""),
          first = false),
         ...);
      },
      shape.fields);
  return out + "}";
}

template <template <class, class> class Convert, class Fields, class T>
Term shape_to(const Shape<Fields>& shape, const T& value) {
  return std::apply(
      [&](const auto&... f) {
        using Entries = std::vector<Term::Entry>;
        if (shape.is_map) {
          return Term::map(
              Entries{{Term::atom(f.name),
                       Convert<std::remove_cvref_t<decltype(value.*(f.member))>, void>::to(
                           value.*(f.member))}...});
        }
        return Term::tuple({Term::atom(shape.tag),
                            Convert<std::remove_cvref_t<decltype(value.*(f.member))>, void>::to(
                                value.*(f.member))...});
      },
      shape.fields);
}

template <template <class, class> class Convert, class Fields, class T>
std::optional<std::string> shape_from(const Shape<Fields>& shape, const Term& t, T& out) {
  constexpr std::size_t n = std::tuple_size_v<Fields>;
  if (shape.is_map
          ? !t.is_map()
          : (!t.is_tuple() || t.elements().size() != n + 1 || !t.elements()[0].is_atom(shape.tag)))
    return expected(shape_name(shape), t);
  std::optional<std::string> error;
  std::size_t index = 0;
  std::apply(
      [&](const auto&... f) {
        (
            [&] {
              ++index;
              if (error) return;
              using M = std::remove_cvref_t<decltype(out.*(f.member))>;
              if (shape.is_map) {
                const Term* value = t.find(Term::atom(f.name));
                if (value == nullptr) {
                  error = fmt::format("expected {}, got {}: no key {}", shape_name(shape), brief(t),
                                      f.name);
                } else if (auto e = Convert<M, void>::from(*value, out.*(f.member))) {
                  error = fmt::format("key {} of {}: {}", f.name, brief(t), *e);
                }
              } else if (auto e = Convert<M, void>::from(t.elements()[index], out.*(f.member))) {
                error = fmt::format("element {} ({}) of {}: {}", index + 1, f.name, brief(t), *e);
              }
            }(),
            ...);
      },
      shape.fields);
  return error;
}

}  // namespace otp::detail

// OTP_DIST_FOR_EACH(m, T, a, b, c) is m(T, a) m(T, b) m(T, c), for up to 256 members.
#define OTP_DIST_PARENS ()
#define OTP_DIST_EXPAND(...) \
  OTP_DIST_EXPAND4(OTP_DIST_EXPAND4(OTP_DIST_EXPAND4(OTP_DIST_EXPAND4(__VA_ARGS__))))
#define OTP_DIST_EXPAND4(...) \
  OTP_DIST_EXPAND3(OTP_DIST_EXPAND3(OTP_DIST_EXPAND3(OTP_DIST_EXPAND3(__VA_ARGS__))))
#define OTP_DIST_EXPAND3(...) \
  OTP_DIST_EXPAND2(OTP_DIST_EXPAND2(OTP_DIST_EXPAND2(OTP_DIST_EXPAND2(__VA_ARGS__))))
#define OTP_DIST_EXPAND2(...) \
  OTP_DIST_EXPAND1(OTP_DIST_EXPAND1(OTP_DIST_EXPAND1(OTP_DIST_EXPAND1(__VA_ARGS__))))
#define OTP_DIST_EXPAND1(...) __VA_ARGS__
#define OTP_DIST_FOR_EACH(m, T, ...) \
  __VA_OPT__(OTP_DIST_EXPAND(OTP_DIST_FOR_EACH_NEXT(m, T, __VA_ARGS__)))
#define OTP_DIST_FOR_EACH_NEXT(m, T, a, ...) \
  m(T, a) __VA_OPT__(OTP_DIST_FOR_EACH_AGAIN OTP_DIST_PARENS(m, T, __VA_ARGS__))
#define OTP_DIST_FOR_EACH_AGAIN() OTP_DIST_FOR_EACH_NEXT
#define OTP_DIST_FIELD(T, member) , ::otp::detail::field(#member, &T::member)
