// Names: local names (register_name/whereis), {via, registry, key} names (Via), and Name, how
// a started process is named (nothing, a local name, or a Via).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

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
  // The key `pid` holds here (the first, if it holds several), or empty: how reports and the
  // observer name a process started under a Via name, which keeps no copy of its name.
  virtual std::string name_of(const Pid&) const { return {}; }
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

// How a started process is named: not at all, a local name, or a Via name.
class Name {
 public:
  Name() = default;
  Name(Via via) : via_(std::move(via)) {}  // NOLINT(google-explicit-constructor): a Via is a name
  static Name local(std::string name) {
    Name n;
    n.local_ = std::move(name);
    return n;
  }

  bool empty() const { return local_.empty() && via_.registry == nullptr; }
  const std::string& local_name() const { return local_; }
  const Via& via() const { return via_; }
  std::optional<Pid> whereis() const;
  // Registers `pid` under this name; false when the name is taken.
  bool register_pid(const Pid& pid) const;
  // Removes this name, which the calling process holds (a start that failed lets it go).
  void unregister_self() const;
  std::string to_string() const { return via_.registry != nullptr ? via_.key : local_; }

 private:
  std::string local_;
  Via via_;
};

namespace detail {
// The calling process's name for reports: its key in `via` (the registry of the Via name it was
// started under), else its local name; empty when it has neither.
std::string name_of_self(const NameRegistry* via);
}  // namespace detail

// Local names, for the calling process's runtime (any thread when given the Runtime).
// register_name is false when the name is taken, the pid has a name already or is dead.
bool register_name(std::string name, const Pid& pid);
bool unregister_name(std::string_view name);
std::optional<Pid> whereis(std::string_view name);

}  // namespace otp
