// persistent_term: an atomic pointer to an immutable snapshot. See otp/persistent_term.hpp.
#include "otp/persistent_term.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>

#include <fmt/format.h>

namespace otp::persistent_term {

namespace detail {

namespace {

// Never freed (see the header). Each snapshot points to the one it replaced,
// so everything ever stored stays reachable, which also tells leak checkers
// that it is kept on purpose.
struct Snapshot {
  std::map<std::string, const Value*, std::less<>> values;
  const Snapshot* previous = nullptr;
};

// Both constant-initialized: usable from any static initializer or destructor.
std::atomic<const Snapshot*> current{nullptr};
std::mutex writers;

// Under `writers`: publishes a copy of the current snapshot changed by `change`.
template <class F>
void publish(F change) {
  const Snapshot* old = current.load(std::memory_order_relaxed);
  auto next = std::make_unique<Snapshot>();
  if (old != nullptr) next->values = old->values;
  change(next->values);
  next->previous = old;
  current.store(next.release(), std::memory_order_release);
}

}  // namespace

void store(std::string key, std::unique_ptr<Value> value) {
  std::lock_guard lock(writers);
  publish([&](auto& values) { values.insert_or_assign(std::move(key), value.get()); });
  value.release();  // now owned by the snapshot
}

const Value* find(std::string_view key) noexcept {
  const Snapshot* s = current.load(std::memory_order_acquire);
  if (s == nullptr) return nullptr;
  auto it = s->values.find(key);
  return it == s->values.end() ? nullptr : it->second;
}

void missing(std::string_view key) {
  throw BadArg(fmt::format("otp::persistent_term::get: no key \"{}\"", key));
}

void wrong_type(std::string_view key, const std::type_info& stored, const std::type_info& wanted) {
  throw BadArg(fmt::format("otp::persistent_term::get: key \"{}\" holds a {}, not a {}", key,
                           stored.name(), wanted.name()));
}

}  // namespace detail

bool erase(std::string_view key) {
  std::lock_guard lock(detail::writers);
  if (detail::find(key) == nullptr) return false;
  detail::publish([&](auto& values) { values.erase(values.find(key)); });
  return true;
}

}  // namespace otp::persistent_term
