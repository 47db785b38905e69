// otp::net TCP sockets: modes, ownership, errors, and lifetimes that follow
// processes. Loopback only, on ephemeral ports.
#include "otp/net/tcp.hpp"

#include <atomic>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

using otp_test::await_down;
using otp_test::Go;
using otp_test::kWait;
using otp_test::Never;

namespace otp {
// Readable failures: `econnrefused`, not the bytes of a Reason.
inline void PrintTo(const Reason& r, std::ostream* os) { *os << r.to_string(); }
}  // namespace otp

namespace net = otp::net;
using namespace std::chrono_literals;

namespace {

struct Port {
  std::uint16_t port;
};
struct Handoff {
  net::Socket socket;
};
struct Report {
  std::string text;
};

// Both ends of a loopback connection, owned by `me`.
struct Pair {
  net::Listener listener;
  net::Socket a;  // connected
  net::Socket b;  // accepted
};

Pair make_pair(otp::Scoped& me) {
  Pair p;
  auto l = net::listen(0);
  EXPECT_TRUE(l.ok()) << l.to_string();
  p.listener = l.value();
  auto a = me.await(net::connect("127.0.0.1", p.listener.port(), kWait));
  EXPECT_TRUE(a.ok()) << a.to_string();
  auto b = me.await(net::accept(p.listener, kWait));
  EXPECT_TRUE(b.ok()) << b.to_string();
  p.a = a.value();
  p.b = b.value();
  return p;
}

std::string recv_all(otp::Scoped& me, const net::Socket& s, std::size_t n) {
  auto r = me.await(net::recv(s, n, kWait));
  EXPECT_TRUE(r.ok()) << r.to_string();
  return r.ok() ? r.value() : std::string{};
}

template <class F>
bool wait_until(F f) {
  const auto until = std::chrono::steady_clock::now() + kWait;
  while (!f()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// The bytes an active-once socket held when the hook (net::set_held_hook) last saw it; the
// hook is set for one test's life.
std::atomic<std::size_t> held_bytes{0};
struct WatchHeld {
  WatchHeld() {
    held_bytes = 0;
    net::set_held_hook([](const net::Socket&, std::size_t held, bool) { held_bytes = held; });
  }
  ~WatchHeld() { net::set_held_hook(nullptr); }
  WatchHeld(const WatchHeld&) = delete;
  WatchHeld& operator=(const WatchHeld&) = delete;
};

std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
  }
  return n;
}

// A connection process: echoes in active-once mode until the peer closes.
otp::Co<void> echo_connection() {
  auto handoff = co_await otp::receive<Handoff>();
  net::Socket s = handoff.socket;
  net::setopts(s, net::active::once);
  for (bool open = true; open;) {
    co_await otp::receive(
        [&](net::Tcp t) {
          net::send(s, std::move(t.data));
          net::setopts(s, net::active::once);
        },
        [&](net::TcpClosed) { open = false; });
  }
}

// A listener process: an accept loop handing each socket to a connection process.
otp::Co<void> echo_listener(otp::Pid report_to) {
  auto l = net::listen(0);
  if (!l) otp::exit(l.reason());
  otp::send(report_to, Port{l->port()});
  for (;;) {
    auto s = co_await net::accept(l.value());
    if (!s) otp::exit(s.reason());
    otp::Pid worker = otp::spawn_link(echo_connection);
    auto moved = net::controlling_process(s.value(), worker);
    if (!moved) otp::exit(moved.reason());
    otp::send(worker, Handoff{s.value()});
  }
}

}  // namespace

TEST(Tcp, EchoThroughAListenerAndConnectionProcesses) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Pid server = rt.spawn(echo_listener, me.pid());
  auto port = me.receive<Port>(kWait);
  ASSERT_TRUE(port);
  for (int i = 0; i < 3; ++i) {
    auto c = me.await(net::connect("127.0.0.1", port->port, kWait));
    ASSERT_TRUE(c.ok()) << c.to_string();
    const std::string text = "hello " + std::to_string(i);
    ASSERT_TRUE(net::send(c.value(), text));
    EXPECT_EQ(recv_all(me, c.value(), text.size()), text);
    net::close(c.value());
  }
  otp::Ref ref = me.monitor(server);
  otp::exit(server, otp::Reason::shutdown());
  ASSERT_TRUE(await_down(me, ref));
}

