// The hand-rolled GenServer: calls (reply, timeout, a dead server), casts, infos, and unexpected
// messages.
#include "gen_server.hpp"

#include <stdexcept>
#include <string>
#include <variant>

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace {

struct Never {};
struct Tell {
  otp::Pid to;
};
struct Told {
  int count;
  otp::Pid server;
};

// A counter: add is a cast, get a call; Tell, an info, sends the count to a process.
struct Counter {
  using State = int;
  struct Add {
    int n;
  };
  struct Get {};
  struct Hang {};  // a call that waits for a message that never comes
  using Cast = Add;
  using Call = std::variant<Get, Hang>;
  using Reply = int;
  using Info = Tell;

  State init(int start) { return start; }
  void handle_cast(Add add, State& count) { count += add.n; }
  Reply handle_call(Call call, State& count) {
    if (std::holds_alternative<Hang>(call)) throw std::runtime_error("hang");
    return count;
  }
  void handle_info(Tell tell, State& count) { otp::send(tell.to, Told{count, otp::self()}); }
};
using Server = lab::GenServer<Counter>;

// A module with no Info: every message that is not a call or a cast is unexpected.
struct Plain {
  using State = int;
  using Cast = int;
  using Call = int;
  using Reply = int;
  State init(int) { return 0; }
  void handle_cast(int, State&) {}
  Reply handle_call(int n, State&) { return n; }
};

}  // namespace

TEST(HandrolledGenServer, CallAnswersFromTheState) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid server = Server::start(40);
  Server::cast(server, Counter::Add{2});
  auto r = me.await(Server::call(server, Counter::Get{}));
  ASSERT_TRUE(r.ok()) << r.to_string();
  EXPECT_EQ(r.value(), 42);
}

TEST(HandrolledGenServer, ACallLeavesNoDownBehind) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid server = Server::start(1);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(me.await(Server::call(server, Counter::Get{})).ok());
  otp::exit(server, otp::Reason::kill());
  const otp::Ref ref = me.monitor(server);
  me.receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
  EXPECT_FALSE(me.receive<otp::Down>(0ms));  // none from the ten calls' monitors
}

TEST(HandrolledGenServer, InfoMessagesReachHandleInfo) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid server = Server::start(7);
  otp::send(server, Tell{me.pid()});
  const Told told = me.receive<Told>();
  EXPECT_EQ(told.count, 7);
  EXPECT_EQ(told.server, server);
}

TEST(HandrolledGenServer, AnUnexpectedMessageIsLoggedAndDropped) {
  otp::LogCapture logs;
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid server = lab::GenServer<Plain>::start(0);
  otp::send(server, std::string("hello"));
  otp::send(server, Tell{me.pid()});  // Plain has no Info: unexpected too
  EXPECT_EQ(me.await(lab::GenServer<Plain>::call(server, 5)).value(), 5);  // handled after them
  EXPECT_TRUE(logs.contains("received an unexpected message"));
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::message), 2u);
  EXPECT_FALSE(me.receive<Told>(0ms));
}

TEST(HandrolledGenServer, ACallToADeadServerReturnsNoproc) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid server = Server::start(0);
  const otp::Ref ref = me.monitor(server);
  otp::exit(server, otp::Reason::kill());
  me.receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
  auto r = me.await(Server::call(server, Counter::Get{}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason(), otp::Reason::noproc());
}

TEST(HandrolledGenServer, ACallToAServerThatCrashesReturnsItsReason) {
  otp::LogCapture logs;
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid server = Server::start(0);
  auto r = me.await(Server::call(server, Counter::Hang{}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason(), otp::Reason::exception("hang"));
}

// On the virtual clock: the call, made from a process, gives up after exactly its timeout.
TEST(HandrolledGenServer, ACallThatIsNotAnsweredTimesOut) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me(rt);
  const otp::Pid test = me.pid();
  // A "server" that takes calls and never answers.
  const otp::Pid mute = rt.spawn([]() -> otp::Co<void> { co_await otp::receive<Never>(); });
  rt.spawn([test, mute]() -> otp::Co<void> {
    auto r = co_await Server::call(mute, Counter::Get{}, 3s);
    otp::send(test, std::move(r));
  });
  rt.run_until_idle();
  rt.advance(3s - 1ms);
  EXPECT_FALSE(me.receive<otp::Result<int>>(0ms));
  rt.advance(1ms);
  auto r = me.receive<otp::Result<int>>(10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason(), otp::Reason::timeout());
}
