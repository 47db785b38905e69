// otp::dist::Node against real Erlang nodes and against itself: each test starts its own epmd
// (on a free port) and its own `erl` nodes, on 127.0.0.1, and stops them by pid.
#include "otp/dist/node.hpp"

#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dist/beam.hpp"
#include "otp/dist/etf.hpp"
#include "otp/otp.hpp"
#include "test_support.hpp"

namespace dist = otp::dist;
using dist_test::EpmdServer;
using dist_test::ErlNode;
using otp_test::kWait;
using namespace std::chrono_literals;

namespace {

constexpr const char* test_cookie = "hangten_cookie";

dist::NodeOptions options(const EpmdServer& epmd, std::string name = "cpp@127.0.0.1",
                          std::string cookie = test_cookie) {
  dist::NodeOptions o;
  o.name = std::move(name);
  o.cookie = std::move(cookie);
  o.epmd.port = epmd.port();
  return o;
}

dist::Node start(otp::Scoped& me, dist::NodeOptions o) {
  auto node = me.await(dist::Node::start_link(std::move(o)));
  if (!node.ok()) throw std::runtime_error("node did not start: " + node.to_string());
  return node.value();
}

// Erlang code that waits (up to 20 s) until `node` is in nodes(), then prints `text`.
std::string when_connected(const std::string& node, const std::string& text) {
  return "Wait = fun W(0) -> timeout; W(N) -> case lists:member('" + node +
         "', nodes()) of true -> ok; false -> timer:sleep(20), W(N - 1) end end, "
         "io:format(\"" +
         text + "~p~n\", [Wait(1000)])";
}

// A REG_SEND frame to `name` on the node, from a pid of `from_node`: the pass-through byte, the
// control message, the message, each as term_to_binary writes it.
std::string reg_send_frame(const std::string& from_node, const std::string& name,
                           const otp::Term& message) {
  const otp::ExternalPid from{from_node, 1, 0, 1};
  return "p" +
         otp::etf::encode(otp::Term::tuple(
             {6, otp::Term::pid(from), otp::Term::atom(""), otp::Term::atom(name)})) +
         otp::etf::encode(message);
}

// `bytes` with its 4-byte length in front, as a connection frames it.
std::string framed(const std::string& bytes) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[3 - i] = static_cast<char>((bytes.size() >> (8 * i)) & 0xff);
  return out + bytes;
}

}  // namespace

TEST(Node, RegistersWithEpmdUnderItsName) {
  EpmdServer epmd;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));
  EXPECT_EQ(node.name(), "cpp@127.0.0.1");
  EXPECT_NE(node.creation(), 0U);
  const std::string names = epmd.names();
  EXPECT_NE(names.find("name cpp at port " + std::to_string(node.port())), std::string::npos)
      << names;
}

TEST(Node, StartFailsWithoutEpmd) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  dist::NodeOptions o;
  o.name = "cpp@127.0.0.1";
  o.cookie = test_cookie;
  o.epmd.port = dist_test::free_port();  // nothing listens there
  auto node = me.await(dist::Node::start_link(std::move(o)));
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.reason().to_string(), "econnrefused");
}

TEST(Node, StartRefusesANameWithoutHost) {
  EpmdServer epmd;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = me.await(dist::Node::start_link(options(epmd, "cpp")));
  ASSERT_FALSE(node.ok());
  EXPECT_NE(node.reason().to_string().find("invalid_node_name"), std::string::npos);
}

TEST(Node, ErlangNodeConnectsToUs) {
  EpmdServer epmd;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));
  me.await(dist::monitor_nodes(node));
  ErlNode erl(epmd, "erl@127.0.0.1", test_cookie,
              "R = net_kernel:connect_node('cpp@127.0.0.1'), io:format(\"connect=~p~n\", [R]), "
              "io:format(\"nodes=~p~n\", [nodes()])");
  EXPECT_TRUE(erl.wait_for_output("connect=true")) << erl.output();
  EXPECT_TRUE(erl.wait_for_output("nodes=['cpp@127.0.0.1']")) << erl.output();
  auto up = me.receive<dist::NodeUp>(kWait);
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->node, "erl@127.0.0.1");
  EXPECT_EQ(me.await(dist::nodes(node)), std::vector<std::string>{"erl@127.0.0.1"});
}