TEST(Tcp, PassiveRecvOfExactlyNJoinsPacketsAndSplitsThem) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto p = make_pair(me);
  // One reply split over many packets.
  for (const char* part : {"ab", "cd", "ef"}) ASSERT_TRUE(net::send(p.b, part));
  EXPECT_EQ(recv_all(me, p.a, 6), "abcdef");
  // Many replies in one packet.
  ASSERT_TRUE(net::send(p.b, "1234567890"));
  EXPECT_EQ(recv_all(me, p.a, 3), "123");
  EXPECT_EQ(recv_all(me, p.a, 3), "456");
  EXPECT_EQ(recv_all(me, p.a, 4), "7890");
}

TEST(Tcp, PassiveRecvOfZeroReturnsWhatIsAvailable) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto p = make_pair(me);
  ASSERT_TRUE(net::send(p.b, "xyz"));
  std::string got;
  while (got.size() < 3) {
    std::string part = recv_all(me, p.a, 0);
    ASSERT_FALSE(part.empty());
    got += part;
  }
  EXPECT_EQ(got, "xyz");
}

TEST(Tcp, ActiveOnceHoldsAtMostOneMessageInTheOwnersMailbox) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto p = make_pair(me);
  std::string sent;
  for (int i = 0; i < 50; ++i) {
    std::string chunk(100, static_cast<char>('a' + i % 26));
    sent += chunk;
    ASSERT_TRUE(net::send(p.b, chunk));
  }
  std::string got;
  ASSERT_TRUE(net::setopts(p.a, net::active::once));
  auto first = me.receive<net::Tcp>(kWait);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->socket, p.a);
  got += first->data;
  // Passive again: nothing more arrives until the owner re-arms, and recv works.
  EXPECT_EQ(me.mailbox_size(), 0u);
  if (got.size() < sent.size()) got += recv_all(me, p.a, sent.size() - got.size());
  EXPECT_EQ(got, sent);

  // A slow owner re-arming after each message never holds more than one.
  ASSERT_TRUE(net::send(p.b, std::string(200'000, 'z')));
  std::size_t received = 0;
  while (received < 200'000) {
    ASSERT_TRUE(net::setopts(p.a, net::active::once));
    auto t = me.receive<net::Tcp>(kWait);
    ASSERT_TRUE(t);
    received += t->data.size();
    EXPECT_EQ(me.mailbox_size(), 0u);
  }
  EXPECT_EQ(received, 200'000u);
}

// Between active-once messages the socket keeps reading, but holds what it
// reads: a re-arm delivers it, and the end read meanwhile follows it.
TEST(Tcp, ActiveOnceReArmDeliversWhatWasReadMeanwhileThenTheEnd) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  WatchHeld watch;
  auto p = make_pair(me);
  ASSERT_TRUE(net::setopts(p.a, net::active::once));
  ASSERT_TRUE(net::send(p.b, "one"));
  auto first = me.receive<net::Tcp>(kWait);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->data, "one");
  ASSERT_TRUE(net::send(p.b, "two"));
  net::close(p.b);
  // Not re-armed yet: the socket reads "two" and holds it (reading no more until the re-arm).
  ASSERT_TRUE(wait_until([] { return held_bytes == 3; }));
  EXPECT_EQ(me.mailbox_size(), 0u);
  std::string got;
  while (got.size() < 3) {
    ASSERT_TRUE(net::setopts(p.a, net::active::once));
    auto t = me.receive<net::Tcp>(kWait);
    ASSERT_TRUE(t);
    got += t->data;
  }
  EXPECT_EQ(got, "two");
  EXPECT_EQ(me.mailbox_size(), 0u);
  ASSERT_TRUE(net::setopts(p.a, net::active::once));
  EXPECT_TRUE(me.receive<net::TcpClosed>(kWait));
}

// A passive recv after an active-once message gets what was held, in order.
TEST(Tcp, PassiveRecvAfterActiveOnceGetsWhatWasHeld) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  WatchHeld watch;
  auto p = make_pair(me);
  ASSERT_TRUE(net::setopts(p.a, net::active::once));
  ASSERT_TRUE(net::send(p.b, "a"));
  auto first = me.receive<net::Tcp>(kWait);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->data, "a");
  ASSERT_TRUE(net::send(p.b, "bcd"));
  ASSERT_TRUE(wait_until([] { return held_bytes == 3; }));  // held: "bcd"
  ASSERT_TRUE(net::send(p.b, "efg"));
  EXPECT_EQ(recv_all(me, p.a, 6), "bcdefg");
  ASSERT_TRUE(net::setopts(p.a, net::active::once));
  ASSERT_TRUE(net::send(p.b, "h"));
  auto last = me.receive<net::Tcp>(kWait);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->data, "h");
}

