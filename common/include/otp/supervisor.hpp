// otp::Supervisor and otp::DynamicSupervisor — processes that start, watch and
// restart other processes (Erlang's supervisor, Elixir's DynamicSupervisor).
//
//   struct UserSupervisor : otp::Supervisor {
//     static otp::Start start_link(std::string login) {
//       return Supervisor::start_link(otp::Via{&registry, login + "_sup"},
//                                     {otp::child<Stash>(login), otp::child<Server>(login)},
//                                     {.strategy = otp::Strategy::one_for_one});
//     }
//   };
//
//   auto users = co_await otp::DynamicSupervisor::start_link(otp::Name::local("users"));
//   auto user = co_await otp::DynamicSupervisor::start_child(users.pid(), otp::child<UserSupervisor>("eric"));
//
// Children start in order, each start waiting for the child's init; a child
// whose start fails makes the whole start fail ({shutdown, {failed_to_start_child,
// id, reason}}), after the children already started are stopped again. Children
// stop in reverse order. A child's exit is handled by its restart type:
// permanent children are always restarted, transient ones unless the reason is
// normal, shutdown or {shutdown, _}, temporary ones never (and are forgotten).
// A restart whose start fails is tried again through the supervisor's mailbox,
// after what is already there; every attempt counts as a restart. More than
// max_restarts restarts within max_seconds make the supervisor stop its
// children and exit with `shutdown`, leaving the decision to its own
// supervisor. A supervisor traps exits; its parent's exit signal stops it.
// A significant child that ends by itself (not restarted, not stopped by the
// supervisor) shuts the supervisor down with `shutdown` as its auto_shutdown
// says (OTP 24). A supervisor's children and flags may come from an init
// function run in the new process, which may decline the start with ignore().
// A DynamicSupervisor's extra arguments come before each child's own, typed:
// see child_with_extra.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "otp/co.hpp"
#include "otp/detail/type_name.hpp"
#include "otp/gen_server.hpp"
#include "otp/pid.hpp"
#include "otp/reason.hpp"
#include "otp/result.hpp"

namespace otp {

enum class Restart : unsigned char { permanent, transient, temporary };
enum class ChildType : unsigned char { worker, supervisor };
enum class Strategy : unsigned char { one_for_one, one_for_all, rest_for_one };
// When a supervisor shuts itself down because significant children ended by themselves (OTP 24's
// auto_shutdown): never, when any one ends, or when the last running one ends.
enum class AutoShutdown : unsigned char { never, any_significant, all_significant };

// How a child is stopped: killed at once, asked with `shutdown` and killed
// after a timeout, or asked and waited for without limit.
class Shutdown {
 public:
  enum class Kind : unsigned char { brutal_kill, timeout, infinity };
  static Shutdown brutal_kill() { return Shutdown{Kind::brutal_kill, {}}; }
  static Shutdown after(Duration timeout) { return Shutdown{Kind::timeout, timeout}; }
  static Shutdown infinity() { return Shutdown{Kind::infinity, {}}; }
  Kind kind() const { return kind_; }
  Duration timeout() const { return timeout_; }

 private:
  Shutdown(Kind k, Duration t) : kind_(k), timeout_(t) {}
  Kind kind_;
  Duration timeout_;
};

namespace detail {
template <class... A>
std::string types_text() {
  std::string out = "(";
  ((out += std::string(type_name<A>()) + ", "), ...);
  if (out.size() > 1) out.resize(out.size() - 2);
  return out + ")";
}
struct ExtraValuesBase {
  virtual ~ExtraValuesBase() = default;
  std::string types;  // "(int, std::string)"
};
template <class... A>
struct ExtraValues final : ExtraValuesBase {
  explicit ExtraValues(A... a) : values(std::move(a)...) { types = types_text<A...>(); }
  std::tuple<A...> values;
};
}  // namespace detail

// Values a DynamicSupervisor puts before every child's own start arguments (Elixir's
// extra_arguments), made by otp::extra_arguments(a, b, ...). They are read back only as the
// exact (decayed) types they were made with; see child_with_extra.
class ExtraArguments {
 public:
  ExtraArguments() = default;
  bool empty() const { return values_ == nullptr; }
  // The values when they are of the types E... exactly; nullptr otherwise.
  template <class... E>
  const std::tuple<E...>* get() const {
    if constexpr (sizeof...(E) == 0) {
      static const std::tuple<> none;
      return empty() ? &none : nullptr;
    } else {
      const auto* v = dynamic_cast<const detail::ExtraValues<E...>*>(values_.get());
      return v != nullptr ? &v->values : nullptr;
    }
  }
  // Their types, as "(int, std::string)"; "()" when there are none.
  std::string types() const { return values_ != nullptr ? values_->types : "()"; }

