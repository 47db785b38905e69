// Kills never cascade: whatever is killed in a session (its Server, its SubSupervisor or the
// whole user supervisor), only that part is restarted, the Stash keeps what the tree promises,
// and the other sessions are untouched. On 1 and 2 scheduler threads, with a virtual clock so
// that the restarts stay within the supervisors' intensity (3 in 5 s).
#include <array>
#include <chrono>
#include <random>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../src/service.hpp"  // the listener (tests/service.hpp runs `hang_ten serve` instead)
#include "application.hpp"
#include "hang_ten.hpp"
#include "otp/testing/http_client.hpp"

namespace {

using namespace std::chrono_literals;

struct Kills : ::testing::TestWithParam<unsigned> {
  otp::LogCapture logs;
  otp::Runtime rt{otp::Options{.threads = GetParam(), .virtual_clock = true}};
  otp::Scoped me{rt};

  void SetUp() override {
    ASSERT_TRUE(
        me.await(hang_ten::Application::start({.timeouts = {10h, 100h}, .redis = {}})).ok());
  }

  otp::Pid pid_of(const std::string& login, std::string_view kind) {
    auto pid = hang_ten::via(login, kind).whereis();
    EXPECT_TRUE(pid.has_value()) << login << "_" << kind;
    return pid.value_or(otp::Pid{});
  }
  int stashed(const std::string& login) {
    return me.await(hang_ten::Stash::call(hang_ten::via(login, "stash"), hang_ten::Stash::Get{}))
        .request_count;
  }
  // Counts `n` requests and crashes the Server, whose terminate stashes the count.
  void stash_count(const std::string& login, int n) {
    for (int i = 0; i < n; ++i) hang_ten::count_request(login);
    EXPECT_THROW(me.await(hang_ten::boom(login)), otp::ExitError);
    rt.run_until_idle();
    EXPECT_EQ(stashed(login), n);
  }
};

TEST_P(Kills, AThousandKillsRestartOnlyWhatWasKilled) {
  for (const char* login : {"eric", "jose"}) ASSERT_TRUE(me.await(hang_ten::create(login)).ok());
  stash_count("jose", 3);
  stash_count("eric", 2);
  const std::array<std::string_view, 5> kinds{"sup", "stash", "timer", "subsup", "server"};
  std::array<otp::Pid, 5> jose;
  for (std::size_t k = 0; k < kinds.size(); ++k) jose[k] = pid_of("jose", kinds[k]);
  const auto sessions = rt.process_count();

  for (int i = 0; i < 1000; ++i) {
    const std::string_view victim =
        std::array<std::string_view, 3>{"server", "subsup", "sup"}[i % 3];
    const otp::Pid stash = pid_of("eric", "stash");
    otp::exit(pid_of("eric", victim), otp::Reason::kill());
    rt.run_until_idle();
    ASSERT_EQ(rt.process_count(), sessions) << "kill " << i << " of eric_" << victim;
    if (victim == "sup") {
      EXPECT_NE(pid_of("eric", "stash"), stash);  // a new session
      EXPECT_EQ(stashed("eric"), 0);
      stash_count("eric", 2);
    } else {
      ASSERT_EQ(pid_of("eric", "stash"), stash) << "kill " << i << " of eric_" << victim;
      EXPECT_EQ(me.await(hang_ten::show("eric")).request_count,
                2);  // the new Server read the Stash
    }
    rt.advance(2s);  // spaced so that no supervisor restarts more than 3 children in 5 s
  }

  for (std::size_t k = 0; k < kinds.size(); ++k)
    EXPECT_EQ(pid_of("jose", kinds[k]), jose[k]) << kinds[k];
  EXPECT_EQ(me.await(hang_ten::show("jose")).request_count, 3);
  EXPECT_FALSE(logs.contains("already_started"));
  EXPECT_FALSE(logs.contains("reached_max_restart_intensity"));
  EXPECT_FALSE(logs.contains("start_error"));
}

// A free port below the kernel's ephemeral range (32768 and up on Linux): no other process's
// connect or bind to port 0 takes it in the moment it is free between two listeners.
std::uint16_t free_port() {
  std::mt19937 rng(std::random_device{}());
  for (;;) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    at.sin_port =
        htons(static_cast<std::uint16_t>(std::uniform_int_distribution<int>(20000, 32000)(rng)));
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0;
    close(fd);
    if (free) return ntohs(at.sin_port);
  }
}

// The listener, killed with every reason the observer offers, a thousand times on its own port:
// each restart binds the port again (the old listening socket is closed by the time the
// supervisor hears of the exit), the API answers after every kill, and no supervisor gives up.
TEST_P(Kills, TheApiAnswersAfterEachOfAThousandKillsOfTheListener) {
  otp::http::Options http;
  http.port = free_port();
  auto started = me.await(otp::Supervisor::start_child(
      hang_ten::Application::name,
      otp::child<hang_ten::Service>(http, otp::observer::WebOptions{})));
  ASSERT_TRUE(started.ok()) << started.to_string();
  const std::array<otp::Reason, 4> reasons{otp::Reason::kill(), otp::Reason::shutdown(),
                                           otp::Reason::other("boom"),
                                           otp::Reason::shutdown("restart")};
  for (int i = 0; i < 1000; ++i) {
    const otp::Pid before = otp::whereis(hang_ten::Service::name).value();
    otp::exit(before, reasons[i % reasons.size()]);
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    std::optional<otp::Pid> after;
    while (!(after = otp::whereis(hang_ten::Service::name)) || *after == before) {
      ASSERT_LT(std::chrono::steady_clock::now(), give_up)
          << "kill " << i << " (" << reasons[i % reasons.size()].to_string()
          << "): no listener came back";
      std::this_thread::sleep_for(100us);
    }
    // Its name is taken before its init listens: a call is answered once init is done.
    auto port = me.await(otp::http::Server::port(*after));
    ASSERT_TRUE(port.ok()) << "after kill " << i << ": " << port.reason().to_string();
    ASSERT_EQ(port.value(), http.port);
    otp::testing::HttpClient client("127.0.0.1", http.port);
    ASSERT_EQ(client.get("/healthz").status, 200) << "after kill " << i;
    rt.advance(2s);  // spaced so that the application's supervisor stays within 3 restarts in 5 s
  }
  EXPECT_FALSE(logs.contains("eaddrinuse"));
  EXPECT_FALSE(logs.contains("reached_max_restart_intensity"));
}

INSTANTIATE_TEST_SUITE_P(Threads, Kills, ::testing::Values(1u, 2u),
                         [](const auto& info) { return fmt::format("{}Threads", info.param); });

}  // namespace