TEST(Tcp, ActiveNSendsTcpPassiveAfterNMessages) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto p = make_pair(me);
  ASSERT_TRUE(net::setopts(p.a, net::active::n(2)));
  ASSERT_TRUE(net::setopts(p.a, net::active::n(1)));  // adds: 3 in all
  for (const char* part : {"one", "two", "three"}) {
    ASSERT_TRUE(net::send(p.b, part));
    auto t = me.receive<net::Tcp>(kWait);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->data, part);
  }
  auto passive = me.receive<net::TcpPassive>(kWait);
  ASSERT_TRUE(passive);
  EXPECT_EQ(passive->socket, p.a);
  EXPECT_EQ(me.mailbox_size(), 0u);
  ASSERT_TRUE(net::send(p.b, "four"));
  EXPECT_EQ(recv_all(me, p.a, 4), "four");  // passive: recv is allowed
}

TEST(Tcp, ActiveOnDeliversEverythingThenTcpClosed) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto p = make_pair(me);
  ASSERT_TRUE(net::setopts(p.a, net::active::on));
  ASSERT_TRUE(net::send(p.b, "abc"));
  ASSERT_TRUE(net::send(p.b, "def"));
  net::close(p.b);  // queued bytes are written first
  std::string got;
  bool closed = false;
  while (!closed) {
    auto m = me.receive<net::Tcp>(kWait);
    if (m) {
      got += m->data;
      if (got == "abcdef") closed = me.receive<net::TcpClosed>(kWait).has_value();
    } else {
      break;
    }
  }
  EXPECT_EQ(got, "abcdef");
  EXPECT_TRUE(closed);
  auto r = net::send(p.a, "late");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.reason(), net::error("closed"));
}

TEST(Tcp, ManyProcessesWaitInRecvOnOneSchedulerThread) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto l = net::listen(0);
  ASSERT_TRUE(l);
  const std::uint16_t port = l->port();
  constexpr int n = 100;
  for (int i = 0; i < n; ++i) {
    rt.spawn([to = me.pid(), port]() -> otp::Co<void> {
      auto s = co_await net::connect("127.0.0.1", port, kWait);
      if (!s) otp::exit(s.reason());
      otp::send(to, Go{});
      auto r = co_await net::recv(s.value(), 4);  // waits, holding no thread
      otp::send(to, Report{r ? r.value() : r.to_string()});
    });
  }
  std::vector<net::Socket> peers;
  for (int i = 0; i < n; ++i) {
    auto s = me.await(net::accept(l.value(), kWait));
    ASSERT_TRUE(s);
    peers.push_back(s.value());
    ASSERT_TRUE(me.receive<Go>(kWait));
  }
  for (auto& p : peers) ASSERT_TRUE(net::send(p, "done"));
  for (int i = 0; i < n; ++i) {
    auto r = me.receive<Report>(kWait);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->text, "done");
  }
}

TEST(Tcp, RecvInActiveModeIsRefused) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto p = make_pair(me);
  ASSERT_TRUE(net::setopts(p.a, net::active::once));
  auto r = me.await(net::recv(p.a, 0, kWait));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.reason(), net::error("einval"));
}

TEST(Tcp, OwnerKilledMidReadClosesTheSocket) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto l = net::listen(0);
  ASSERT_TRUE(l);
  const std::uint16_t port = l->port();
  auto [pid, ref] = otp_test::spawn_monitored(me, [to = me.pid(), port]() -> otp::Co<void> {
    auto s = co_await net::connect("127.0.0.1", port, kWait);
    if (!s) otp::exit(s.reason());
    otp::send(to, Go{});
    co_await net::recv(s.value(), 10);  // waits for ever
  });
  auto peer = me.await(net::accept(l.value(), kWait));
  ASSERT_TRUE(peer);
  ASSERT_TRUE(me.receive<Go>(kWait));
  otp::exit(pid, otp::Reason::kill());
  auto down = await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::killed());
  // The exit hook ran before the Down: the dead owner's socket is already gone.
  EXPECT_EQ(net::open_sockets(), 2u);  // the listener and the peer
  auto r = me.await(net::recv(peer.value(), 0, kWait));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.reason(), net::error("closed"));  // the peer saw EOF
}

// As a port closes with its owner in Erlang: by the time a listener's owner is seen to exit
// (here, by a monitor), its port is free, so a restart can always bind it again.
// A free port below the kernel's ephemeral range (32768 and up on Linux): no other process's
// connect or listen(0) takes it in the moment it is free between two listeners, as one did under
// `ctest -j2` with port 0's choice.
std::uint16_t port_outside_the_ephemeral_range() {
  std::mt19937 rng(std::random_device{}());
  for (;;) {
    const auto port =
        static_cast<std::uint16_t>(std::uniform_int_distribution<int>(20000, 32000)(rng));
    if (auto l = net::listen(port)) {
      net::close(l.value());
      return port;
    }
  }
}