 private:
  template <class... A>
  friend ExtraArguments extra_arguments(A... args);
  std::shared_ptr<const detail::ExtraValuesBase> values_;  // shared by the children's starts
};

template <class... A>
ExtraArguments extra_arguments(A... args) {
  ExtraArguments out;
  if constexpr (sizeof...(A) != 0)
    out.values_ = std::make_shared<const detail::ExtraValues<A...>>(std::move(args)...);
  return out;
}

struct ChildSpec {
  std::string id{};
  std::function<Start()> start{};  // starts the child linked to the caller
  // Instead of `start`: starts the child with the supervisor's extra arguments (see
  // child_with_extra). A spec with only `start` is refused by a supervisor that has some.
  std::function<Start(const ExtraArguments&)> start_with_extra{};
  Restart restart = Restart::permanent;
  std::optional<Shutdown> shutdown{};  // default: after(5s) for a worker, infinity for a supervisor
  ChildType type = ChildType::worker;
  // Its own exit (not one the supervisor asked for) may shut the supervisor down, as the flags'
  // auto_shutdown says. Only for transient and temporary children, under a Supervisor whose
  // auto_shutdown is not never; refused otherwise with {bad_combination, ...}, as Erlang's does.
  bool significant = false;
};

// A supervisor refuses to start with max_restarts below 0 ({supervisor_data, {invalid_intensity,
// -1}}) or max_seconds not above 0 ({supervisor_data, {invalid_period, 0}}), as Erlang's does.
struct SupFlags {
  Strategy strategy = Strategy::one_for_one;
  int max_restarts = 3;
  Duration max_seconds = std::chrono::seconds(5);
  // Supervisor only (a DynamicSupervisor refuses any other than never, as Elixir's does).
  AutoShutdown auto_shutdown = AutoShutdown::never;
  // DynamicSupervisor only: the most children at once (0: no limit).
  std::size_t max_children = 0;
  // DynamicSupervisor only: given to every child's start before its own arguments (Elixir's
  // extra_arguments); its children are made with child_with_extra. Another supervisor refuses
  // them ({supervisor_data, {invalid_extra_arguments, ...}}).
  ExtraArguments extra_arguments{};
};

// What a supervisor's init function gives: its children and flags (the {ok, {Flags, Children}}
// of Erlang's Module:init).
struct SupSpec {
  std::vector<ChildSpec> children{};
  SupFlags flags{};
};

namespace detail {
// What a supervisor process is, for the observer: TaskSupervisor is a DynamicSupervisor.
enum class SupKind : unsigned char { plain, dynamic, task };
Start start_sup(bool link, Name name, SupFlags flags, std::vector<ChildSpec> specs, SupKind kind);
// Starts a supervisor whose children and flags come from `init`, run in the new process.
Start start_sup_init(Name name, std::function<SupSpec()> init, SupKind kind);
}  // namespace detail

struct ChildInfo {
  std::string id;  // the spec's id (child<T>: the name of T)
  Pid pid;         // empty when the child is not running
  ChildType type;
  Restart restart;
};

struct ChildCounts {
  std::size_t specs = 0;
  std::size_t active = 0;
  std::size_t supervisors = 0;
  std::size_t workers = 0;
};

// Derive a module-like class from Supervisor (as in the example above) and
// child<T> knows that T is a supervisor. `sup` may be a pid or a name; a
// supervisor that does not exist makes these calls exit with noproc.
class Supervisor {
 public:
  // Two children with one id make the start fail with {start_spec, {duplicate_child_name, id}}.
  static Start start_link(std::vector<ChildSpec> children, SupFlags flags = {});
  static Start start_link(Name name, std::vector<ChildSpec> children, SupFlags flags = {});
  // Erlang's supervisor:start_link(Module, Args): `init` runs in the new supervisor process and
  // gives the children and flags. It may call ignore() to decline to start (start_link returns
  // ignore, any name is free again, and the process ends with `normal`), or throw (or
  // otp::exit) to fail the start.
  template <class F>
  requires std::is_invocable_r_v<SupSpec, F&>
  static Start start_link(F init) {
    return detail::start_sup_init(Name{}, std::function<SupSpec()>(std::move(init)),
                                  detail::SupKind::plain);
  }
  template <class F>
  requires std::is_invocable_r_v<SupSpec, F&>
  static Start start_link(Name name, F init) {
    return detail::start_sup_init(std::move(name), std::function<SupSpec()>(std::move(init)),
                                  detail::SupKind::plain);
  }
  // In an init function: decline to start (Erlang's `ignore`). Anywhere else it is a crash.
  [[noreturn]] static void ignore() { throw detail::IgnoreStart{}; }

