// otp::persistent_term — Erlang's persistent_term: one process-wide key/value
// store for data that is read often and written rarely (configuration,
// precomputed tables).
//
//   otp::persistent_term::put("greeting", std::string("hello"));
//   const std::string& g = otp::persistent_term::get<std::string>("greeting");
//
// Data structure. The store is an immutable snapshot (a std::map from key to
// value) behind one atomic pointer. A read loads the pointer (acquire) and
// searches the snapshot: no lock, no write to shared memory, so readers on
// any number of threads never wait for each other or for a writer. A put or
// an erase, under a mutex, copies the current snapshot, changes the copy and
// publishes it (release), so a reader sees either the old or the new one,
// whole.
//
// Lifetime. Nothing a reader may still be looking at is ever freed: old
// snapshots and every value ever stored are kept until the program exits. So
// a reference returned by get stays valid until then, even after the key is
// overwritten or erased. The price is the one Erlang asks too: put and erase
// copy the index, O(n) time, and keep the old copy; they are for values
// written a few times, not for counters (use a Table for those).
//
// Values are stored as std::decay_t<T>: put a std::string, not a string
// literal, to get it back as std::string. Any thread, inside a process or not.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "otp/process.hpp"

namespace otp::persistent_term {

namespace detail {

struct Value {
  virtual ~Value() = default;
  virtual const std::type_info& type() const noexcept = 0;
};

template <class T>
struct ValueOf final : Value {
  explicit ValueOf(T v) : value(std::move(v)) {}
  const std::type_info& type() const noexcept override { return typeid(T); }
  T value;
};

void store(std::string key, std::unique_ptr<Value> value);
// The key's value, or null. Lock-free.
const Value* find(std::string_view key) noexcept;
[[noreturn]] void missing(std::string_view key);
[[noreturn]] void wrong_type(std::string_view key, const std::type_info& stored,
                             const std::type_info& wanted);

}  // namespace detail

// Stores `value` under `key`, replacing any older value (of any type).
template <class T>
void put(std::string key, T value) {
  using U = std::decay_t<T>;
  detail::store(std::move(key), std::make_unique<detail::ValueOf<U>>(U(std::move(value))));
}

// The value under `key`; BadArg when there is none or it is not a T. The
// reference stays valid until the program exits.
template <class T>
const T& get(std::string_view key) {
  const detail::Value* v = detail::find(key);
  if (v == nullptr) detail::missing(key);
  if (v->type() != typeid(T)) detail::wrong_type(key, v->type(), typeid(T));
  return static_cast<const detail::ValueOf<T>*>(v)->value;
}

// The value under `key`, or `default_value` when there is none; BadArg when
// the value is not a T.
template <class T>
T get(std::string_view key, T default_value) {
  const detail::Value* v = detail::find(key);
  if (v == nullptr) return default_value;
  if (v->type() != typeid(T)) detail::wrong_type(key, v->type(), typeid(T));
  return static_cast<const detail::ValueOf<T>*>(v)->value;
}

// Removes `key`. True when it was there.
bool erase(std::string_view key);

}  // namespace otp::persistent_term