TEST(Tcp, AListenersPortIsFreeWhenItsOwnersExitIsSeen) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  const std::uint16_t port = port_outside_the_ephemeral_range();
  const otp::Reason reasons[] = {otp::Reason::kill(), otp::Reason::shutdown(),
                                 otp::Reason::other("boom"), otp::Reason::normal()};
  for (int i = 0; i < 1000; ++i) {
    const otp::Reason& reason = reasons[i % 4];
    auto [pid, ref] = otp_test::spawn_monitored(me, [to = me.pid(), port]() -> otp::Co<void> {
      auto l = net::listen(port);
      if (!l) otp::exit(l.reason());
      otp::send(to, Port{l->port()});
      co_await net::accept(l.value());  // waits for ever
    });
    auto bound = me.receive<Port>(kWait);
    if (!bound) {
      auto down = await_down(me, ref);
      FAIL() << "listen failed in round " << i << ": "
             << (down ? down->reason.to_string() : std::string("(still running)"));
    }
    ASSERT_EQ(bound->port, port);
    // A normal exit signal does not end a process that does not trap exits: it exits by itself.
    otp::exit(pid, reason == otp::Reason::normal() ? otp::Reason::other("normal_end") : reason);
    ASSERT_TRUE(await_down(me, ref));
    auto again = net::listen(port);
    ASSERT_TRUE(again) << "round " << i << ": " << again.reason().to_string();
    net::close(again.value());  // as gen_tcp:close, the port is free when close returns
  }
}

TEST(Tcp, OwnersKilledMidConnectLeaveNothingOpen) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto l = net::listen(0);
  ASSERT_TRUE(l);
  const std::uint16_t port = l->port();
  std::vector<otp::Ref> refs;
  for (int i = 0; i < 50; ++i) {
    auto [pid, ref] = otp_test::spawn_monitored(me, [port]() -> otp::Co<void> {
      auto s = co_await net::connect("127.0.0.1", port, kWait);
      co_await otp::receive<Never>();
    });
    refs.push_back(ref);
    otp::exit(pid, otp::Reason::kill());  // before, during or after its connect
  }
  for (otp::Ref ref : refs) ASSERT_TRUE(await_down(me, ref));
  EXPECT_EQ(net::open_sockets(), 1u);  // the listener
  // Every connection that got through is closed: its accepted end reads EOF.
  for (;;) {
    auto s = me.await(net::accept(l.value(), 200ms));
    if (!s) {
      EXPECT_EQ(s.reason(), net::error("timeout"));
      break;
    }
    auto r = me.await(net::recv(s.value(), 0, kWait));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.reason(), net::error("closed"));
    net::close(s.value());
  }
}

TEST(Tcp, ConnectToAClosedPortIsRefused) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  // A port bound by a socket that does not listen: the kernel refuses every connection to it for
  // as long as the socket stays open (a closed listener's port could be taken again meanwhile).
  const int bound = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(bound, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(bound, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(bound, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::uint16_t port = ntohs(addr.sin_port);
  auto s = me.await(net::connect("127.0.0.1", port, kWait));
  ::close(bound);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.reason(), net::error("econnrefused"));
  EXPECT_EQ(s.to_string(), "{error, econnrefused}");
  EXPECT_EQ(net::open_sockets(), 0u);
}

// ".invalid" never resolves (RFC 2606); a resolver that cannot be reached says the same.
TEST(Tcp, ConnectToAnUnknownHostSaysNxdomain) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  auto s = me.await(net::connect("no-such-host.invalid", 80, 60s));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.reason(), net::error("nxdomain"));
  EXPECT_EQ(net::open_sockets(), 0u);
}

TEST(Tcp, AcceptAndRecvTimeOut) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto p = make_pair(me);
  auto s = me.await(net::accept(p.listener, 20ms));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.reason(), net::error("timeout"));

  ASSERT_TRUE(net::send(p.b, "ab"));
  auto r = me.await(net::recv(p.a, 5, 20ms));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.reason(), net::error("timeout"));
  ASSERT_TRUE(net::send(p.b, "cde"));
  EXPECT_EQ(recv_all(me, p.a, 5), "abcde");  // what was read before the timeout stays
}

