// GenServer features a user coming from Elixir or Erlang expects: handle_continue, init returning
// ignore, send_request with request-id collections, and sys's get_state / replace_state. Each
// test names the case of OTP's gen_server_SUITE or Elixir's gen_server tests it is ported from.
#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using otp_test::Gate;
using otp_test::kWait;

// Writes down what ran, in order.
struct Steps : otp::GenServer<Steps, std::vector<std::string>> {
  struct Warm {};
  struct Again {
    int left;
  };
  struct Hold {};
  struct Release {};
  struct Tick {};
  struct Log {};
  struct Poke {};
  struct Boom {};
  struct Both {};
  using Info = otp::Messages<Tick>;

  std::vector<std::string> init(bool continued) {
    otp::send(otp::self(), Tick{});  // queued before the continue runs
    if (continued) continue_with(Warm{});
    return {"init"};
  }
  std::vector<std::string> handle_call(Log) { return state(); }
  void handle_call(Poke) {
    state().push_back("poke");
    otp::send(otp::self(), Tick{});
    continue_with(Again{2});
  }
  void handle_call(Hold) { continue_with(Hold{}); }
  void handle_call(Both) {
    continue_with(Warm{});
    stop(otp::Reason::shutdown());
  }
  void handle_cast(Boom) { continue_with(Boom{}); }
  void handle_info(Tick) { state().push_back("tick"); }
  void handle_continue(Warm) { state().push_back("warm"); }
  void handle_continue(Again a) {
    state().push_back("again " + std::to_string(a.left));
    if (a.left > 0) continue_with(Again{a.left - 1});
  }
  otp::Co<void> handle_continue(Hold) {
    state().push_back("hold");
    co_await otp::receive<Release>();
    state().push_back("released");
  }
  void handle_continue(Boom) { throw std::runtime_error("continue crashed"); }
};

std::vector<std::string> log_of(otp::Scoped& me, otp::Pid pid) {
  return me.await(Steps::call(pid, Steps::Log{}));
}

// gen_server_SUITE:continue (init returning {ok, State, {continue, ...}}); Elixir's
// "init/1 with continue".
TEST(GenServer, HandleContinueRunsBeforeTheNextMessage) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Steps::start_link(true)).pid();
  EXPECT_EQ(log_of(me, pid), (std::vector<std::string>{"init", "warm", "tick"}));
}

// gen_server_SUITE:continue (a handler's {continue, ...}, and handle_continue returning another).
TEST(GenServer, HandleContinueMayAskForAnotherContinue) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Steps::start_link(false)).pid();
  me.await(Steps::call(pid, Steps::Poke{}));
  EXPECT_EQ(log_of(me, pid), (std::vector<std::string>{"init", "tick", "poke", "again 2", "again 1",
                                                       "again 0", "tick"}));
}

// gen_server_SUITE:continue ({reply, Reply, State, {continue, ...}} replies first).
TEST(GenServer, ACallIsAnsweredBeforeItsContinueRuns) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Steps::start_link(false)).pid();
  EXPECT_EQ(me.await(Steps::call(pid, Steps::Hold{})), otp::Ok{});  // handle_continue still waits
  otp::send(pid, Steps::Release{});
  EXPECT_EQ(log_of(me, pid), (std::vector<std::string>{"init", "tick", "hold", "released"}));
}

// Elixir's GenServer: a crash in handle_continue is a crash of the server.
TEST(GenServer, ACrashInHandleContinueStopsTheServerAndIsReported) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto pid = me.await(Steps::start(false)).pid();
  auto ref = me.monitor(pid);
  Steps::cast(pid, Steps::Boom{});
  auto down = otp_test::await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::exception("continue crashed"));
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::crash_report), 1u);
  EXPECT_TRUE(logs.contains("Boom")) << "the report names the continue as the last message";
}

TEST(GenServer, AStopInTheSameCallbackDropsTheContinue) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Steps::start(false)).pid();
  auto ref = me.monitor(pid);
  me.await(Steps::call(pid, Steps::Both{}));
  auto down = otp_test::await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
}

