// What a user of the application calls (the console's commands, the HTTP routes, the tests).
// With the memory stash a session is its processes; with the Redis stash it is a hash in Redis
// (redis_stash.hpp): the functions that talk to a session's processes need the first.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "login.hpp"
#include "otp/otp.hpp"
#include "registry.hpp"
#include "sessions.hpp"
#include "supervisor.hpp"

namespace hang_ten {

// A new session past --max-sessions (the service answers 503).
struct TooManySessions : std::runtime_error {
  TooManySessions() : std::runtime_error("too many sessions") {}
};

inline otp::Start create(std::string login) { return Supervisor::start_child(check_login(login)); }

inline std::optional<otp::Pid> whereis(const std::string& login) {
  return via(login, "server").whereis();
}

inline void count_request(const std::string& login) {
  Server::cast(via(login, "server"), Server::CountRequest{});
}
inline auto show(const std::string& login) {
  return Server::call(via(login, "server"), Server::Show{});
}
inline auto boom(const std::string& login) {
  return Server::call(via(login, "server"), Server::Boom{});
}

// Calls the user's Server. A crash or a kill of the Server (or of its SubSupervisor) leaves a
// moment when the session is there but its Server is not yet: while the session's supervisor
// is alive, the call waits for the restart (up to about 100 ms) rather than answering as if
// there were no session (a valid token refused, a live session not found).
template <class Request, class... Args>
auto call_server(const std::string& login, Args... args) {
  return Server::call_through_restart<Request>(
      via(login, "server"), [login] { return via(login, "sup").whereis().has_value(); },
      std::move(args)...);
}

// The memory stash: a session is its processes, under HangTen.Supervisor.
class MemoryStash : public Sessions {
 public:
  otp::Co<std::pair<User, bool>> open(std::string login) override {
    for (int attempt = 0;; ++attempt) {  // a session that is ending now is started anew
      auto started = co_await create(login);
      auto user = co_await call_server<Server::Show>(login);
      if (user) co_return std::pair{std::move(user).value(), started.ok()};
      if (started.reason() == otp::Reason::other("max_children")) throw TooManySessions();
      if (attempt == 3) throw std::runtime_error(fmt::format("could not start {}", login));
    }
  }
  otp::Co<std::optional<User>> find(std::string login) override {
    co_return (co_await call_server<Server::Show>(login)).to_optional();
  }
  otp::Co<std::optional<int>> validate(std::string login, std::string token) override {
    auto count = co_await call_server<Server::Validate>(login, std::move(token));
    co_return count ? count.value() : std::nullopt;  // no session: no count
  }
  otp::Co<std::optional<User>> rotate(std::string login) override {
    co_return (co_await call_server<Server::Rotate>(login)).to_optional();
  }
  otp::Co<bool> stop(std::string login) override {
    const auto sup = via(login, "sup").whereis();
    co_return co_await Supervisor::terminate_child(Supervisor::name, sup.value_or(otp::Pid{}));
  }
  otp::Co<std::vector<std::string>> logins() override {
    std::vector<std::string> out;
    for (const auto& child : co_await Supervisor::which_children(Supervisor::name)) {
      for (const std::string& key : registry.keys(child.pid))
        out.push_back(key.substr(0, key.rfind('_')));
    }
    co_return out;
  }
  otp::Co<bool> ready() override { co_return true; }
  const char* kind() const override { return "memory"; }
  bool in_processes() const override { return true; }
};

// The stash the application started with: memory, unless Application::start picked Redis.
inline MemoryStash memory_stash;
inline Sessions* started_sessions = &memory_stash;
inline Sessions& sessions() { return *started_sessions; }

// Ends the user's session; false when there is none.
inline otp::Co<bool> stop(const std::string& login) { return sessions().stop(login); }

// The logins of the live sessions, sorted.
inline otp::Co<std::vector<std::string>> logins() {
  std::vector<std::string> out = co_await sessions().logins();
  std::ranges::sort(out);
  out.erase(std::unique(out.begin(), out.end()), out.end());  // SCAN may name a key twice
  co_return out;
}

}  // namespace hang_ten