  // Adds a child and starts it; already_started when the id is running,
  // error({already_present, id}) when it is known but not running.
  static Start start_child(ServerRef sup, ChildSpec spec);
  // Stops a child but keeps its spec; false when no child has that id.
  static Co<bool> terminate_child(ServerRef sup, std::string id);
  // Starts a stopped child again; error(running | not_found) otherwise.
  static Start restart_child(ServerRef sup, std::string id);
  // Forgets a stopped child's spec: ok, or the error running, restarting or not_found.
  static Co<Result<void>> delete_child(ServerRef sup, std::string id);
  static Co<std::vector<ChildInfo>> which_children(ServerRef sup);
  static Co<ChildCounts> count_children(ServerRef sup);
  // supervisor:get_childspec/2: the spec of child `id` as the supervisor holds it (its shutdown
  // filled in), running or not; nullopt when no child has that id.
  static Co<std::optional<ChildSpec>> get_childspec(ServerRef sup, std::string id);

  // The restarts made so far by every supervisor (dynamic ones too) in this program: a metric.
  static std::uint64_t restarts();
};

class DynamicSupervisor {
 public:
  static Start start_link(SupFlags flags = {});
  static Start start_link(Name name, SupFlags flags = {});
  // Elixir's DynamicSupervisor.start_link(Module, arg): `init` runs in the new supervisor and
  // gives its flags; it may call ignore() to decline, as Supervisor's init function may.
  template <class F>
  requires std::is_invocable_r_v<SupFlags, F&>
  static Start start_link(F init) { return start_link(Name{}, std::move(init)); }
  template <class F>
  requires std::is_invocable_r_v<SupFlags, F&>
  // NOLINTNEXTLINE(performance-unnecessary-value-param): the name is moved into the start.
  static Start start_link(Name name, F init) {
    return detail::start_sup_init(
        std::move(name),
        [init = std::move(init)]() mutable {
          return SupSpec{{}, init()};
        },
        detail::SupKind::dynamic);
  }
  [[noreturn]] static void ignore() { throw detail::IgnoreStart{}; }

  // Starts a child under `sup`; error(max_children) when it is full.
  static Start start_child(ServerRef sup, ChildSpec spec);
  // Stops the child; false when it is not a child of `sup`. A child whose restart waits for a
  // retry is named by the pid it had, and is forgotten.
  static Co<bool> terminate_child(ServerRef sup, Pid child);
  static Co<std::vector<ChildInfo>> which_children(ServerRef sup);
  static Co<ChildCounts> count_children(ServerRef sup);
};

// The child spec of T, started with T::start_link(args...). T may say how it
// wants to be supervised with static members `restart` (otp::Restart) and
// `shutdown` (otp::Shutdown), and may override the id with `child_id`.
namespace detail {
// The spec of T without its start: id, restart, shutdown and type as child<T> gives them.
template <class T>
ChildSpec spec_of() {
  ChildSpec spec;
  if constexpr (requires { T::child_id; }) {
    spec.id = T::child_id;
  } else {
    spec.id = std::string(detail::type_name<T>());
  }
  if constexpr (requires { T::restart; }) spec.restart = T::restart;
  if constexpr (requires { T::shutdown; }) spec.shutdown = T::shutdown;
  if constexpr (std::is_base_of_v<Supervisor, T> || std::is_base_of_v<DynamicSupervisor, T>) {
    spec.type = ChildType::supervisor;
  }
  return spec;
}
// A start that fails at once with `reason`.
Start failed_start(Reason reason);
}  // namespace detail

template <class T, class... A>
ChildSpec child(A... args) {
  ChildSpec spec = detail::spec_of<T>();
  spec.start = [args...]() { return T::start_link(args...); };
  return spec;
}

// The child spec of T under a DynamicSupervisor whose extra arguments are of the types E...:
// started with T::start_link(extra..., args...). That call must compile; a supervisor whose
// extra arguments are of other types fails the start with
// {bad_extra_arguments, {expected, (E...)}, {given, (...)}}.
//
//   auto conns = co_await otp::DynamicSupervisor::start_link(
//       {.extra_arguments = otp::extra_arguments(pool, config)});
//   co_await otp::DynamicSupervisor::start_child(
//       conns.pid(), otp::child_with_extra<Conn, Pool*, Config>(std::string("db1")));
template <class T, class... E, class... A>
ChildSpec child_with_extra(A... args) {
  ChildSpec spec = detail::spec_of<T>();
  spec.start_with_extra = [args...](const ExtraArguments& extra) -> Start {
    const auto* values = extra.get<std::decay_t<E>...>();
    if (values == nullptr)
      return detail::failed_start(Reason::other("{bad_extra_arguments, {expected, " +
                                                detail::types_text<std::decay_t<E>...>() +
                                                "}, {given, " + extra.types() + "}}"));
    return std::apply([&](const auto&... e) { return T::start_link(e..., args...); }, *values);
  };
  return spec;
}

}  // namespace otp
