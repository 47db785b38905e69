// The Stack: last in, first out, on the hand-rolled GenServer.
#include "stack.hpp"

#include <gtest/gtest.h>

TEST(Stack, PopsWhatWasPushedLastFirst) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid stack = lab::Stack::start({1});
  lab::Stack::push(stack, 2);
  lab::Stack::push(stack, 3);
  for (int expected : {3, 2, 1}) {
    auto top = me.await(lab::Stack::pop(stack));
    ASSERT_TRUE(top.ok()) << top.to_string();
    EXPECT_EQ(top.value(), expected);
  }
  auto empty = me.await(lab::Stack::pop(stack));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty.value(), std::nullopt);
}

TEST(Stack, EachStackHasItsOwnState) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid a = lab::Stack::start({1});
  const otp::Pid b = lab::Stack::start({2});
  EXPECT_EQ(me.await(lab::Stack::pop(b)).value(), 2);
  EXPECT_EQ(me.await(lab::Stack::pop(a)).value(), 1);
}
