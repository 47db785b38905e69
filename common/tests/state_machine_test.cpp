// StateMachine: events, replies, next_event, postpone, state and event timeouts, stopping.
#include "otp/state_machine.hpp"

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otp/otp.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using otp_test::await_down;
using otp_test::kWait;
using otp_test::Never;

struct DoorData {
  std::string code;
  std::vector<std::string> log;
};

// A door with a code: pushes while locked wait until it is open.
class Door : public otp::StateMachine<Door, DoorData> {
 public:
  struct Code {
    using Reply = bool;
    std::string digits;
  };
  struct Push {
    int n;
  };
  struct Knock {};
  struct Twice {};
  struct Step {
    int n;
  };
  struct GetLog {
    using Reply = std::vector<std::string>;
  };
  struct Name {
    using Reply = std::string;
  };
  struct Boom {
    using Reply = bool;
  };
  // Answered with ev.reply(true), unchecked: the caller expects an int.
  struct Miscount {
    using Reply = int;
  };

  DoorData init(std::string code) {
    set_state(&Door::locked);
    return {std::move(code), {}};
  }

  void locked(otp::Event& ev) {
    if (auto code = ev.call<Code>()) {
      bool right = code->digits == data().code;
      note(right ? "unlocked" : "wrong code");
      code.reply(right);
      if (right) next_state(&Door::open);
    } else if (auto* p = ev.get<Push>()) {
      note("postponed push " + std::to_string(p->n));
      postpone(ev);
    } else {
      common(ev, "locked");
    }
  }

  void open(otp::Event& ev) {
    if (auto* p = ev.get<Push>()) {
      note("open push " + std::to_string(p->n));
    } else {
      common(ev, "open");
    }
  }

  // Events handled the same way in every state.
  void common(otp::Event& ev, const std::string& state) {
    if (ev.is_info<Knock>()) {
      note("knock while " + state);
    } else if (ev.is_cast<Twice>()) {
      note("twice");
      next_event(Step{1});
      next_event(Step{2});
    } else if (auto* s = ev.get<Step>()) {
      EXPECT_EQ(ev.type(), otp::EventType::internal);
      note("step " + std::to_string(s->n));
    } else if (auto get_log = ev.call<GetLog>()) {
      get_log.reply(data().log);
    } else if (auto name = ev.call<Name>()) {
      name.reply("door");
    } else if (ev.is_call<Miscount>()) {
      ev.reply(true);
    } else if (ev.is_call<Boom>()) {
      throw std::runtime_error("door broke");
    }
  }

 private:
  void note(std::string s) { data().log.push_back(std::move(s)); }
};

std::vector<std::string> log_of(otp::Scoped& me, otp::Pid door) {
  return me.await(Door::call(door, Door::GetLog{}));
}

TEST(StateMachine, CallCastAndInfoEventsReachTheStateFunction) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto started = me.await(Door::start_link(std::string("123")));
  ASSERT_TRUE(started.ok()) << started.to_string();
  otp::Pid door = started.pid();
  EXPECT_FALSE(me.await(Door::call(door, Door::Code{"999"})));
  otp::send(door, Door::Knock{});
  Door::cast(door, Door::Twice{});
  EXPECT_EQ(log_of(me, door), (std::vector<std::string>{"wrong code", "knock while locked", "twice",
                                                        "step 1", "step 2"}));
}

TEST(StateMachine, CallGetsTheReplyOfTheTypeItAskedFor) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Pid door = me.await(Door::start_link(std::string("123"))).pid();
  EXPECT_TRUE(me.await(Door::call(door, Door::Code{"123"})));
  EXPECT_EQ(me.await(Door::call(door, Door::Name{})), "door");
}

TEST(StateMachine, ReplyOfAnotherTypeThanTheCallersCrashesTheMachine) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  otp::Pid door = me.await(Door::start(std::string("123"))).pid();
  try {
    me.await(Door::call(door, Door::Miscount{}));
    FAIL() << "the call returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason.kind(), otp::Reason::Kind::other);
    EXPECT_EQ(e.reason.detail().rfind("{bad_reply, bool", 0), 0u) << e.reason.to_string();
  }
}

