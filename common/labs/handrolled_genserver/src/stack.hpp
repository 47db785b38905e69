// Stack: a module for the hand-rolled GenServer; push is a cast, pop a call.
//
//   otp::Pid stack = lab::Stack::start({1, 2});
//   lab::Stack::push(stack, 3);
//   otp::Result<std::optional<int>> top = co_await lab::Stack::pop(stack);   // 3
#pragma once

#include <optional>
#include <vector>

#include "gen_server.hpp"

namespace lab {

struct Stack {
  using State = std::vector<int>;
  struct Push {
    int value;
  };
  struct Pop {};
  using Cast = Push;
  using Call = Pop;
  using Reply = std::optional<int>;  // nullopt: the stack is empty

  static otp::Pid start(std::vector<int> initial) {
    return GenServer<Stack>::start(std::move(initial));
  }
  static void push(otp::Pid stack, int value) { GenServer<Stack>::cast(stack, Push{value}); }
  static otp::Co<otp::Result<Reply>> pop(otp::Pid stack) {
    return GenServer<Stack>::call(stack, Pop{});
  }

  // Callbacks.
  State init(std::vector<int> initial) { return initial; }
  void handle_cast(Push push, State& state) { state.push_back(push.value); }
  Reply handle_call(Pop, State& state) {
    if (state.empty()) return std::nullopt;
    const int top = state.back();
    state.pop_back();
    return top;
  }
};

}  // namespace lab