struct Maybe : otp::GenServer<Maybe, int> {
  struct Get {};
  int init(bool start) {
    if (!start) ignore();
    return 1;
  }
  int handle_call(Get) { return state(); }
};

// gen_server_SUITE:start (init returning ignore: start and start_link return ignore); Elixir's
// "start_link/3 with ignore".
TEST(GenServer, InitReturningIgnoreMakesTheStartReturnIgnore) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto r = me.await(Maybe::start_link(otp::Name::local("maybe"), false));
  EXPECT_EQ(r.kind(), otp::StartResult::Kind::ignore) << r.to_string();
  EXPECT_EQ(r.to_string(), ":ignore");
  // The process ended normally: the link (a Scoped traps exits) says so.
  auto exit = me.receive<otp::Exit>(kWait);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->reason, otp::Reason::normal());
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::crash_report), 0u);
  // The name is free at once.
  auto again = me.await(Maybe::start(otp::Name::local("maybe"), true));
  ASSERT_TRUE(again.ok()) << again.to_string();
  EXPECT_EQ(me.await(Maybe::call("maybe", Maybe::Get{})), 1);
}

// OTP 26's init returning {error, Reason} (gen_server_SUITE:start, the {error, Reason} case):
// the start returns the error, the process ends normally and nothing is reported, since the one
// who started it reports the failure.
struct Picky : otp::GenServer<Picky, int> {
  int init(bool start) {
    if (!start) fail_start(otp::Reason::other("eaddrinuse"));
    return 1;
  }
};

TEST(GenServer, FailStartMakesTheStartReturnTheErrorWithoutACrashReport) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto r = me.await(Picky::start_link(otp::Name::local("picky"), false));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason(), otp::Reason::other("eaddrinuse"));
  auto exit = me.receive<otp::Exit>(kWait);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->reason, otp::Reason::normal());
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::crash_report), 0u);
  EXPECT_TRUE(me.await(Picky::start(otp::Name::local("picky"), true)).ok());  // name free
}

// ignore() is for init: a handler that calls it crashes the server with a reason that says so.
struct Misused : otp::GenServer<Misused, int> {
  struct Go {};
  int init() { return 0; }
  void handle_call(Go) { ignore(); }
};

TEST(GenServer, IgnoreOutsideInitIsACrash) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto pid = me.await(Misused::start()).pid();
  auto r = me.await(Misused::try_call(pid, Misused::Go{}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason(), otp::Reason::exception("ignore() called outside init"));
}

// gen_statem_SUITE:start (init returning ignore), for the StateMachine that shares the start.
struct Shy : otp::StateMachine<Shy, int> {
  int init() { ignore(); }
  void only(otp::Event&) {}
};

TEST(StateMachine, InitReturningIgnoreMakesTheStartReturnIgnore) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  EXPECT_EQ(me.await(Shy::start()).kind(), otp::StartResult::Kind::ignore);
}

struct Counter : otp::GenServer<Counter, int> {
  struct Get {};
  struct Add {
    int n;
  };
  struct Crash {};
  int init(int start) { return start; }
  int handle_call(Get) { return state(); }
  int handle_call(Crash) { throw std::runtime_error("asked to crash"); }
  void handle_cast(Add a) { state() += a.n; }
};

// gen_server_SUITE:send_request (send_request, then receive_response).
TEST(GenServer, SendRequestIsAnsweredThroughReceiveResponse) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto a = me.await(Counter::start_link(1)).pid();
  auto b = me.await(Counter::start_link(2)).pid();
  auto ra = Counter::send_request(a, Counter::Get{});
  auto rb = Counter::send_request(b, Counter::Get{});
  otp::CallResult<int> got_b = me.await(otp::receive_response(rb, kWait));
  otp::CallResult<int> got_a = me.await(otp::receive_response(ra, kWait));
  ASSERT_TRUE(got_a.ok());
  ASSERT_TRUE(got_b.ok());
  EXPECT_EQ(got_a.value(), 1);
  EXPECT_EQ(got_b.value(), 2);
  EXPECT_EQ(me.mailbox_size(), 0u) << "no reply or Down is left behind";
}