// The reply type comes from the request: a request without one cannot be called, and a call
// event's reply takes only that type.
template <class Req>
concept Callable = requires(otp::Pid pid, Req req) {
  Door::call(pid, req);
};
template <class Req, class V>
concept Answerable = requires(otp::CallEvent<Req> call, V value) {
  call.reply(value);
};
static_assert(Callable<Door::Code> && Callable<Door::GetLog>);
static_assert(!Callable<Door::Push> && !Callable<Door::Knock>);
static_assert(Answerable<Door::Code, bool> && Answerable<Door::Name, const char*>);
static_assert(!Answerable<Door::Code, std::string> && !Answerable<Door::GetLog, int>);
static_assert(std::is_same_v<decltype(otp::Scoped(std::declval<otp::Runtime&>())
                                          .await(Door::call(otp::Pid{}, Door::Code{}))),
                             bool>);

TEST(StateMachine, NextEventIsHandledBeforeQueuedMessages) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Pid door = me.await(Door::start_link(std::string("123"))).pid();
  Door::cast(door, Door::Twice{});
  otp::send(door, Door::Knock{});  // already queued when Twice inserts its steps
  EXPECT_EQ(log_of(me, door),
            (std::vector<std::string>{"twice", "step 1", "step 2", "knock while locked"}));
}

TEST(StateMachine, PostponedEventIsRetriedAfterStateChange) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Pid door = me.await(Door::start_link(std::string("123"))).pid();
  Door::cast(door, Door::Push{1});
  Door::cast(door, Door::Push{2});
  otp::send(door, Door::Knock{});  // no state change: the pushes stay postponed
  EXPECT_FALSE(me.await(Door::call(door, Door::Code{"000"})));
  EXPECT_TRUE(me.await(Door::call(door, Door::Code{"123"})));
  EXPECT_EQ(log_of(me, door),
            (std::vector<std::string>{"postponed push 1", "postponed push 2", "knock while locked",
                                      "wrong code", "unlocked", "open push 1", "open push 2"}));
}

TEST(StateMachine, CrashGivesTheCallerAnExitWithTheReason) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  otp::Pid door = me.await(Door::start(std::string("123"))).pid();
  try {
    me.await(Door::call(door, Door::Boom{}));
    FAIL() << "the call returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::exception("door broke"));
    EXPECT_EQ(std::string(e.what()).rfind("** (exit) exited in: :gen_statem.call(", 0), 0u)
        << e.what();
  }
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::crash_report), 1u);
}

// The same report as a GenServer's: the pid and the name, the module, the reason, the event
// being handled (the request's type), the data.
TEST(StateMachine, CrashReportReadsAsAGenServersDoes) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  otp::Pid door = me.await(Door::start(otp::Name::local("front_door"), std::string("123"))).pid();
  auto ref = me.monitor(door);
  EXPECT_THROW(me.await(Door::call(door, Door::Boom{})), otp::ExitError);
  ASSERT_TRUE(await_down(me, ref));
  auto records = logs.records();
  ASSERT_EQ(records.size(), 1u);
  const std::string& t = records[0].text;
  EXPECT_EQ(t.rfind(fmt::format("crash report: process {} front_door (Door) exited", door), 0), 0u)
      << t;
  EXPECT_NE(t.find("last message: Door.Boom\n"), std::string::npos) << t;
}

// A start that fails answers error(reason), and the process ends with that reason, as a
// GenServer's does.
TEST(StateMachine, AFailedInitEndsTheProcessWithItsReason) {
  otp::Runtime rt({.threads = 1});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  struct Stuck : otp::StateMachine<Stuck, int> {
    int init() { return 0; }  // chooses no state
  };
  auto started = me.await(Stuck::start_link());
  ASSERT_FALSE(started.ok());
  const otp::Reason reason = started.reason();
  EXPECT_NE(reason.to_string().find("set_state"), std::string::npos) << reason.to_string();
  auto exit = me.receive<otp::Exit>(kWait);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->reason, reason);
  EXPECT_EQ(logs.count(otp::LogRecord::Kind::crash_report), 1u);
}

TEST(StateMachine, CallToAGenServerTypeIsABadCall) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  struct Other : otp::GenServer<Other, int> {
    int init() { return 0; }
    int handle_call(Door::Name) { return 1; }
  };
  otp::Pid door = me.await(Door::start(std::string("123"))).pid();
  try {
    me.await(Other::call(door, Door::Name{}));
    FAIL() << "the call returned";
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason.detail().rfind("{bad_call", 0), 0u) << e.reason.to_string();
  }
}

