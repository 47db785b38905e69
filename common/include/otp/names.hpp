// Names: local names (register_name/whereis) and {via, registry, key} names.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <string_view>

#include "otp/pid.hpp"

namespace otp {

// Anything that can resolve keys to pids, used through Via: the equivalent of a
// module given in Erlang's {via, Module, Name}. otp::Registry implements it.
class NameRegistry {
 public:
  virtual ~NameRegistry() = default;
  virtual std::optional<Pid> whereis_name(std::string_view key) const = 0;
  // False when the key is taken.
  virtual bool register_name(std::string key, Pid pid) = 0;
  virtual void unregister_name(std::string_view key) = 0;
  // How reports name the registry ({:via, HangTen.Registry, "key"}).
  virtual std::string registry_name() const { return "Registry"; }
};

// A {via, registry, key} name.
struct Via {
  // Constructors, not an aggregate: GCC 12 destroys an aggregate temporary twice
  // when it lives in a co_await expression (co_await Server::call(Via{&reg, key}, ...)).
  Via() = default;
  Via(NameRegistry* r, std::string k) : registry(r), key(std::move(k)) {}

  NameRegistry* registry = nullptr;
  std::string key;

  std::optional<Pid> whereis() const { return registry->whereis_name(key); }
  Pid resolve() const;  // throws BadArg when not registered
};

// Local names, for the calling process's runtime (any thread when given the Runtime).
// register_name is false when the name is taken, the pid has a name already or is dead.
bool register_name(std::string name, const Pid& pid);
bool unregister_name(std::string_view name);
std::optional<Pid> whereis(std::string_view name);

}  // namespace otp