TEST(Tcp, ControllingProcessMovesDeliveryAndRefusesNonOwners) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto p = make_pair(me);
  otp::Pid other = rt.spawn([to = me.pid()]() -> otp::Co<void> {
    auto h = co_await otp::receive<Handoff>();
    // Not the owner yet: refused.
    auto refused = net::controlling_process(h.socket, otp::self());
    otp::send(to, Report{refused.to_string()});
    co_await otp::receive<Go>();
    auto before = co_await otp::receive<net::Tcp>();  // moved from the old owner's mailbox
    net::setopts(h.socket, net::active::once);
    auto after = co_await otp::receive<net::Tcp>();  // delivered here directly
    otp::send(to, Report{before.data + "|" + after.data});
    co_await otp::receive<Never>();
  });
  otp::send(other, Handoff{p.a});
  auto refused = me.receive<Report>(kWait);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->text, "{error, not_owner}");

  ASSERT_TRUE(net::setopts(p.a, net::active::once));
  ASSERT_TRUE(net::send(p.b, "before"));
  ASSERT_TRUE(wait_until([&] { return me.mailbox_size() == 1; }));
  ASSERT_TRUE(net::controlling_process(p.a, other));
  EXPECT_EQ(me.mailbox_size(), 0u);
  otp::send(other, Go{});
  ASSERT_TRUE(net::send(p.b, "after"));
  auto both = me.receive<Report>(kWait);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->text, "before|after");

  // The former owner may no longer give it away or read it.
  EXPECT_EQ(net::controlling_process(p.a, me.pid()).reason(), net::error("not_owner"));
  EXPECT_EQ(me.await(net::recv(p.a, 0, kWait)).reason(), net::error("not_owner"));
  // Nor can a socket go to a process that is not alive.
  otp::Ref ref = me.monitor(other);
  otp::exit(other, otp::Reason::kill());
  ASSERT_TRUE(await_down(me, ref));
  EXPECT_EQ(net::controlling_process(p.b, other).reason(), net::error("badarg"));
  EXPECT_TRUE(net::send(p.b, "still mine"));
}

// A send writes directly while nothing is queued; what the kernel does not
// take goes to the IO thread, and later sends queue behind it.
TEST(Tcp, SendsKeepTheirOrderAcrossDirectAndQueuedWrites) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  Pair p = make_pair(me);
  std::string expected;
  std::string big(4 << 20, '\0');  // more than the kernel's buffers take at once
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 251);
  expected += big;
  ASSERT_TRUE(net::send(p.a, std::move(big)));
  for (int i = 0; i < 1000; ++i) {
    std::string small = std::to_string(i) + ";";
    expected += small;
    ASSERT_TRUE(net::send(p.a, std::move(small)));
  }
  net::close(p.a);  // after the queued bytes are written
  EXPECT_EQ(recv_all(me, p.b, expected.size()), expected);
  auto end = me.await(net::recv(p.b, 0, kWait));
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.reason(), net::error("closed"));
  // Once the queue drained, sends write directly again.
  Pair q = make_pair(me);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(net::send(q.a, "ping" + std::to_string(i)));
    EXPECT_EQ(recv_all(me, q.b, 4 + std::to_string(i).size()), "ping" + std::to_string(i));
    EXPECT_EQ(net::queued_bytes(q.a), 0u);
  }
}

TEST(Tcp, SendBeyondTheLimitIsRefusedNotQueued) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto l = net::listen(0);
  ASSERT_TRUE(l);
  auto a = me.await(net::connect("127.0.0.1", l->port(), kWait, {.send_limit = 1024}));
  ASSERT_TRUE(a);
  auto b = me.await(net::accept(l.value(), kWait));
  ASSERT_TRUE(b);
  // The peer does not read: the kernel's buffers fill, then the queue, then send refuses.
  for (int i = 0; i < 100'000; ++i) {
    auto r = net::send(a.value(), std::string(1024, 'x'));
    if (!r) {
      EXPECT_EQ(r.reason(), net::error("enobufs"));
      EXPECT_LE(net::queued_bytes(a.value()), 2048u);
      return;
    }
  }
  ADD_FAILURE() << "100 MB were queued without a refusal";
}

TEST(Tcp, RuntimeShutdownClosesSocketsAndStopsItsIoThread) {
  net::Socket kept;
  const std::size_t fds_before = open_fds();
  for (int i = 0; i < 20; ++i) {
    otp::Runtime rt({.threads = 2});
    otp::Scoped me(rt);
    auto p = make_pair(me);
    ASSERT_TRUE(net::send(p.a, "x"));
    kept = p.a;
  }
  EXPECT_EQ(open_fds(), fds_before);  // sockets, epoll and eventfd all closed
  // A handle that outlived its runtime answers `closed`.
  auto r = net::send(kept, "late");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.reason(), net::error("closed"));
}

TEST(Tcp, SocketCallsOutsideAProcessAreRefused) { EXPECT_THROW(net::listen(0), std::logic_error); }