// A light that dims itself after 10 s on, and reports what happens to a watcher.
struct Seen {
  std::string what;
};

class Light : public otp::StateMachine<Light, otp::Pid> {
 public:
  struct On {};
  struct Off {};
  struct Ping {};
  struct Dim {};
  struct Arm {};
  struct Idle {};

  otp::Pid init(otp::Pid watcher) {
    otp::trap_exit(true);
    set_state(&Light::off);
    return watcher;
  }

  void off(otp::Event& ev) {
    if (ev.is_cast<On>()) {
      next_state(&Light::on);
      state_timeout(10s, Dim{});
    } else if (ev.is_cast<Arm>()) {
      event_timeout(1s, Idle{});
    } else if (ev.is_timeout<Idle>()) {
      tell("idle");
    } else if (ev.is_cast<Ping>()) {
      tell("ping");
    }
  }

  void on(otp::Event& ev) {
    if (ev.is_state_timeout<Dim>()) {
      tell("dimmed");
      next_state(&Light::off);
    } else if (ev.is_cast<Off>()) {
      next_state(&Light::off);
    } else if (ev.is_cast<Ping>()) {
      tell("ping");
    }
  }

  void terminate(const otp::Reason& reason) { tell("terminate " + reason.to_string()); }

 private:
  void tell(std::string what) { otp::send(data(), Seen{std::move(what)}); }
};

// Starts a Light on a virtual-clock runtime (from a process: nothing runs
// outside advance and run_until_idle).
otp::Pid start_light(otp::Runtime& rt, otp::Scoped& me) {
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    auto started = co_await Light::start(to);
    otp::send(to, started.pid());
  });
  rt.run_until_idle();
  auto pid = me.receive<otp::Pid>(0ms);
  EXPECT_TRUE(pid.has_value());
  return pid.value_or(otp::Pid{});
}

std::optional<std::string> seen(otp::Scoped& me) {
  auto s = me.receive<Seen>(0ms);
  if (!s) return std::nullopt;
  return s->what;
}

TEST(StateMachine, StateTimeoutFiresOnTheVirtualClock) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid light = start_light(rt, me);
  Light::cast(light, Light::On{});
  rt.run_until_idle();
  rt.advance(5s);
  Light::cast(light, Light::Ping{});  // an event in the same state keeps the state timeout
  rt.run_until_idle();
  EXPECT_EQ(seen(me), "ping");
  rt.advance(4999ms);
  EXPECT_EQ(seen(me), std::nullopt) << "fired early";
  rt.advance(1ms);
  EXPECT_EQ(seen(me), "dimmed");
}

TEST(StateMachine, StateTimeoutIsCancelledByAStateChange) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid light = start_light(rt, me);
  Light::cast(light, Light::On{});
  rt.run_until_idle();
  rt.advance(5s);
  Light::cast(light, Light::Off{});
  rt.run_until_idle();
  rt.advance(1min);
  EXPECT_EQ(seen(me), std::nullopt);
}

TEST(StateMachine, EventTimeoutIsCancelledByAnEvent) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid light = start_light(rt, me);
  Light::cast(light, Light::Arm{});
  rt.run_until_idle();
  rt.advance(500ms);
  Light::cast(light, Light::Ping{});
  rt.run_until_idle();
  EXPECT_EQ(seen(me), "ping");
  rt.advance(1min);
  EXPECT_EQ(seen(me), std::nullopt) << "the Ping should have cancelled the event timeout";

  Light::cast(light, Light::Arm{});
  rt.run_until_idle();
  rt.advance(999ms);
  EXPECT_EQ(seen(me), std::nullopt);
  rt.advance(1ms);
  EXPECT_EQ(seen(me), "idle");
}

// A machine for time-outs zero: each Go{n} sets up scenario n; every event it
// handles is told to the watcher as "<state> <event>".
class Zero : public otp::StateMachine<Zero, otp::Pid> {
 public:
  struct Go {
    int scenario;
  };
  struct Later {};
  struct Inserted {};
  struct Leave {};
  struct T1 {};
  struct T2 {};
  struct E {};

  otp::Pid init(otp::Pid watcher) {
    set_state(&Zero::a);
    return watcher;
  }

