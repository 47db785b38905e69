// redis_pool: a command through a pool of connections, each reply in redis-cli's words.
//
//   redis_pool <port> <size> <command> [args...]
//   redis_pool 6379 4 CLIENT ID                    ->  (integer) 7
//   redis_pool 6379 4 --repeat 5 CLIENT ID         ->  five commands, spread over the pool
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "redis_pool.hpp"

namespace {

constexpr const char* usage =
    "usage: redis_pool <port> <size> [--repeat <n>] <command> [args...]\n"
    "  Starts <size> connections to Redis on 127.0.0.1:<port> under one supervisor and sends\n"
    "  the command <n> times (default 1), each time on a connection picked at random.\n"
    "  Example: redis_pool 6379 4 --repeat 5 CLIENT ID\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::printf("%s", usage);
    return 0;
  }
  if (argc < 4) {
    std::fprintf(stderr, "%s", usage);
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const int size = std::stoi(argv[2]);
  int first = 3;
  int repeat = 1;
  if (std::strcmp(argv[first], "--repeat") == 0 && argc >= 6) {
    repeat = std::stoi(argv[first + 1]);
    first += 2;
  }
  if (size < 1 || repeat < 1) {
    std::fprintf(stderr, "%s", usage);
    return 2;
  }
  const std::vector<std::string> args(argv + first, argv + argc);

  otp::Runtime rt;
  otp::Scoped me(rt);
  me.await(lab::RedisPool::start_link({.host = "127.0.0.1", .port = port}, size));
  int failed = 0;
  for (int i = 0; i < repeat; ++i) {
    auto result = me.await(lab::RedisPool::command(args));
    if (result.ok()) {
      std::printf("%s\n", otp::redis::to_string(result.value()).c_str());
    } else {
      std::printf("%s\n", result.to_string().c_str());
      ++failed;
    }
  }
  return failed == 0 ? 0 : 1;
}
