// Message nodes: a type-erased, intrusively linked envelope around any movable value.
//
// A message is allocated once by the sender (MsgOf<T>), linked through the
// receiver's inbox and private queue without copying, and freed by whoever
// consumes or drops it. The type is identified by the address of a per-type
// static MsgType, so matching a receive clause is one pointer compare.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

#include "otp/detail/type_name.hpp"

namespace otp::detail {

// Fast allocation for small, short-lived blocks (messages, timer entries):
// per-thread free lists by size class, falling back to operator new.
void* small_alloc(std::size_t size);
void small_free(void* p, std::size_t size) noexcept;

struct Msg;

// Signals travel through the same queue as messages, so that signals and
// messages between one pair of processes stay in order (as in Erlang).
enum class SigKind : unsigned char {
  message,
  link,
  unlink,
  monitor,
  demonitor,
  exit,
  down,
  timeout,
  info
};

struct MsgType {
  void (*destroy)(Msg*) noexcept;
  SigKind kind;
  // For behaviour protocol messages (a GenServer call, ...): what the receiving
  // behaviour needs to handle it; null for ordinary messages.
  const void* protocol;
  std::string_view name;  // the C++ type's name, for reports
};

struct Msg {
  Msg* next = nullptr;
  const MsgType* type = nullptr;
  // Nonzero when sent to a process alias (otp::Alias): the receiver takes the
  // message only while that alias is active, and drops it otherwise.
  std::uint64_t alias = 0;
};

template <class T>
struct MsgOf final : Msg {
  template <class... A>
  explicit MsgOf(A&&... a) : value(std::forward<A>(a)...) {}
  T value;

  static void destroy(Msg* m) noexcept {
    auto* self = static_cast<MsgOf*>(m);
    self->~MsgOf();
    small_free(self, sizeof(MsgOf));
  }
};

template <class T>
constexpr SigKind sig_kind_of = SigKind::message;

template <class T>
constexpr const void* protocol_of() {
  if constexpr (requires { T::protocol; }) {
    return &T::protocol;
  } else {
    return nullptr;
  }
}

template <class T>
struct TypeOf {
  static constexpr MsgType info{&MsgOf<T>::destroy, sig_kind_of<T>, protocol_of<T>(),
                                type_name<T>()};
};

template <class T>
constexpr const MsgType* type_of() {
  return &TypeOf<std::remove_cvref_t<T>>::info;
}

template <class T, class... A>
Msg* make_msg(A&&... a) {
  using U = std::remove_cvref_t<T>;
  void* mem = small_alloc(sizeof(MsgOf<U>));
  try {
    auto* m = new (mem) MsgOf<U>(std::forward<A>(a)...);
    m->type = type_of<U>();
    return m;
  } catch (...) {
    small_free(mem, sizeof(MsgOf<U>));
    throw;
  }
}

inline void free_msg(Msg* m) noexcept { m->type->destroy(m); }

template <class T>
bool is(const Msg* m) {
  return m->type == type_of<T>();
}

template <class T>
T& value_of(Msg* m) {
  return static_cast<MsgOf<std::remove_cvref_t<T>>*>(m)->value;
}

}  // namespace otp::detail