  void a(otp::Event& ev) {
    tell("a", ev);
    auto* go = ev.get<Go>();
    if (go == nullptr) return;
    switch (go->scenario) {
      case 1:  // a state change with a state time-out zero and an inserted event
        next_state(&Zero::b);
        state_timeout(0ms, T1{});
        next_event(Inserted{});
        break;
      case 2:  // the state time-out zero is queued first: it cancels the event time-out
        state_timeout(0ms, T1{});
        event_timeout(0ms, E{});
        break;
      case 3:  // the event time-out zero is queued first: both fire
        event_timeout(0ms, E{});
        state_timeout(0ms, T1{});
        break;
      case 4:  // the inserted event changes the state before the state time-out zero comes
        next_state(&Zero::b);
        state_timeout(0ms, T1{});
        next_event(Leave{});
        break;
      case 5:
        event_timeout(0ms, E{});
        break;
    }
  }
  void b(otp::Event& ev) {
    tell("b", ev);
    if (ev.is_state_timeout<T1>()) {
      next_state(&Zero::c);
      state_timeout(0ms, T2{});
    } else if (ev.is_internal<Leave>()) {
      next_state(&Zero::a);
    }
  }
  void c(otp::Event& ev) { tell("c", ev); }

 private:
  void tell(const std::string& state, const otp::Event& ev) {
    std::string what = ev.is<Go>()         ? "Go"
                       : ev.is<Later>()    ? "Later"
                       : ev.is<Inserted>() ? "Inserted"
                       : ev.is<Leave>()    ? "Leave"
                       : ev.is<T1>()       ? "T1"
                       : ev.is<T2>()       ? "T2"
                       : ev.is<E>()        ? "E"
                                           : "?";
    otp::send(data(), Seen{state + " " + what});
  }
};

// Runs scenario n on a fresh Zero with a Later message already in its mailbox
// behind the Go; returns what it handled, in order.
std::vector<std::string> zero_scenario(int n) {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  const otp::Pid to = me.pid();
  rt.spawn([to]() -> otp::Co<void> {
    auto started = co_await Zero::start(to);
    otp::send(to, started.pid());
  });
  rt.run_until_idle();
  auto zero = me.receive<otp::Pid>(0ms);
  EXPECT_TRUE(zero.has_value());
  Zero::cast(*zero, Zero::Go{n});
  Zero::cast(*zero, Zero::Later{});
  rt.run_until_idle();
  rt.advance(1s);
  std::vector<std::string> out;
  while (auto s = seen(me)) out.push_back(*s);
  return out;
}

using Log = std::vector<std::string>;

TEST(StateMachine, StateTimeoutZeroComesAfterInsertedEventsAndBeforeTheMailbox) {
  // Each state change's state time-out zero fires in the state it was set for.
  EXPECT_EQ(zero_scenario(1), (Log{"a Go", "b Inserted", "b T1", "c T2", "c Later"}));
  // A state change before a queued state time-out zero cancels it.
  EXPECT_EQ(zero_scenario(4), (Log{"a Go", "b Leave", "a Later"}));
}

TEST(StateMachine, EventTimeoutZeroComesBeforeTheMailbox) {
  EXPECT_EQ(zero_scenario(5), (Log{"a Go", "a E", "a Later"}));
}

TEST(StateMachine, QueuedStateTimeoutZeroCancelsALaterEventTimeoutZero) {
  EXPECT_EQ(zero_scenario(2), (Log{"a Go", "a T1", "a Later"}));
  EXPECT_EQ(zero_scenario(3), (Log{"a Go", "a E", "a T1", "a Later"}));
}

TEST(StateMachine, ParentShutdownRunsTerminateWhenTrappingExits) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  const otp::Pid to = me.pid();
  auto [parent, ref] = otp_test::spawn_monitored(me, [to]() -> otp::Co<void> {
    auto started = co_await Light::start_link(to);
    otp::send(to, started.pid());
    co_await otp::receive<Never>();
  });
  auto light = me.receive<otp::Pid>(kWait);
  ASSERT_TRUE(light);
  otp::Ref watch = me.monitor(*light);
  otp::exit(parent, otp::Reason::shutdown());
  auto said = me.receive<Seen>(kWait);
  ASSERT_TRUE(said);
  EXPECT_EQ(said->what, "terminate shutdown");
  auto down = await_down(me, watch);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::shutdown());
}