TEST(Node, WeConnectToAnErlangNode) {
  EpmdServer epmd;
  ErlNode erl(epmd, "erl@127.0.0.1", test_cookie,
              "io:format(\"ready~n\"), " + when_connected("cpp@127.0.0.1", "sees cpp: "));
  ASSERT_TRUE(erl.wait_for_output("ready")) << erl.output();
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));
  auto connected = me.await(dist::connect_node(node, "erl@127.0.0.1"));
  ASSERT_TRUE(connected.ok()) << connected.to_string();
  EXPECT_TRUE(erl.wait_for_output("sees cpp: ok")) << erl.output();
  EXPECT_EQ(me.await(dist::nodes(node)), std::vector<std::string>{"erl@127.0.0.1"});
  // Connected already: at once.
  EXPECT_TRUE(me.await(dist::connect_node(node, "erl@127.0.0.1")).ok());
}

TEST(Node, ConnectingToAnUnknownNodeFails) {
  EpmdServer epmd;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));
  auto connected = me.await(dist::connect_node(node, "nobody@127.0.0.1"));
  ASSERT_FALSE(connected.ok());
  EXPECT_NE(connected.reason().to_string().find("not_registered"), std::string::npos);
  EXPECT_TRUE(me.await(dist::nodes(node)).empty());
}

TEST(Node, WrongCookieIsRefusedBothWays) {
  EpmdServer epmd;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));
  ErlNode erl(epmd, "erl@127.0.0.1", "another_cookie",
              "R = net_kernel:connect_node('cpp@127.0.0.1'), io:format(\"connect=~p~n\", [R])");
  // Theirs to us: our check of their digest refuses it.
  EXPECT_TRUE(erl.wait_for_output("connect=false")) << erl.output();
  // Ours to them: their check of ours refuses it.
  auto connected = me.await(dist::connect_node(node, "erl@127.0.0.1"));
  EXPECT_FALSE(connected.ok());
  EXPECT_TRUE(me.await(dist::nodes(node)).empty());
}

TEST(Node, KilledErlangNodeIsANodeDown) {
  EpmdServer epmd;
  ErlNode erl(epmd, "erl@127.0.0.1", test_cookie, "io:format(\"ready~n\")");
  ASSERT_TRUE(erl.wait_for_output("ready")) << erl.output();
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));
  ASSERT_TRUE(me.await(dist::connect_node(node, "erl@127.0.0.1")).ok());
  me.await(dist::monitor_node(node, "erl@127.0.0.1"));
  erl.process().stop(SIGKILL);
  auto down = me.receive<dist::NodeDown>(kWait);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->node, "erl@127.0.0.1");
  EXPECT_TRUE(me.await(dist::nodes(node)).empty());
}

TEST(Node, StoppedNodeIsANodeDownForErlangsMonitorNode) {
  EpmdServer epmd;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));
  ErlNode erl(epmd, "erl@127.0.0.1", test_cookie,
              "true = net_kernel:connect_node('cpp@127.0.0.1'), "
              "monitor_node('cpp@127.0.0.1', true), io:format(\"monitoring~n\"), "
              "receive {nodedown, N} -> io:format(\"nodedown ~p~n\", [N]) "
              "after 20000 -> io:format(\"no nodedown~n\") end");
  ASSERT_TRUE(erl.wait_for_output("monitoring")) << erl.output();
  me.await(dist::stop(node));
  EXPECT_TRUE(erl.wait_for_output("nodedown 'cpp@127.0.0.1'")) << erl.output();
  // And the name has left epmd.
  EXPECT_EQ(epmd.names().find("name cpp "), std::string::npos);
}

TEST(Node, MonitorNodeOfAnUnreachableNodeIsANodeDown) {
  EpmdServer epmd;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));
  me.await(dist::monitor_node(node, "nobody@127.0.0.1"));
  auto down = me.receive<dist::NodeDown>(kWait);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->node, "nobody@127.0.0.1");
}

