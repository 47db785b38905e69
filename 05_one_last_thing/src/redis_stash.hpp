// The Redis stash (`hang_ten serve --stash redis://127.0.0.1:6379`): sessions live in Redis,
// one hash per login ("hangten:session:<login>": token, count, expires_at), so they outlive the
// service and every instance on the same Redis sees the same sessions.
//
// Each operation is one Lua script, which Redis runs atomically: a validate reads the token,
// compares it in constant time, counts the request and pushes the expiry back in one step, so
// two instances validating at once both count, and a validate that starts after a DELETE was
// answered finds nothing. The key's expiry is the inactivity timeout, never past the absolute
// one: Redis forgets an idle or old session by itself, on every instance at once. Times are
// Redis's own clock (TIME), the same for every instance.
//
// One connection process, "HangTen.Redis", carries every request (pipelined across callers).
// While Redis is down every operation fails at once with StashUnavailable, and the connection
// reconnects by itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "login.hpp"
#include "otp/otp.hpp"
#include "otp/redis/connection.hpp"
#include "sessions.hpp"
#include "timer.hpp"
#include "user.hpp"

namespace hang_ten {

class RedisStash : public Sessions {
 public:
  static constexpr const char* name = "HangTen.Redis";
  static constexpr std::string_view prefix = "hangten:session:";

  static otp::Start start_link(otp::redis::Options options) {
    return otp::redis::Connection::start_link(otp::Name::local(name), std::move(options));
  }

  otp::Co<std::pair<User, bool>> open(std::string login) override {
    std::vector<std::string> argv{Token::generate().reveal(), millis(timeouts.inactive),
                                  millis(timeouts.absolute)};
    auto reply = co_await script(create_script, check_login(login), std::move(argv));
    co_return std::pair{user_of(login, reply.as_array()), reply.as_array()[0].as_integer() == 1};
  }

  otp::Co<std::optional<int>> validate(std::string login, std::string token) override {
    std::vector<std::string> argv{std::move(token), millis(timeouts.inactive)};
    auto reply = co_await script(validate_script, check_login(login), std::move(argv));
    if (reply.as_integer() < 0) co_return std::nullopt;
    co_return static_cast<int>(reply.as_integer());
  }

  otp::Co<std::optional<User>> rotate(std::string login) override {
    std::vector<std::string> argv{Token::generate().reveal(), millis(timeouts.inactive)};
    auto reply = co_await script(rotate_script, check_login(login), std::move(argv));
    if (reply.is_nil()) co_return std::nullopt;
    co_return user_of(login, reply.as_array());
  }

  otp::Co<std::optional<User>> find(std::string login) override {
    auto reply = co_await script(find_script, check_login(login), std::vector<std::string>());
    if (reply.is_nil()) co_return std::nullopt;
    co_return user_of(login, reply.as_array());
  }

  otp::Co<bool> stop(std::string login) override {
    std::vector<std::string> args{"DEL", key(check_login(login))};
    co_return (co_await run(args)).as_integer() == 1;
  }

  otp::Co<std::vector<std::string>> logins() override {
    std::vector<std::string> out;
    std::string cursor = "0";
    do {
      std::vector<std::string> args{"SCAN", cursor, "MATCH", key("*"), "COUNT", "1000"};
      auto reply = co_await run(args);
      cursor = reply.as_array()[0].as_string();
      for (const auto& k : reply.as_array()[1].as_array())
        out.push_back(k.as_string().substr(prefix.size()));
    } while (cursor != "0");
    co_return out;
  }

  otp::Co<bool> ready() override {
    const std::vector<std::string> ping{"PING"};
    auto reply = co_await otp::redis::command(otp::Name::local(name), ping);
    co_return reply && !reply->is_error();
  }
  const char* kind() const override { return "redis"; }

 private:
  static std::string key(std::string_view login) {
    return std::string(prefix) + std::string(login);
  }
  static std::string millis(otp::Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  }

  static otp::Co<otp::redis::Reply> run(const std::vector<std::string>& args) {
    auto reply = co_await otp::redis::command(otp::Name::local(name), args);
    if (!reply || reply->is_error()) {
      otp::log::warning("redis stash: {}",
                        reply ? otp::redis::to_string(reply.value()) : reply.reason().to_string());
      throw StashUnavailable();
    }
    co_return std::move(reply).value();
  }
  static otp::Co<otp::redis::Reply> script(std::string_view body, const std::string& login,
                                           std::vector<std::string> argv) {
    std::vector<std::string> args{"EVAL", std::string(body), "1", key(login)};
    args.insert(args.end(), argv.begin(), argv.end());
    co_return co_await run(args);
  }

  // {created, token, count, expires_at} as the scripts answer.
  static User user_of(const std::string& login, const otp::redis::Reply::Array& a) {
    return User{login, static_cast<int>(std::stoll(a[2].as_string())),
                Token::from_text(a[1].as_string()),
                WallClock::time_point(std::chrono::milliseconds(std::stoll(a[3].as_string())))};
  }

  // KEYS[1] the session; ARGV: token, inactive ms, absolute ms.
  static constexpr std::string_view create_script = R"lua(
local now = redis.call('TIME')
now = now[1] * 1000 + math.floor(now[2] / 1000)
local s = redis.call('HMGET', KEYS[1], 'token', 'count', 'expires_at')
if s[1] then return {0, s[1], s[2], s[3]} end
local expires = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'count', 0, 'expires_at', expires)
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[2]), tonumber(ARGV[3])))
return {1, ARGV[1], '0', tostring(expires)})lua";

  // ARGV: token, inactive ms. The comparison looks at every byte whatever the first wrong one.
  static constexpr std::string_view validate_script = R"lua(
local s = redis.call('HMGET', KEYS[1], 'token', 'expires_at')
if not s[1] or #s[1] ~= #ARGV[1] then return -1 end
local diff = 0
for i = 1, #s[1] do diff = bit.bor(diff, bit.bxor(s[1]:byte(i), ARGV[1]:byte(i))) end
if diff ~= 0 then return -1 end
local now = redis.call('TIME')
local left = tonumber(s[2]) - (now[1] * 1000 + math.floor(now[2] / 1000))
if left <= 0 then redis.call('DEL', KEYS[1]) return -1 end
local n = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[2]), left))
return n)lua";

  // ARGV: the new token, inactive ms.
  static constexpr std::string_view rotate_script = R"lua(
local s = redis.call('HMGET', KEYS[1], 'count', 'expires_at')
if not s[1] then return nil end
local now = redis.call('TIME')
local left = tonumber(s[2]) - (now[1] * 1000 + math.floor(now[2] / 1000))
if left <= 0 then redis.call('DEL', KEYS[1]) return nil end
redis.call('HSET', KEYS[1], 'token', ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[2]), left))
return {0, ARGV[1], s[1], s[2]})lua";

  static constexpr std::string_view find_script = R"lua(
local s = redis.call('HMGET', KEYS[1], 'token', 'count', 'expires_at')
if not s[1] then return nil end
return {0, s[1], s[2], s[3]})lua";
};

}  // namespace hang_ten