TEST(StateMachine, StopRunsTerminate) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::Pid light = me.await(Light::start(me.pid())).pid();
  me.await(otp::stop(light));
  auto said = me.receive<Seen>(kWait);
  ASSERT_TRUE(said);
  EXPECT_EQ(said->what, "terminate normal");
}

}  // namespace

namespace {

// A machine that calls itself from a state function and answers with what that raised.
class Narcissus : public otp::StateMachine<Narcissus, int> {
 public:
  struct CallSelf {
    using Reply = std::string;
  };
  struct Ping {
    using Reply = int;
  };
  int init() {
    set_state(&Narcissus::only);
    return 0;
  }
  otp::Co<void> only(otp::Event& ev) {
    if (auto ask = ev.call<CallSelf>()) {
      std::string what = "the call returned";
      try {
        co_await Narcissus::call(otp::self(), Ping{}, otp::infinity);
      } catch (const otp::ExitError& e) {
        what = e.reason.to_string();
      }
      ask.reply(what);
    } else if (auto ping = ev.call<Ping>()) {
      ping.reply(1);
    }
  }
};

// As gen_statem:call goes through gen:call: a call to itself exits at once with calling_self.
TEST(StateMachine, ACallToItselfExitsWithCallingSelf) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Narcissus::start_link()).pid();
  EXPECT_EQ(me.await(Narcissus::call(pid, Narcissus::CallSelf{}, 2 * kWait)), "calling_self");
  EXPECT_EQ(me.await(Narcissus::call(pid, Narcissus::Ping{})), 1);
}

// A machine with state enter calls that writes down each enter and what it came from.
class Lamp : public otp::StateMachine<Lamp, std::vector<std::string>> {
 public:
  static constexpr bool state_enter = true;
  struct Flip {};
  struct Stay {};
  struct Again {};
  struct Later {};
  struct Log {
    using Reply = std::vector<std::string>;
  };

  std::vector<std::string> init() {
    set_state(&Lamp::off);
    return {};
  }
  void off(otp::Event& ev) {
    if (ev.is_enter()) {
      data().push_back(was_in_state(&Lamp::off) ? "enter off from off" : "enter off from on");
    } else if (ev.is_cast<Flip>()) {
      next_state(&Lamp::on);
    } else {
      common(ev);
    }
  }
  void on(otp::Event& ev) {
    if (ev.is_enter()) {
      data().push_back(was_in_state(&Lamp::off) ? "enter on from off" : "enter on from on");
    } else if (ev.is_cast<Flip>()) {
      next_state(&Lamp::off);
    } else {
      common(ev);
    }
  }
  void common(otp::Event& ev) {
    if (auto log = ev.call<Log>()) {
      log.reply(data());
    } else if (ev.is_cast<Stay>()) {
      data().push_back("stay");
      next_state(&Lamp::on);  // the same state: no enter call
    } else if (ev.is_cast<Again>()) {
      data().push_back("again");
      repeat_state();
    } else if (ev.is_cast<Later>()) {
      postpone(ev);
    }
  }
};

// gen_statem_SUITE:state_enter (the first state and each change get an enter call, with the
// state it came from; staying in a state does not).
TEST(StateMachine, StateEnterRunsOnTheFirstStateAndOnEachChange) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Lamp::start_link()).pid();
  Lamp::cast(pid, Lamp::Flip{});
  Lamp::cast(pid, Lamp::Stay{});
  Lamp::cast(pid, Lamp::Flip{});
  EXPECT_EQ(me.await(Lamp::call(pid, Lamp::Log{})),
            (std::vector<std::string>{"enter off from off", "enter on from off", "stay",
                                      "enter off from on"}));
}

// gen_statem_SUITE:state_enter (repeat_state repeats the enter call, and, being no state
// change, retries no postponed event).
TEST(StateMachine, RepeatStateRepeatsTheEnterCall) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto pid = me.await(Lamp::start_link()).pid();
  Lamp::cast(pid, Lamp::Later{});
  Lamp::cast(pid, Lamp::Again{});
  EXPECT_EQ(me.await(Lamp::call(pid, Lamp::Log{})),
            (std::vector<std::string>{"enter off from off", "again", "enter off from off"}));
}

