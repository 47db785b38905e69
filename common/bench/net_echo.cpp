// net_echo — TCP echo over loopback through otp::net, against a baseline of
// blocking sockets with a thread per connection (no runtime, no IO thread).
//
// Usage: net_echo [round_trips=20000] [clients=8] [threads=2] [bytes=64] [only=all|otp]
// (only=otp: the otp::net runs alone, for perf stat's counts).
// Prints:
//   RESULT net_echo rtt_us <mean round trip, one client>        (otp::net)
//   RESULT net_echo_baseline rtt_us <same, blocking sockets>
//   RESULT net_echo msgs_per_s <round trips per second, all clients together>
//   RESULT net_echo_baseline msgs_per_s <same, blocking sockets>
//   RESULT net_idle cpu_ms <CPU used in 1 s by an idle runtime holding 2*clients sockets>
// The echo server is a listener process that hands each connection to a
// process of its own (active-once mode); a client is a process in passive mode.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <sys/resource.h>

#include "otp/net/tcp.hpp"
#include "otp/otp.hpp"

namespace net = otp::net;
using Clock = std::chrono::steady_clock;

namespace {

struct Port {
  std::uint16_t port;
};
struct Handoff {
  net::Socket socket;
};
struct Done {};

otp::Co<void> connection() {
  auto h = co_await otp::receive<Handoff>();
  net::setopts(h.socket, net::active::once);
  for (bool open = true; open;) {
    co_await otp::receive(
        [&](net::Tcp t) {
          net::send(h.socket, std::move(t.data));
          net::setopts(h.socket, net::active::once);
        },
        [&](net::TcpClosed) { open = false; });
  }
}

otp::Co<void> listener(otp::Pid report_to) {
  auto l = net::listen(0);
  if (!l) otp::exit(l.reason());
  otp::send(report_to, Port{l->port()});
  for (;;) {
    auto s = co_await net::accept(l.value());
    if (!s) otp::exit(s.reason());
    otp::Pid c = otp::spawn_link(connection);
    net::controlling_process(s.value(), c);
    otp::send(c, Handoff{s.value()});
  }
}

otp::Co<void> client(otp::Pid report_to, std::uint16_t port, int round_trips, std::size_t bytes) {
  auto s = co_await net::connect("127.0.0.1", port);
  if (!s) otp::exit(s.reason());
  const std::string payload(bytes, 'x');
  for (int i = 0; i < round_trips; ++i) {
    net::send(s.value(), payload);
    auto r = co_await net::recv(s.value(), bytes);
    if (!r) otp::exit(r.reason());
  }
  otp::send(report_to, Done{});
  co_await otp::receive<Done>();  // keeps the socket open (the idle measurement)
}

double cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

// otp::net: seconds for `clients` clients doing `round_trips` each.
double run_otp(otp::Runtime& rt, otp::Scoped& me, std::uint16_t port, int clients, int round_trips,
               std::size_t bytes, std::vector<otp::Pid>& pids) {
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c)
    pids.push_back(rt.spawn(client, me.pid(), port, round_trips, bytes));
  for (int c = 0; c < clients; ++c) me.receive<Done>();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Blocking sockets, a thread per connection on both sides.
double run_baseline(int clients, int round_trips, std::size_t bytes) {
  namespace asio = boost::asio;
  using asio::ip::tcp;
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    std::vector<std::thread> servers;
    for (int c = 0; c < clients; ++c) {
      auto s = std::make_shared<tcp::socket>(acceptor.accept());
      s->set_option(tcp::no_delay(true));
      servers.emplace_back([s, bytes] {
        std::string buf(bytes, '\0');
        boost::system::error_code ec;
        while (asio::read(*s, asio::buffer(buf), ec) == bytes && !ec)
          asio::write(*s, asio::buffer(buf), ec);
      });
    }
    for (auto& t : servers) t.join();
  });
  const auto start = Clock::now();
  std::vector<std::thread> cs;
  for (int c = 0; c < clients; ++c) {
    cs.emplace_back([&] {
      tcp::socket s(ioc);
      s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
      s.set_option(tcp::no_delay(true));
      std::string buf(bytes, 'x');
      for (int i = 0; i < round_trips; ++i) {
        asio::write(s, asio::buffer(buf));
        asio::read(s, asio::buffer(buf));
      }
    });
  }
  for (auto& t : cs) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& t : threads) t.join();
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  const int round_trips = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int clients = argc > 2 ? std::atoi(argv[2]) : 8;
  const unsigned threads = argc > 3 ? static_cast<unsigned>(std::atoi(argv[3])) : 2;
  const std::size_t bytes = argc > 4 ? static_cast<std::size_t>(std::atoi(argv[4])) : 64;
  const bool baselines = !(argc > 5 && std::string(argv[5]) == "otp");

  otp::Runtime rt({.threads = threads});
  otp::Scoped me(rt);
  rt.spawn(listener, me.pid());
  const std::uint16_t port = me.receive<Port>().port;

  std::vector<otp::Pid> pids;
  const double one = run_otp(rt, me, port, 1, round_trips, bytes, pids);
  std::printf("RESULT net_echo rtt_us %.2f us\n", one / round_trips * 1e6);
  if (baselines) {
    const double base_one = run_baseline(1, round_trips, bytes);
    std::printf("RESULT net_echo_baseline rtt_us %.2f us\n", base_one / round_trips * 1e6);
  }

  const double many = run_otp(rt, me, port, clients, round_trips, bytes, pids);
  std::printf("RESULT net_echo msgs_per_s %.0f msg/s (%d clients)\n", clients * round_trips / many,
              clients);
  if (baselines) {
    const double base_many = run_baseline(clients, round_trips, bytes);
    std::printf("RESULT net_echo_baseline msgs_per_s %.0f msg/s (%d clients)\n",
                clients * round_trips / base_many, clients);
  }

  // Idle: every client and connection process is waiting, its socket open.
  const double before = cpu_ms();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::printf("RESULT net_idle cpu_ms %.2f ms (in 1 s, %zu sockets open)\n", cpu_ms() - before,
              pids.size() * 2);
  for (const otp::Pid& p : pids) otp::send(p, Done{});
  return 0;
}
