// redis_client: one command through one of the lab's three clients, its reply in redis-cli's words.
//
//   redis_client <port> blocking|async|statem <command> [args...]
//   redis_client 6379 async SET greeting hello      ->  OK
#include <cstdio>
#include <string>
#include <vector>

#include "async_client.hpp"
#include "blocking_client.hpp"
#include "otp/redis/connection.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: redis_client <port> blocking|async|statem <command> [args...]\n");
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const std::string kind = argv[2];
  const std::vector<std::string> args(argv + 3, argv + argc);

  otp::Runtime rt;
  otp::Scoped me(rt);
  otp::Result<otp::redis::Reply> result = otp::Reason::parse("badarg");
  if (kind == "blocking") {
    auto client = me.await(lab::BlockingClient::start_link("127.0.0.1", port));
    result = me.await(lab::BlockingClient::call(client.pid(), lab::BlockingClient::Command{args}));
  } else if (kind == "async" || kind == "statem") {
    // Both connect in the background: wait until the connection serves, for up to 5 s.
    otp::Pid client;
    if (kind == "async") {
      client = me.await(lab::AsyncClient::start_link("127.0.0.1", port)).pid();
    } else {
      client =
          me.await(otp::redis::Connection::start_link({.host = "127.0.0.1", .port = port})).pid();
    }
    for (int attempt = 0; attempt < 50; ++attempt) {
      if (kind == "async") {
        result = me.await(lab::AsyncClient::call(client, lab::AsyncClient::Command{args}));
      } else {
        result = me.await(otp::redis::command(client, args));
      }
      if (result.ok()) break;
      me.receive<int>(std::chrono::milliseconds(100));  // a pause; no int ever comes
    }
  }
  if (!result.ok()) {
    std::printf("%s\n", result.to_string().c_str());
    return 1;
  }
  std::printf("%s\n", otp::redis::to_string(result.value()).c_str());
  return 0;
}