class Restless : public otp::StateMachine<Restless, int> {
 public:
  static constexpr bool state_enter = true;
  int init() {
    set_state(&Restless::a);
    return 0;
  }
  void a(otp::Event& ev) {
    if (ev.is_enter()) next_state(&Restless::b);
  }
  void b(otp::Event&) {}
};

// gen_statem_SUITE:state_enter (a state enter call may not change the state:
// bad_state_enter_return).
TEST(StateMachine, AStateEnterCallThatChangesTheStateCrashesTheMachine) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto pid = me.await(Restless::start_link()).pid();
  // It crashes at once, before a monitor could be set: the link (a Scoped traps exits) tells.
  auto down = me.receive<otp::Exit>([pid](const otp::Exit& e) { return e.from == pid; }, kWait);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason.kind(), otp::Reason::Kind::exception) << down->reason.to_string();
  EXPECT_NE(down->reason.to_string().find("bad_state_enter_return"), std::string::npos)
      << down->reason.to_string();
}

}  // namespace

namespace {

// A machine whose actions the test writes: a Do event runs its script in the machine, as a
// state function's actions; every other event is told to the watcher as
// "<state> <event type> [<time-out name>:]<text>".
class Scripted : public otp::StateMachine<Scripted, otp::Pid> {
 public:
  struct Do {
    std::function<void(Scripted&)> script;
  };
  struct Note {
    std::string text;
  };
  using StateMachine::cancel_event_timeout;
  using StateMachine::cancel_generic_timeout;
  using StateMachine::cancel_state_timeout;
  using StateMachine::event_timeout;
  using StateMachine::generic_timeout;
  using StateMachine::next_state;
  using StateMachine::state_timeout;
  using StateMachine::update_event_timeout;
  using StateMachine::update_generic_timeout;
  using StateMachine::update_state_timeout;

  otp::Pid init(otp::Pid watcher) {
    set_state(&Scripted::a);
    return watcher;
  }
  void a(otp::Event& ev) { on_event(ev, "a"); }
  void b(otp::Event& ev) { on_event(ev, "b"); }

 private:
  void on_event(otp::Event& ev, const std::string& state) {
    if (auto* d = ev.get<Do>()) {
      d->script(*this);
      return;
    }
    static constexpr const char* types[] = {"call",    "cast",     "info",  "state_timeout",
                                            "timeout", "internal", "enter", "generic_timeout"};
    std::string what = state + " " + types[static_cast<int>(ev.type())] + " ";
    if (!ev.timeout_name().empty()) what += std::string(ev.timeout_name()) + ":";
    auto* note = ev.get<Note>();
    what += note != nullptr ? note->text : std::string(ev.name());
    otp::send(data(), Seen{std::move(what)});
  }
};

using Script = std::function<void(Scripted&)>;
using Note = Scripted::Note;

// A Scripted machine on a virtual-clock runtime; run() hands it a script and lets it settle.
struct ScriptedRig {
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};
  otp::Pid machine;

  ScriptedRig() {
    const otp::Pid to = me.pid();
    rt.spawn([to]() -> otp::Co<void> {
      auto started = co_await Scripted::start(to);
      otp::send(to, started.pid());
    });
    rt.run_until_idle();
    machine = me.receive<otp::Pid>(0ms).value_or(otp::Pid{});
  }
  void run(Script script) {
    Scripted::cast(machine, Scripted::Do{std::move(script)});
    rt.run_until_idle();
  }
  // What the machine has told since the last look.
  Log seen_now() {
    Log out;
    while (auto s = seen(me)) out.push_back(*s);
    return out;
  }
  Log after(otp::Duration d) {
    rt.advance(d);
    return seen_now();
  }
};

// gen_statem_SUITE: generic_timers (one timer per name; a state change cancels the state
// time-out and leaves the generic ones running).
TEST(StateMachine, GenericTimeoutsRunPerNameAndSurviveAStateChange) {
  ScriptedRig rig;
  rig.run([](Scripted& m) {
    m.generic_timeout("a", 1500ms, Note{"a1"});
    m.state_timeout(1500ms, Note{"s1"});
    m.generic_timeout("b", 1000ms, Note{"b1"});
    m.next_state(&Scripted::b);
  });
  EXPECT_EQ(rig.after(500ms), Log{});
  rig.run([](Scripted& m) { m.next_state(&Scripted::a); });
  EXPECT_EQ(rig.after(499ms), Log{});
  EXPECT_EQ(rig.after(1ms), Log{"a generic_timeout b:b1"});
  EXPECT_EQ(rig.after(500ms), Log{"a generic_timeout a:a1"});
  EXPECT_EQ(rig.after(1min), Log{}) << "the state change should have cancelled the state time-out";
}

