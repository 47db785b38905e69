// The lab's four applications, started side by side: four top supervisors, four trees on the
// observer's Applications page.
//
//   lab::start_applications(apps, me, {.redis = otp::redis::Options{.port = 6379}});
//
// Each is a temporary application (otp/application.hpp: application:start/1's default): its top
// supervisor is linked to the caller (the console's process, or a test's), which stops them when
// it ends; none is the child of another, so killing one takes down only its own application, and
// its end is logged (`application: worker_pool, exited: shutdown, type: temporary`). The Redis
// pool is lab 05's, started only when there is a Redis to talk to.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../05_redis_pool/src/redis_pool.hpp"
#include "otp/otp.hpp"
#include "sessions.hpp"
#include "terms_cache.hpp"
#include "worker_pool.hpp"

namespace lab {

struct Load {
  static constexpr int low = 50;  // jobs per second, over all the workers
  static constexpr int high = 5'000;
};

struct Options {
  std::optional<otp::redis::Options> redis;  // none: no Redis pool
  int redis_connections = 3;
  int workers = 4;
  int jobs_per_second = Load::low;
  std::vector<std::string> logins = {"ana", "eric", "jose"};
};

inline void check(const otp::StartResult& started, const std::string& what) {
  if (!started.ok()) throw std::runtime_error(what + ": " + started.to_string());
}
inline void check(const otp::Result<otp::Pid>& started, const std::string& what) {
  if (!started.ok()) throw std::runtime_error(what + ": " + started.reason().to_string());
}

inline void start_applications(otp::Applications& apps, otp::Scoped& me, const Options& options) {
  if (options.redis)
    check(apps.start("redis_pool",
                     [&] {
                       return me.await(
                           RedisPool::start_link(*options.redis, options.redis_connections));
                     }),
          "redis_pool");
  check(apps.start(TermsCacheApp::name, [&] { return me.await(TermsCacheApp::start_link()); }),
        TermsCacheApp::name);
  check(apps.start(Sessions::name, [&] { return me.await(Sessions::start_link()); }),
        Sessions::name);
  for (const std::string& login : options.logins)
    check(me.await(Sessions::start_session(login)), login);
  check(apps.start(WorkerPool::name,
                   [&] {
                     return me.await(
                         WorkerPool::start_link(options.workers, options.jobs_per_second));
                   }),
        WorkerPool::name);
}

}  // namespace lab