TEST(Node, ErlangPingOfOurNodeIsPong) {
  EpmdServer epmd;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));
  ErlNode erl(epmd, "erl@127.0.0.1", test_cookie,
              "io:format(\"ping=~p~n\", [net_adm:ping('cpp@127.0.0.1')]), "
              "io:format(\"nodes=~p~n\", [nodes()]), "
              "io:format(\"ping_again=~p~n\", [net_adm:ping('cpp@127.0.0.1')]), "
              "io:format(\"absent=~p~n\", [net_adm:ping('absent@127.0.0.1')])");
  EXPECT_TRUE(erl.wait_for_output("ping=pong")) << erl.output();
  EXPECT_TRUE(erl.wait_for_output("nodes=['cpp@127.0.0.1']")) << erl.output();
  EXPECT_TRUE(erl.wait_for_output("ping_again=pong")) << erl.output();
  EXPECT_TRUE(erl.wait_for_output("absent=pang")) << erl.output();
  EXPECT_EQ(me.await(dist::nodes(node)), std::vector<std::string>{"erl@127.0.0.1"});
}

TEST(Node, FramesFromErlangReachTheConsumerDecoded) {
  EpmdServer epmd;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));
  me.await(dist::set_frame_consumer(node, me.pid()));
  ErlNode erl(epmd, "erl@127.0.0.1", test_cookie,
              "true = net_kernel:connect_node('cpp@127.0.0.1'), "
              "{cpp_inbox, 'cpp@127.0.0.1'} ! hangten_probe, io:format(\"sent~n\")");
  ASSERT_TRUE(erl.wait_for_output("sent")) << erl.output();
  // A REG_SEND to cpp_inbox: the pass-through byte, then the control tuple and the message (and,
  // maybe first, the frames of the BEAM's own services, such as global's).
  auto frame = me.receive<dist::Frame>(
      [](const dist::Frame& f) { return f.message == otp::Term::atom("hangten_probe"); }, kWait);
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->node, "erl@127.0.0.1");
  EXPECT_EQ(static_cast<unsigned char>(frame->bytes[0]), 112);
  ASSERT_TRUE(frame->control.is_tuple());
  ASSERT_EQ(frame->control.elements().size(), 4U);
  EXPECT_EQ(frame->control.elements()[0], otp::Term(6));  // REG_SEND
  EXPECT_TRUE(frame->control.elements()[1].is_pid());
  EXPECT_EQ(frame->control.elements()[1].pid().node, "erl@127.0.0.1");
  EXPECT_EQ(frame->control.elements()[3], otp::Term::atom("cpp_inbox"));
  EXPECT_EQ(frame->message, otp::Term::atom("hangten_probe"));
  EXPECT_EQ(me.await(dist::nodes(node)), std::vector<std::string>{"erl@127.0.0.1"});
}

TEST(Node, TwoRuntimesConnectAndExchangeFrames) {
  EpmdServer epmd;
  otp::Runtime rt_a;
  otp::Runtime rt_b;
  std::promise<void> b_ready;
  std::promise<void> test_done;
  std::promise<std::vector<std::string>> b_nodes;
  std::promise<std::optional<dist::Frame>> b_frame;
  std::promise<std::optional<dist::NodeDown>> b_down;
  std::thread b_thread([&] {
    otp::Scoped me_b(rt_b);
    auto b = start(me_b, options(epmd, "b@127.0.0.1"));
    me_b.await(dist::set_frame_consumer(b, me_b.pid()));
    me_b.await(dist::monitor_nodes(b));
    b_ready.set_value();
    auto up = me_b.receive<dist::NodeUp>(kWait);
    b_nodes.set_value(up ? me_b.await(dist::nodes(b)) : std::vector<std::string>{});
    b_frame.set_value(me_b.receive<dist::Frame>(kWait));
    b_down.set_value(me_b.receive<dist::NodeDown>(kWait));
    test_done.get_future().wait();
  });
  b_ready.get_future().wait();
  {
    otp::Scoped me(rt_a);
    auto a = start(me, options(epmd, "a@127.0.0.1"));
    auto connected = me.await(dist::connect_node(a, "b@127.0.0.1"));
    EXPECT_TRUE(connected.ok()) << connected.to_string();
    EXPECT_EQ(me.await(dist::nodes(a)), std::vector<std::string>{"b@127.0.0.1"});
    EXPECT_EQ(b_nodes.get_future().get(), std::vector<std::string>{"a@127.0.0.1"});
    const std::string bytes = reg_send_frame("a@127.0.0.1", "inbox", otp::Term::binary("hello"));
    auto sent = me.await(dist::send_frame(a, "b@127.0.0.1", bytes));
    EXPECT_TRUE(sent.ok()) << sent.to_string();
    auto frame = b_frame.get_future().get();
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(frame->node, "a@127.0.0.1");
    EXPECT_EQ(frame->bytes, bytes);
    EXPECT_EQ(frame->message, otp::Term::binary("hello"));
    me.await(dist::stop(a));
    auto down = b_down.get_future().get();
    ASSERT_TRUE(down.has_value());
    EXPECT_EQ(down->node, "a@127.0.0.1");
  }
  test_done.set_value();
  b_thread.join();
}