// gen_server_SUITE:send_request (a server that crashes, and one that is not there).
TEST(GenServer, ResponseToARequestIsTheServersExitReasonOrNoproc) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto pid = me.await(Counter::start(0)).pid();
  auto crashed = me.await(otp::receive_response(Counter::send_request(pid, Counter::Crash{})));
  ASSERT_FALSE(crashed.ok());
  EXPECT_EQ(crashed.reason(), otp::Reason::exception("asked to crash"));
  auto nobody = me.await(otp::receive_response(Counter::send_request("nobody", Counter::Get{})));
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.reason(), otp::Reason::noproc());
}

// gen_server_SUITE:send_request_receive_reqid (receive_response abandons at its timeout).
TEST(GenServer, ReceiveResponseGivesUpTheRequestAtItsTimeout) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto gate = me.await(Gate::start_link()).pid();
  auto id = Gate::send_request(gate, Gate::Wait{});
  auto r = me.await(otp::receive_response(id, 20ms));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason(), otp::Reason::timeout());
  Gate::cast(gate, Gate::Release{7});
  EXPECT_EQ(me.await(Gate::call(gate, Gate::Count{})), 0u);  // the release has been handled
  EXPECT_EQ(me.mailbox_size(), 0u) << "the late reply was dropped";
}

// gen_server_SUITE:send_request_wait_reqid (wait_response keeps the request at its timeout).
TEST(GenServer, WaitResponseKeepsTheRequestAfterATimeout) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto gate = me.await(Gate::start_link()).pid();
  auto id = Gate::send_request(gate, Gate::Wait{});
  auto first = me.await(otp::wait_response(id, 20ms));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.reason(), otp::Reason::timeout());
  Gate::cast(gate, Gate::Release{7});
  auto second = me.await(otp::wait_response(id, kWait));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.value(), 7);
}

// gen_server_SUITE:send_request_receive_reqid_collection (answers with their labels, then
// no_request once the collection is empty).
TEST(GenServer, RequestIdCollectionGivesEachAnswerWithItsLabel) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto a = me.await(Counter::start(10)).pid();
  auto b = me.await(Counter::start(20)).pid();
  otp::RequestIds<int, std::string> asked;
  Counter::send_request(a, Counter::Get{}, std::string("a"), asked);
  asked.add(Counter::send_request(b, Counter::Get{}), "b");
  asked.add(Counter::send_request(b, Counter::Crash{}), "crash");
  EXPECT_EQ(asked.size(), 3u);
  ASSERT_EQ(asked.to_list().size(), 3u);
  EXPECT_EQ(asked.to_list()[0].second, "a");

  std::set<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    auto r = me.await(otp::receive_response(asked, kWait));
    ASSERT_TRUE(r);
    seen.insert(r->label);
    if (r->label == "a") {
      EXPECT_EQ(r->result.value(), 10);
    } else if (r->label == "b") {
      EXPECT_EQ(r->result.value(), 20);
    } else if (r->label == "crash") {
      EXPECT_EQ(r->result.reason(), otp::Reason::exception("asked to crash"));
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"a", "b", "crash"}));
  EXPECT_TRUE(asked.empty());
  EXPECT_FALSE(me.await(otp::receive_response(asked, kWait))) << "no_request: at once";
}

// gen_server_SUITE:send_request_receive_reqid_collection (a timeout abandons them all).
TEST(GenServer, ReceiveResponseOfACollectionGivesUpEveryRequestAtItsTimeout) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto gate = me.await(Gate::start_link()).pid();
  otp::RequestIds<int, int> asked;
  Gate::send_request(gate, Gate::Wait{}, 1, asked);
  Gate::send_request(gate, Gate::Wait{}, 2, asked);
  EXPECT_FALSE(me.await(otp::receive_response(asked, 20ms)));
  EXPECT_TRUE(asked.empty());
  Gate::cast(gate, Gate::Release{7});
  EXPECT_EQ(me.await(Gate::call(gate, Gate::Count{})), 0u);
  EXPECT_EQ(me.mailbox_size(), 0u) << "the late replies were dropped";
}

