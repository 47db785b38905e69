// What a user of the application calls (the console's commands, the HTTP routes, the tests).
// With the memory stash a session is its processes; with the Redis stash it is a hash in Redis
// (redis_stash.hpp), and the functions below that a session's processes answer need the first.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "login.hpp"
#include "otp/otp.hpp"
#include "redis_stash.hpp"
#include "registry.hpp"
#include "supervisor.hpp"

namespace hang_ten {

inline bool in_redis = false;  // set by Application::start

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

// Ends the user's session; false when there is none.
inline otp::Co<bool> stop(const std::string& login) {
  if (in_redis) co_return co_await RedisStash::remove(check_login(login));
  co_return co_await Supervisor::terminate_child(Supervisor::name,
                                                 via(login, "sup").whereis().value_or(otp::Pid{}));
}

// The user's session, started now if there was none: {user, whether it is new}.
inline otp::Co<std::pair<User, bool>> open(std::string login) {
  if (in_redis) co_return co_await RedisStash::open(check_login(login), Token::generate());
  for (int attempt = 0;; ++attempt) {  // a session that is ending now is started anew
    auto started = co_await create(login);
    auto user = co_await call_server<Server::Show>(login);
    if (user) co_return std::pair{std::move(user).value(), started.ok()};
    if (started.reason() == otp::Reason::other("max_children")) throw TooManySessions();
    if (attempt == 3) throw std::runtime_error(fmt::format("could not start {}", login));
  }
}

// The user, or nothing when there is no session.
inline otp::Co<std::optional<User>> find(std::string login) {
  if (in_redis) co_return co_await RedisStash::find(check_login(login));
  auto user = co_await call_server<Server::Show>(login);
  if (!user) co_return std::nullopt;
  co_return std::move(user).value();
}

// Counts a request made with `token`: the new request count, or nothing when the token is not
// the session's (or there is no session).
inline otp::Co<std::optional<int>> validate(std::string login, std::string token) {
  if (in_redis) co_return co_await RedisStash::validate(check_login(login), std::move(token));
  auto count = co_await call_server<Server::Validate>(login, std::move(token));
  if (!count) co_return std::nullopt;
  co_return count.value();
}

// A new token for the session; nothing when there is no session.
inline otp::Co<std::optional<User>> rotate(std::string login) {
  if (in_redis) co_return co_await RedisStash::rotate(check_login(login), Token::generate());
  auto user = co_await call_server<Server::Rotate>(login);
  if (!user) co_return std::nullopt;
  co_return std::move(user).value();
}

// The logins of the live sessions, sorted.
inline otp::Co<std::vector<std::string>> logins() {
  std::vector<std::string> out;
  if (in_redis) {
    out = co_await RedisStash::logins();
  } else {
    for (const auto& child : co_await Supervisor::which_children(Supervisor::name)) {
      for (const std::string& key : registry.keys(child.pid))
        out.push_back(key.substr(0, key.rfind('_')));
    }
  }
  std::ranges::sort(out);
  out.erase(std::unique(out.begin(), out.end()), out.end());  // SCAN may name a key twice
  co_return out;
}

}  // namespace hang_ten