// gen_statem_SUITE: generic_timers (setting a name again restarts its timer; infinity cancels).
TEST(StateMachine, SettingAGenericTimeoutAgainRestartsIt) {
  ScriptedRig rig;
  rig.run([](Scripted& m) {
    m.generic_timeout("a", 1000ms, Note{"a1"});
    m.generic_timeout("b", 1000ms, Note{"b1"});
  });
  EXPECT_EQ(rig.after(600ms), Log{});
  rig.run([](Scripted& m) {
    m.generic_timeout("a", 1000ms, Note{"a2"});
    m.generic_timeout("b", otp::infinity, Note{"b2"});
  });
  EXPECT_EQ(rig.after(999ms), Log{});
  EXPECT_EQ(rig.after(1ms), Log{"a generic_timeout a:a2"});
  EXPECT_EQ(rig.after(1min), Log{});
}

// gen_statem_SUITE: timeout_cancel_and_update (a cancel stops its own timer only; one with
// no timer running does nothing).
TEST(StateMachine, CancelStopsOneTimerAndIsNothingWhenNoneRuns) {
  ScriptedRig rig;
  rig.run([](Scripted& m) {
    m.generic_timeout("a", 100ms, Note{"a"});
    m.generic_timeout("b", 100ms, Note{"b"});
    m.state_timeout(100ms, Note{"s"});
  });
  rig.run([](Scripted& m) {
    m.cancel_generic_timeout("a");
    m.cancel_state_timeout();
    m.cancel_generic_timeout("never set");
    m.event_timeout(100ms, Note{"e"});
    m.cancel_event_timeout();
  });
  EXPECT_EQ(rig.after(1min), Log{"a generic_timeout b:b"});
}

// gen_statem_SUITE: generic_timers (a generic time-out zero is an event queued before the
// mailbox, so it cancels the event time-out zero asked for after it).
TEST(StateMachine, GenericTimeoutZeroComesBeforeTheMailbox) {
  ScriptedRig rig;
  Scripted::cast(rig.machine, Scripted::Do{[](Scripted& m) {
                   m.generic_timeout("d", 0ms, Note{"d"});
                   m.event_timeout(0ms, Note{"e"});
                 }});
  otp::send(rig.machine, Note{"later"});
  rig.rt.run_until_idle();
  EXPECT_EQ(rig.after(1min), (Log{"a generic_timeout d:d", "a info later"}));
}

// gen_statem_SUITE: timeout_cancel_and_update (update gives a running timer a new message and
// leaves its time as it was).
TEST(StateMachine, UpdateChangesTheMessageOfARunningTimerAndKeepsItsTime) {
  ScriptedRig rig;
  rig.run([](Scripted& m) {
    m.state_timeout(1000ms, Note{"s1"});
    m.generic_timeout("a", 1000ms, Note{"a1"});
  });
  EXPECT_EQ(rig.after(400ms), Log{});
  rig.run([](Scripted& m) {
    m.update_state_timeout(Note{"s2"});
    m.update_generic_timeout("a", Note{"a2"});
  });
  EXPECT_EQ(rig.after(599ms), Log{});
  EXPECT_EQ(rig.after(1ms), (Log{"a state_timeout s2", "a generic_timeout a:a2"}));
}