TEST(Node, SendFrameWithoutConnectionFails) {
  EpmdServer epmd;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));
  auto sent = me.await(dist::send_frame(node, "nobody@127.0.0.1", "x"));
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.reason().to_string(), "noconnection");
}

// A peer written by hand on a plain socket: the handshake, then silence.
TEST(Node, TicksWhileIdleAndDownWhenThePeerIsSilent) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  dist::NodeOptions o;
  o.name = "cpp@127.0.0.1";
  o.cookie = test_cookie;
  o.register_with_epmd = false;
  o.net_ticktime = 1s;
  auto node = start(me, o);
  me.await(dist::monitor_nodes(node));

  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(node.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval limit{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  auto hs = dist::Handshake::initiate({.name = "quiet@127.0.0.1",
                                       .cookie = test_cookie,
                                       .creation = 1,
                                       .expected_peer = "cpp@127.0.0.1"},
                                      12345);
  std::string after;
  while (hs.state() == dist::Handshake::State::running) {
    const std::string out = hs.take_output();
    if (!out.empty()) {
      ASSERT_EQ(::write(fd, out.data(), out.size()), ssize_t(out.size()));
    }
    char buf[512];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    hs.feed(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  ASSERT_EQ(hs.state(), dist::Handshake::State::done) << hs.error();
  auto up = me.receive<dist::NodeUp>(kWait);
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->node, "quiet@127.0.0.1");
  // The node ticks (zero-length frames) while it has nothing to say.
  std::string ticks = hs.take_rest();
  while (ticks.size() < 8) {
    char buf[64];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    ticks.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(ticks.substr(0, 8), std::string(8, '\0'));
  // We never answer: down after net_ticktime.
  auto down = me.receive<dist::NodeDown>(kWait);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->node, "quiet@127.0.0.1");
  EXPECT_EQ(down->reason.to_string(), "net_tick_timeout");
  ::close(fd);
}

// getenv and setenv of HOME on the test's thread, before the node starts and after it read it.
// NOLINTBEGIN(concurrency-mt-unsafe)
TEST(Node, CookieComesFromTheCookieFile) {
  EpmdServer epmd;
  const std::string home = ::testing::TempDir() + "/dist_home_" + std::to_string(::getpid());
  std::filesystem::create_directories(home);
  { std::ofstream(home + "/.erlang.cookie") << "from_file\n"; }
  const char* old_home = std::getenv("HOME");
  const std::string saved = old_home ? old_home : "";
  ::setenv("HOME", home.c_str(), 1);
  otp::Runtime rt;
  otp::Scoped me(rt);
  dist::NodeOptions o = options(epmd);
  o.cookie.reset();
  auto node = me.await(dist::Node::start_link(std::move(o)));
  ::setenv("HOME", saved.c_str(), 1);
  ASSERT_TRUE(node.ok()) << node.to_string();
  ErlNode erl(epmd, "erl@127.0.0.1", "from_file",
              "R = net_kernel:connect_node('cpp@127.0.0.1'), io:format(\"connect=~p~n\", [R])");
  EXPECT_TRUE(erl.wait_for_output("connect=true")) << erl.output();
  std::filesystem::remove_all(home);
}
// NOLINTEND(concurrency-mt-unsafe)

// --- simultaneous connect, against a peer driven by hand ------------------------------------------

namespace {

struct ConnectResult {
  bool ok;
  std::string text;
};

int tcp_socket_with_timeout() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval limit{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  return fd;
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Runs `hs` over `fd` until it is done or failed (answering `ok` as the acceptor).
void drive(int fd, dist::Handshake& hs) {
  for (;;) {
    if (hs.state() == dist::Handshake::State::needs_status) hs.answer(dist::AcceptStatus::ok);
    const std::string out = hs.take_output();
    if (!out.empty() && ::write(fd, out.data(), out.size()) != ssize_t(out.size())) return;
    if (hs.state() == dist::Handshake::State::done || hs.state() == dist::Handshake::State::failed)
      return;
    char buf[512];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    hs.feed(std::string_view(buf, static_cast<std::size_t>(n)));
  }
}

// Our node connects to `peer` (a listener of the test's, registered with epmd, that accepts but
// does not answer) while `peer` connects to our node: returns the accepted socket of our attempt
// and the socket of the peer's, its send_name written.
struct Crossing {
  int ours = -1;    // our node's attempt, accepted by the peer
  int theirs = -1;  // the peer's attempt to our node
  int listener = -1;
  ~Crossing() {
    for (int fd : {ours, theirs, listener})
      if (fd >= 0) ::close(fd);
  }
};

void cross(otp::Scoped& me, const EpmdServer& epmd, const dist::Node& node,
           const std::string& alive, Crossing& c) {
  c.listener = tcp_socket_with_timeout();
  auto addr = loopback(0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(c.listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(c.listener, 4), 0);
  ASSERT_EQ(::getsockname(c.listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  dist::Epmd e;
  e.port = epmd.port();
  auto reg = me.await(dist::register_node(e, alive, ntohs(addr.sin_port)));
  ASSERT_TRUE(reg.ok()) << reg.to_string();
  const otp::Pid self = me.pid();
  me.spawn([node, self, peer = alive + "@127.0.0.1"]() -> otp::Co<void> {
    auto r = co_await dist::connect_node(node, peer);
    otp::send(self, ConnectResult{r.ok(), r.to_string()});
  });
  c.ours = ::accept(c.listener, nullptr, nullptr);  // SO_RCVTIMEO bounds the wait
  ASSERT_GE(c.ours, 0);
  timeval limit{5, 0};
  ::setsockopt(c.ours, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  c.theirs = tcp_socket_with_timeout();
  auto to = loopback(node.port());
  ASSERT_EQ(::connect(c.theirs, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
}

}  // namespace

TEST(Node, SimultaneousConnectTheLesserNameYieldsToTheGreater) {
  EpmdServer epmd;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));  // cpp@127.0.0.1 < zzz@127.0.0.1
  Crossing c;
  ASSERT_NO_FATAL_FAILURE(cross(me, epmd, node, "zzz", c));
  auto theirs = dist::Handshake::initiate({.name = "zzz@127.0.0.1",
                                           .cookie = test_cookie,
                                           .creation = 1,
                                           .expected_peer = "cpp@127.0.0.1"},
                                          99);
  // The status our node answers: ok_simultaneous, and the handshake goes on.
  const std::string name = theirs.take_output();
  ASSERT_EQ(::write(c.theirs, name.data(), name.size()), ssize_t(name.size()));
  char buf[64];
  const ssize_t n = ::read(c.theirs, buf, 2 + 16);
  ASSERT_EQ(n, 2 + 16);
  EXPECT_EQ(std::string_view(buf + 2, 16), "sok_simultaneous");
  theirs.feed(std::string_view(buf, 18));
  drive(c.theirs, theirs);
  ASSERT_EQ(theirs.state(), dist::Handshake::State::done) << theirs.error();
  // The caller of connect_node is answered by the connection that won.
  auto result = me.receive<ConnectResult>(kWait);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok) << result->text;
  EXPECT_EQ(me.await(dist::nodes(node)), std::vector<std::string>{"zzz@127.0.0.1"});
  // Our own attempt was dropped: its socket is closed.
  char rest[512];
  ssize_t got = 0;
  while ((got = ::read(c.ours, rest, sizeof rest)) > 0) {
  }
  EXPECT_EQ(got, 0);
}

TEST(Node, SimultaneousConnectTheGreaterNameKeepsItsOwnAttempt) {
  EpmdServer epmd;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto node = start(me, options(epmd));  // cpp@127.0.0.1 > aaa@127.0.0.1
  Crossing c;
  ASSERT_NO_FATAL_FAILURE(cross(me, epmd, node, "aaa", c));
  auto theirs = dist::Handshake::initiate({.name = "aaa@127.0.0.1",
                                           .cookie = test_cookie,
                                           .creation = 1,
                                           .expected_peer = "cpp@127.0.0.1"},
                                          99);
  drive(c.theirs, theirs);
  EXPECT_EQ(theirs.state(), dist::Handshake::State::failed);
  EXPECT_NE(theirs.error().find("simultaneous"), std::string::npos) << theirs.error();
  // Our attempt goes on: the peer accepts it.
  auto ours =
      dist::Handshake::accept({.name = "aaa@127.0.0.1", .cookie = test_cookie, .creation = 1}, 77);
  drive(c.ours, ours);
  ASSERT_EQ(ours.state(), dist::Handshake::State::done) << ours.error();
  EXPECT_EQ(ours.peer().name, "cpp@127.0.0.1");
  auto result = me.receive<ConnectResult>(kWait);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->ok) << result->text;
  EXPECT_EQ(me.await(dist::nodes(node)), std::vector<std::string>{"aaa@127.0.0.1"});
}

TEST(Node, OversizedFrameEndsTheConnection) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  dist::NodeOptions o;
  o.name = "cpp@127.0.0.1";
  o.cookie = test_cookie;
  o.register_with_epmd = false;
  o.max_frame = 1024;
  auto node = start(me, o);
  me.await(dist::set_frame_consumer(node, me.pid()));
  me.await(dist::monitor_nodes(node));
  const int fd = tcp_socket_with_timeout();
  auto to = loopback(node.port());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  auto hs = dist::Handshake::initiate({.name = "big@127.0.0.1",
                                       .cookie = test_cookie,
                                       .creation = 1,
                                       .expected_peer = "cpp@127.0.0.1"},
                                      5);
  drive(fd, hs);
  ASSERT_EQ(hs.state(), dist::Handshake::State::done) << hs.error();
  ASSERT_TRUE(me.receive<dist::NodeUp>(kWait).has_value());
  // A frame of the largest size taken arrives; one byte more ends the connection.
  const std::size_t overhead =
      reg_send_frame("big@127.0.0.1", "inbox", otp::Term::binary("")).size();
  const std::string fits = std::string("\0\0\x04\0", 4) +
                           reg_send_frame("big@127.0.0.1", "inbox",
                                          otp::Term::binary(std::string(1024 - overhead, 'x')));
  ASSERT_EQ(::write(fd, fits.data(), fits.size()), ssize_t(fits.size()));
  auto frame = me.receive<dist::Frame>(kWait);
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->bytes.size(), 1024U);
  const std::string too_long("\0\0\x04\x01", 4);
  ASSERT_EQ(::write(fd, too_long.data(), too_long.size()), 4);
  auto down = me.receive<dist::NodeDown>(kWait);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->node, "big@127.0.0.1");
  EXPECT_NE(down->reason.to_string().find("frame_too_large"), std::string::npos)
      << down->reason.to_string();
  ::close(fd);
}

TEST(Node, FrameThatDoesNotDecodeEndsTheConnection) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  dist::NodeOptions o;
  o.name = "cpp@127.0.0.1";
  o.cookie = test_cookie;
  o.register_with_epmd = false;
  auto node = start(me, o);
  me.await(dist::set_frame_consumer(node, me.pid()));
  me.await(dist::monitor_nodes(node));
  const int fd = tcp_socket_with_timeout();
  auto to = loopback(node.port());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  auto hs = dist::Handshake::initiate({.name = "bad@127.0.0.1",
                                       .cookie = test_cookie,
                                       .creation = 1,
                                       .expected_peer = "cpp@127.0.0.1"},
                                      5);
  drive(fd, hs);
  ASSERT_EQ(hs.state(), dist::Handshake::State::done) << hs.error();
  ASSERT_TRUE(me.receive<dist::NodeUp>(kWait).has_value());
  // A good frame arrives; then a REG_SEND cut short ends the connection, and the node lives on.
  const std::string good = reg_send_frame("bad@127.0.0.1", "inbox", otp::Term::atom("first"));
  const std::string cut = good.substr(0, good.size() - 3);
  const std::string both = framed(good) + framed(cut);
  ASSERT_EQ(::write(fd, both.data(), both.size()), ssize_t(both.size()));
  auto frame = me.receive<dist::Frame>(kWait);
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->message, otp::Term::atom("first"));
  auto down = me.receive<dist::NodeDown>(kWait);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->node, "bad@127.0.0.1");
  EXPECT_NE(down->reason.to_string().find("bad_etf"), std::string::npos)
      << down->reason.to_string();
  char buf[16];
  EXPECT_EQ(::read(fd, buf, sizeof buf), 0);  // closed by the node
  ::close(fd);
  EXPECT_TRUE(me.await(dist::nodes(node)).empty());
}
