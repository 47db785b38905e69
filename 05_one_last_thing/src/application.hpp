// The application: starting it starts the top of the tree, which holds the sessions' supervisor,
// the Redis connection when the sessions live in Redis, and the HTTP service once it is served.
#pragma once

#include <optional>
#include <vector>

#include <unistd.h>

#include "hang_ten.hpp"
#include "otp/otp.hpp"
#include "otp/redis/connection.hpp"
#include "redis_stash.hpp"
#include "supervisor.hpp"

namespace hang_ten {

struct Config {
  Timeouts timeouts;
  std::optional<otp::redis::Options> redis;           // the Redis stash; none: the memory stash
  std::size_t max_sessions = default_max_sessions();  // with the memory stash; 0: no limit

  // --max-sessions' default: sessions may take a quarter of this machine's memory, at about
  // 10 KB each (a session's five processes, their mailboxes and names; 229,612 sessions took
  // 2.2 GB).
  static std::size_t default_max_sessions() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0) return 100'000;
    return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 4 / 10'000;
  }
};

struct Application {
  static constexpr const char* name = "HangTen.Application";

  static otp::Start start(Config config = {}) {
    timeouts = config.timeouts;
    static RedisStash redis_stash;  // no state of its own: one for the program
    started_sessions = config.redis ? static_cast<Sessions*>(&redis_stash) : &memory_stash;
    std::vector<otp::ChildSpec> children{otp::child<Supervisor>(config.max_sessions)};
    if (config.redis) children.push_back(otp::child<RedisStash>(*config.redis));
    return otp::Supervisor::start_link(otp::Name::local(name), std::move(children),
                                       {.strategy = otp::Strategy::one_for_one});
  }
};

}  // namespace hang_ten