// gen_statem_SUITE: timeout_cancel_and_update (with no such timer running, an update is a
// time-out zero of the new message; a state change has already cancelled the state
// time-out when the update comes).
TEST(StateMachine, UpdateWithNoTimerRunningIsATimeoutZero) {
  ScriptedRig rig;
  Scripted::cast(rig.machine, Scripted::Do{[](Scripted& m) {
                   m.update_event_timeout(Note{"e"});
                   m.update_state_timeout(Note{"s"});
                   m.update_generic_timeout("n", Note{"g"});
                 }});
  otp::send(rig.machine, Note{"later"});
  rig.rt.run_until_idle();
  EXPECT_EQ(rig.seen_now(),
            (Log{"a timeout e", "a state_timeout s", "a generic_timeout n:g", "a info later"}));

  rig.run([](Scripted& m) { m.state_timeout(1000ms, Note{"old"}); });
  rig.run([](Scripted& m) {
    m.next_state(&Scripted::b);
    m.update_state_timeout(Note{"new"});
  });
  EXPECT_EQ(rig.seen_now(), Log{"b state_timeout new"});
  EXPECT_EQ(rig.after(1min), Log{});
}

// gen_statem_SUITE: timeout_cancel_and_update (of the time-out actions one callback makes on one
// timer only the last counts, and it finds the timer as it ran before the callback).
TEST(StateMachine, OnlyTheLastTimeoutActionOnATimerCounts) {
  ScriptedRig rig;
  rig.run([](Scripted& m) { m.state_timeout(1000ms, Note{"first"}); });
  rig.run([](Scripted& m) {
    m.state_timeout(100ms, Note{"replaced"});
    m.update_state_timeout(Note{"updated"});
  });
  EXPECT_EQ(rig.after(999ms), Log{});
  EXPECT_EQ(rig.after(1ms), Log{"a state_timeout updated"});

  rig.run([](Scripted& m) { m.generic_timeout("n", 1000ms, Note{"first"}); });
  rig.run([](Scripted& m) {
    m.cancel_generic_timeout("n");
    m.generic_timeout("n", 0ms, Note{"zero"});
  });
  EXPECT_EQ(rig.seen_now(), Log{"a generic_timeout n:zero"});
  EXPECT_EQ(rig.after(1min), Log{});
}

// A desk that answers through reply actions: from the state enter call of the state a call
// led to, before a stop, and not at all when the callback crashes after asking.
class Desk : public otp::StateMachine<Desk, otp::ReplyTo> {
 public:
  static constexpr bool state_enter = true;
  struct Ask {
    using Reply = std::string;
  };
  struct Crash {
    using Reply = std::string;
  };
  struct Quit {
    using Reply = std::string;
  };

  otp::ReplyTo init() {
    set_state(&Desk::idle);
    return {};
  }
  void idle(otp::Event& ev) {
    if (auto ask = ev.call<Ask>()) {
      data() = ask.reply_to();
      next_state(&Desk::busy);
    } else if (auto crash = ev.call<Crash>()) {
      reply(crash.reply_to(), "answered before the crash");
      throw std::runtime_error("the desk fell over");
    } else if (auto quit = ev.call<Quit>()) {
      reply(quit.reply_to(), "bye");
      stop();
    }
  }
  void busy(otp::Event& ev) {
    if (ev.is_enter()) reply(data(), std::string("answered on entering busy"));
  }
};

// gen_statem_SUITE: state_enter (a reply action from the state enter call answers the call
// that led to the state).
TEST(StateMachine, ReplyActionInAStateEnterCallAnswersTheCallThatChangedTheState) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto desk = me.await(Desk::start_link()).pid();
  EXPECT_EQ(me.await(Desk::call(desk, Desk::Ask{})), "answered on entering busy");
}

// gen_statem_SUITE: stop_and_reply (the replies go out before the machine stops).
TEST(StateMachine, ReplyActionIsSentBeforeAStop) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  auto desk = me.await(Desk::start()).pid();
  auto ref = me.monitor(desk);
  EXPECT_EQ(me.await(Desk::call(desk, Desk::Quit{})), "bye");
  auto down = await_down(me, ref);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->reason, otp::Reason::normal());
}

// As gen_statem applies a callback's actions only once it has returned, a reply action made
// before a crash is never sent: the caller gets the crash.
TEST(StateMachine, ReplyActionIsNotSentWhenTheCallbackThenCrashes) {
  otp::Runtime rt({.threads = 2});
  otp::Scoped me(rt);
  otp::LogCapture logs;
  auto desk = me.await(Desk::start()).pid();
  try {
    std::string answer = me.await(Desk::call(desk, Desk::Crash{}));
    FAIL() << "the call returned " << answer;
  } catch (const otp::ExitError& e) {
    EXPECT_EQ(e.reason, otp::Reason::exception("the desk fell over"));
  }
}

}  // namespace