// A server that asks two others and takes their answers in handle_info.
struct Summer : otp::GenServer<Summer, int> {
  struct Ask {
    otp::Pid a, b;
  };
  struct Sum {};
  using Info = otp::Messages<otp::Response<int>>;
  otp::RequestIds<int, char> pending;

  int init() { return 0; }
  void handle_cast(Ask ask) {
    Counter::send_request(ask.a, Counter::Get{}, 'a', pending);
    Counter::send_request(ask.b, Counter::Get{}, 'b', pending);
  }
  otp::Reply<int> handle_call(Sum, otp::From<int> from) {
    if (!pending.empty()) {  // asked too early: answer once both are in
      waiting = from;
      return otp::noreply;
    }
    return state();
  }
  void handle_info(otp::Response<int> msg) {
    if (auto r = otp::check_response(msg, pending)) state() += r->result.value();
    if (pending.empty() && waiting) otp::reply(*waiting, state());
  }
  std::optional<otp::From<int>> waiting;
};

// gen_server_SUITE:send_request_check_reqid_collection (check_response in handle_info).
TEST(GenServer, CheckResponseFindsTheAnswersAServerReceives) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto a = me.await(Counter::start_link(3)).pid();
  auto b = me.await(Counter::start_link(4)).pid();
  auto summer = me.await(Summer::start_link()).pid();
  Summer::cast(summer, Summer::Ask{a, b});
  EXPECT_EQ(me.await(Summer::call(summer, Summer::Sum{})), 7);
}

TEST(GenServer, CheckResponseTellsOtherMessagesApart) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto a = me.await(Counter::start_link(3)).pid();
  auto id = Counter::send_request(a, Counter::Get{});
  otp::Response<int> other{otp::make_ref(), 5};
  EXPECT_FALSE(otp::check_response(other, id));
  otp::Down down{otp::make_ref(), a, otp::Reason::normal()};
  EXPECT_FALSE(otp::check_response(down, id));
  auto mine = me.receive<otp::Response<int>>(kWait);
  ASSERT_TRUE(mine);
  auto r = otp::check_response(*mine, id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value(), 3);
}

// gen_server_SUITE:get_state (sys:get_state on a running server); Elixir's :sys.get_state in
// its GenServer tests.
TEST(GenServer, GetStateReturnsTheStateBetweenMessages) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Counter::start_link(5)).pid();
  Counter::cast(pid, Counter::Add{2});
  EXPECT_EQ(me.await(Counter::get_state(pid)), 7);
  me.await(Counter::start_link(otp::Name::local("named"), 1));
  EXPECT_EQ(me.await(Counter::get_state("named")), 1);
}

TEST(GenServer, GetStateOfNoServerExitsWithNoproc) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  try {
    me.await(Counter::get_state("nobody"));
    FAIL() << "get_state returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::noproc());
    EXPECT_EQ(std::string(e.what()).rfind("** (exit) exited in: :sys.get_state(nobody, 5000)", 0),
              0u)
        << e.what();
  }
}

// gen_server_SUITE:replace_state (the new state is returned and kept; a failing fun leaves the
// state and the server as they were).
TEST(GenServer, ReplaceStateSwapsTheStateAndReturnsIt) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Counter::start_link(5)).pid();
  EXPECT_EQ(me.await(Counter::replace_state(pid, [](int s) { return s * 10; })), 50);
  EXPECT_EQ(me.await(Counter::call(pid, Counter::Get{})), 50);
}

TEST(GenServer, AFailingReplaceStateLeavesTheStateAndTheServer) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Counter::start_link(5)).pid();
  try {
    me.await(Counter::replace_state(pid, [](int) -> int { throw std::runtime_error("bad fun"); }));
    FAIL() << "replace_state returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::other("{callback_failed, {exception, \"bad fun\"}}"))
        << e.what();
  }
  EXPECT_EQ(me.await(Counter::call(pid, Counter::Get{})), 5);
}

}  // namespace
