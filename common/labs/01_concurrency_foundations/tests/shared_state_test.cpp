// SharedState: the value lives in its own process and every change is made there.
#include "shared_state.hpp"

#include <string>

#include <gtest/gtest.h>

using State = lab::SharedState<int>;

namespace {
struct RanIn {
  otp::Pid pid;
};
}  // namespace

TEST(SharedState, GetAnswersTheInitialValue) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid state = State::start(41);
  EXPECT_EQ(me.await(State::get(state)), 41);
}

TEST(SharedState, UpdatesApplyInTheOrderTheyWereSent) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid state = State::start(1);
  State::update(state, [](int n) { return n + 2; });
  State::update(state, [](int n) { return n * 10; });
  EXPECT_EQ(me.await(State::get(state)), 30);  // (1 + 2) * 10, not 1 * 10 + 2
}

TEST(SharedState, UpdateRunsInsideTheStateProcess) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid state = State::start(0);
  const otp::Pid test = me.pid();
  State::update(state, [test](int n) {
    otp::send(test, RanIn{otp::self()});
    return n;
  });
  const RanIn ran = me.receive<RanIn>();
  EXPECT_EQ(ran.pid, state);
  EXPECT_NE(ran.pid, test);
}

TEST(SharedState, AReplyIsMatchedByItsReference) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid state = State::start(7);
  me.send(me.pid(), State::Reply{otp::make_ref(), 99});  // a stray reply, already waiting
  EXPECT_EQ(me.await(State::get(state)), 7);
  EXPECT_EQ(me.receive<State::Reply>().value, 99);  // left where it was
}
