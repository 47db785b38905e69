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
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
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

struct ChildSpec {
  std::string id{};
  std::function<Start()> start{};  // starts the child linked to the caller
  Restart restart = Restart::permanent;
  std::optional<Shutdown> shutdown{};  // default: after(5s) for a worker, infinity for a supervisor
  ChildType type = ChildType::worker;
};

// A supervisor refuses to start with max_restarts below 0 ({supervisor_data, {invalid_intensity,
// -1}}) or max_seconds not above 0 ({supervisor_data, {invalid_period, 0}}), as Erlang's does.
struct SupFlags {
  Strategy strategy = Strategy::one_for_one;
  int max_restarts = 3;
  Duration max_seconds = std::chrono::seconds(5);
  // DynamicSupervisor only: the most children at once (0: no limit).
  std::size_t max_children = 0;
};

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

  // Starts a child under `sup`; error(max_children) when it is full.
  static Start start_child(ServerRef sup, ChildSpec spec);
  // Stops the child; false when it is not a child of `sup`. A child whose restart waits for a
  // retry is named by the pid it had, and is forgotten.
  static Co<bool> terminate_child(ServerRef sup, Pid child);
  static Co<std::vector<ChildInfo>> which_children(ServerRef sup);
  static Co<ChildCounts> count_children(ServerRef sup);
};

namespace detail {
// What a supervisor process is, for the observer: TaskSupervisor is a DynamicSupervisor.
enum class SupKind : unsigned char { plain, dynamic, task };
Start start_sup(bool link, Name name, SupFlags flags, std::vector<ChildSpec> specs, SupKind kind);
}  // namespace detail

// The child spec of T, started with T::start_link(args...). T may say how it
// wants to be supervised with static members `restart` (otp::Restart) and
// `shutdown` (otp::Shutdown), and may override the id with `child_id`.
template <class T, class... A>
ChildSpec child(A... args) {
  ChildSpec spec;
  if constexpr (requires { T::child_id; }) {
    spec.id = T::child_id;
  } else {
    spec.id = std::string(detail::type_name<T>());
  }
  spec.start = [args...]() { return T::start_link(args...); };
  if constexpr (requires { T::restart; }) spec.restart = T::restart;
  if constexpr (requires { T::shutdown; }) spec.shutdown = T::shutdown;
  if constexpr (std::is_base_of_v<Supervisor, T> || std::is_base_of_v<DynamicSupervisor, T>) {
    spec.type = ChildType::supervisor;
  }
  return spec;
}

}  // namespace otp
