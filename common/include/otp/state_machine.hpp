// otp::StateMachine — a process whose behaviour depends on the state it is in
// (Erlang's gen_statem, in the state-functions mode). Each state is a member
// function taking the event; actions (reply, next_state, postpone, timeouts,
// next_event, stop) are calls made while handling it.
//
//   class Door : public otp::StateMachine<Door, DoorData> {
//    public:
//     struct Push {};
//     struct Code { using Reply = bool; std::string digits; };   // a call, answered with a bool
//     struct Relock {};
//
//     DoorData init(std::string code) { set_state(&Door::locked); return {code}; }
//
//     void locked(otp::Event& ev) {
//       if (auto code = ev.call<Code>()) {
//         bool right = code->digits == data().code;
//         code.reply(right);              // checked at compile time: a Code is answered with a bool
//         if (right) { next_state(&Door::open); state_timeout(10s, Relock{}); }
//       } else if (ev.is<Push>()) {
//         postpone(ev);                    // handled again once the state changes
//       }
//     }
//     void open(otp::Event& ev) {
//       if (ev.is_state_timeout<Relock>()) next_state(&Door::locked);
//       else if (ev.is<Push>()) { ... }
//     }
//   };
//
//   auto door = co_await Door::start_link(std::string("123"));
//   bool ok = co_await Door::call(door.pid(), Door::Code{"123"});   // a bool, from Code::Reply
//   Door::cast(door.pid(), Door::Push{});
//   otp::send(door.pid(), Knock{});                                 // an info event
//
// State enter calls (gen_statem's state_enter callback mode), for a machine that declares
// `static constexpr bool state_enter = true;`: after init and after each state change the new
// state's function first gets an enter event (ev.is_enter(); was_in_state(&D::s) tells the
// state it came from, the first state itself after init). An enter call may set time-outs,
// reply, keep the state or repeat_state(); it may not change the state, postpone or
// next_event (the machine crashes).
//
// Events: call (Door::call; a request that can be called names its reply type
// as a member `using Reply = T`, the caller gets a T, and the state function
// answers through ev.call<Req>(), whose reply takes only a T; or later through
// a copy of its reply_to()), cast, info (any other message, Exit and Down
// included), state_timeout, timeout (the event timeout), generic_timeout (a
// named time-out; ev.timeout_name() names it), internal (next_event) and enter
// (state enter calls).
// Actions, made while handling an event (or in init):
//   next_state(&D::s)       a change when s differs from the current state
//   repeat_state()          stays, and runs the state enter call again (keep_state otherwise)
//   postpone(ev)            ev is handled again after the next state change; postponed
//                           events come back in the order they arrived
//   next_event(msg)         an internal event, handled before any queued message
//                           (inserted events come before replayed postponed ones)
//   state_timeout(d, msg)   a state_timeout event after d, unless the state changes first;
//                           setting it again restarts it
//   event_timeout(d, msg)   a timeout event after d, unless some event comes first
//                           (never started while events are queued)
//   generic_timeout(name, d, msg)
//                           a generic_timeout event named `name` after d; one timer per
//                           name, setting it again restarts it, a state change leaves it
//   update_state_timeout(msg), update_event_timeout(msg), update_generic_timeout(name, msg)
//                           a new message for the running timer, which keeps its time;
//                           with none running, the same as a time-out zero of msg
//   cancel_state_timeout(), cancel_event_timeout(), cancel_generic_timeout(name)
//                           nothing when none runs; a time-out of infinity also cancels
//   reply(to, value)        answers a call (a ReplyTo kept from its event) once the
//                           callback has returned, as gen_statem's reply action; to.reply(v)
//                           answers at once
// Of the time-out actions one callback makes on one timer, the last counts; it applies to
// the timer as the transition finds it (a state change has cancelled the state time-out).
// A time-out of zero is not a timer: its event is queued at once, after the
// inserted and replayed events and before any message in the mailbox; a state
// change (or a new state_timeout) still cancels a queued state time-out zero.
//   stop(reason)            terminate(reason), then exit
// Timeouts run on the runtime's clock (the virtual one in deterministic mode).
//
// Callbacks (public members of the derived class): Data init(args...) (or
// Co<Data>), which must choose the first state with set_state; the state
// functions, void(otp::Event&) or Co<void>(otp::Event&); optionally
// terminate(const otp::Reason&) and std::string format_state(). Starting,
// names, stopping (otp::stop works), crash reports, and the parent's exit
// signal when trapping exits all work as for GenServer. A call to a machine
// that crashes or is gone throws ExitError in the caller. An event that a
// state function ignores is dropped (Erlang would crash with function_clause).
#pragma once

#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "otp/co.hpp"
#include "otp/detail/behaviour.hpp"
#include "otp/detail/msg.hpp"
#include "otp/detail/type_name.hpp"
#include "otp/gen_server.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/timer.hpp"

namespace otp {

enum class EventType : unsigned char {
  call,
  cast,
  info,
  state_timeout,
  timeout,
  internal,
  enter,
  generic_timeout
};
// The content of a state enter call's event.
struct StateEnter {};
class Event;    // below
class ReplyTo;  // below

// A request that can be called: it names the type of its answer.
template <class Req>
concept CallRequest = requires {
  typename Req::Reply;
};

namespace detail {  // otp/detail/state_machine.hpp
template <class Derived, class Data>
class StateEngine;
template <class D, class Req, class R>
struct StateCall;
template <class D, class Req>
struct StateCast;
struct EventAccess;
using SendReply = void (*)(const Pid& to, Ref ref, const MsgType* type, void* value);
}  // namespace detail

template <class Derived, class Data>
class StateMachine : public detail::Behaviour<Derived, StateMachine<Derived, Data>> {
 public:
  using data_type = Data;
  using PlainState = void (Derived::*)(Event&);
  using CoState = Co<void> (Derived::*)(Event&);

  // start_link(args...), start_link(name, args...), start(...): from Behaviour, as
  // for GenServer: ok(pid) once init has returned, already_started(pid), or error(reason).

  // Sends `req` as a call event and waits for its reply, a Req::Reply (see CallRequest).
  // Throws ExitError ("** (exit) exited in: :gen_statem.call(...)") on noproc,
  // calling_self (a call to itself fails at once), the machine's exit reason, or timeout. Returns an awaitable, like GenServer::call.
  template <Destination Dest, class Req>
  requires CallRequest<std::remove_cvref_t<Req>>
  static auto call(Dest dest, Req&& req, Duration timeout = default_call_timeout) {
    using Q = std::remove_cvref_t<Req>;
    using R = typename Q::Reply;
    using D = detail::stored_dest_t<Dest>;
    return detail::CallOp<R, D, detail::StateCall<Derived, Q, R>>(
        D(std::move(dest)), detail::StateCall<Derived, Q, R>{std::forward<Req>(req), {}}, timeout,
        ":gen_statem.call", detail::type_name_v<Q>);
  }

  // Sends `req` as a cast event. Never fails.
  template <Destination Dest, class Req>
  static void cast(const Dest& dest, Req&& req) {
    using Q = std::remove_cvref_t<Req>;
    if (auto pid = detail::whereis_dest(dest))
      send(*pid, detail::StateCast<Derived, Q>{std::forward<Req>(req)});
  }

 protected:
  Data& data() { return engine_.data(); }
  const Data& data() const { return engine_.data(); }

  // The first state (in init); elsewhere the same as next_state.
  void set_state(PlainState s) { engine_.set_state(s); }
  void set_state(CoState s) { engine_.set_state(s); }
  void next_state(PlainState s) { engine_.set_state(s); }
  void next_state(CoState s) { engine_.set_state(s); }
  bool in_state(PlainState s) const { return engine_.in_state(s); }
  bool in_state(CoState s) const { return engine_.in_state(s); }
  // With state enter calls: stay in the state and run its enter call again (gen_statem's
  // repeat_state; postponed events are not retried, the state time-out runs on). Without them,
  // the same as staying.
  void repeat_state() { engine_.repeat_state(); }
  // The state before the last change (in an enter call: the one it came from; after init, the
  // first state itself).
  bool was_in_state(PlainState s) const { return engine_.was_in_state(s); }
  bool was_in_state(CoState s) const { return engine_.was_in_state(s); }

  void postpone(const Event& ev) { engine_.postpone(ev); }
  template <class T>
  void next_event(T msg) {
    engine_.next_event(std::move(msg));
  }
  template <class T>
  void state_timeout(Duration after, T msg) {
    engine_.state_timeout(after, std::move(msg));
  }
  template <class T>
  void update_state_timeout(T msg) {
    engine_.update_timeout(EventType::state_timeout, {}, std::move(msg));
  }
  void cancel_state_timeout() { engine_.cancel_timeout(EventType::state_timeout, {}); }
  template <class T>
  void event_timeout(Duration after, T msg) {
    engine_.event_timeout(after, std::move(msg));
  }
  template <class T>
  void update_event_timeout(T msg) {
    engine_.update_timeout(EventType::timeout, {}, std::move(msg));
  }
  void cancel_event_timeout() { engine_.cancel_timeout(EventType::timeout, {}); }
  // Generic time-outs (gen_statem's {timeout, Name}): one timer per name, left running by
  // state changes.
  template <class T>
  void generic_timeout(std::string_view name, Duration after, T msg) {
    engine_.generic_timeout(name, after, std::move(msg));
  }
  template <class T>
  void update_generic_timeout(std::string_view name, T msg) {
    engine_.update_timeout(EventType::generic_timeout, name, std::move(msg));
  }
  void cancel_generic_timeout(std::string_view name) {
    engine_.cancel_timeout(EventType::generic_timeout, name);
  }
  // Answers a call once the running callback has returned (gen_statem's reply action); not
  // at all if the callback throws first. The value's type must be the caller's (as
  // ReplyTo::reply).
  template <class V>
  void reply(const ReplyTo& to, V&& value) {
    engine_.reply(to, std::forward<V>(value));
  }
  // stop(reason), parent() and server_name(): from Behaviour.

 private:
  // What Behaviour asks of a behaviour (otp/detail/behaviour.hpp); the engine does it.
  friend class detail::Behaviour<Derived, StateMachine>;
  static constexpr std::string_view behaviour_name = "StateMachine";

  template <class... A>
  Co<void> run_init(Derived& d, std::tuple<A...>& args) {
    return engine_.run_init(d, args);
  }
  auto& held() { return engine_.held(); }
  bool next(Derived& d, Co<void>& step) { return engine_.next(d, step, this->last_); }
  void handle(Derived& d, detail::Msg* m, Co<void>& step) {
    engine_.handle(d, m, step, this->last_);
  }

  detail::StateEngine<Derived, Data> engine_;
};

// The caller of a call event; copy it to answer from a later event.
class ReplyTo {
 public:
  ReplyTo() = default;
  explicit operator bool() const { return send_ != nullptr; }
  const Pid& caller() const { return caller_; }

  // Answers the call. The value's type must be the one the caller asked for
  // (the request's Reply); a string literal answers a Reply of std::string.
  template <class V>
  void reply(V&& value) const {
    if (send_ == nullptr) throw std::logic_error("otp::ReplyTo::reply: the event is not a call");
    using U = std::decay_t<V>;
    if constexpr (std::is_same_v<U, const char*> || std::is_same_v<U, char*>) {
      std::string s(value);
      send_(caller_, ref_, detail::type_of<std::string>(), &s);
    } else {
      U v(std::forward<V>(value));
      send_(caller_, ref_, detail::type_of<U>(), &v);
    }
  }

 private:
  friend struct detail::EventAccess;
  ReplyTo(Pid caller, Ref ref, detail::SendReply send) : caller_(caller), ref_(ref), send_(send) {}
  Pid caller_;
  Ref ref_;
  detail::SendReply send_ = nullptr;
};

// A call event seen as a request of type Req (Event::call<Req>()); empty when the event is
// something else. Its reply takes only a Req::Reply.
template <CallRequest Req>
class CallEvent {
 public:
  CallEvent() = default;
  CallEvent(Req* req, ReplyTo to) : req_(req), to_(to) {}
  explicit operator bool() const { return req_ != nullptr; }
  Req* operator->() const { return req_; }
  Req& operator*() const { return *req_; }
  void reply(typename Req::Reply value) const { to_.reply(std::move(value)); }
  // Keep a copy to answer from a later event.
  const ReplyTo& reply_to() const { return to_; }

 private:
  Req* req_ = nullptr;
  ReplyTo to_;
};

// What a state function handles: its type and its content (a message of any type).
class Event {
 public:
  Event(Event&& o) noexcept
      : node_(std::exchange(o.node_, nullptr)),
        content_(o.content_),
        content_type_(o.content_type_),
        type_(o.type_),
        reply_to_(o.reply_to_),
        timeout_name_(std::move(o.timeout_name_)) {}
  Event& operator=(Event&& o) noexcept {
    if (this != &o) {
      if (node_ != nullptr) detail::free_msg(node_);
      node_ = std::exchange(o.node_, nullptr);
      content_ = o.content_;
      content_type_ = o.content_type_;
      type_ = o.type_;
      reply_to_ = o.reply_to_;
      timeout_name_ = std::move(o.timeout_name_);
    }
    return *this;
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() {
    if (node_ != nullptr) detail::free_msg(node_);
  }

  EventType type() const { return type_; }
  // True when the content is a T.
  template <class T>
  bool is() const {
    return content_type_ == detail::type_of<T>();
  }
  // The content as a T, or null.
  template <class T>
  T* get() {
    if (!is<T>()) return nullptr;
    return content_ != nullptr ? static_cast<T*>(content_) : &detail::value_of<T>(node_);
  }
  template <class T>
  const T* get() const {
    return const_cast<Event*>(this)->get<T>();
  }
  template <class T>
  bool is_call() const {
    return type_ == EventType::call && is<T>();
  }
  // The call of a Req, answered through the result's reply; empty for any other event.
  template <CallRequest Req>
  CallEvent<Req> call() {
    return is_call<Req>() ? CallEvent<Req>(get<Req>(), reply_to_) : CallEvent<Req>();
  }
  template <class T>
  bool is_cast() const {
    return type_ == EventType::cast && is<T>();
  }
  template <class T>
  bool is_info() const {
    return type_ == EventType::info && is<T>();
  }
  template <class T>
  bool is_state_timeout() const {
    return type_ == EventType::state_timeout && is<T>();
  }
  template <class T>
  bool is_timeout() const {
    return type_ == EventType::timeout && is<T>();
  }
  // A generic time-out (generic_timeout(name, d, msg)), of any name or of `name`.
  template <class T>
  bool is_generic_timeout() const {
    return type_ == EventType::generic_timeout && is<T>();
  }
  template <class T>
  bool is_generic_timeout(std::string_view name) const {
    return is_generic_timeout<T>() && timeout_name_ == name;
  }
  // The name of a generic time-out; empty for other events.
  std::string_view timeout_name() const { return timeout_name_; }
  template <class T>
  bool is_internal() const {
    return type_ == EventType::internal && is<T>();
  }
  // A state enter call (only for a machine with state_enter).
  bool is_enter() const { return type_ == EventType::enter; }
  // The content's type name (for logs).
  std::string_view name() const { return content_type_->name; }

  // Answers a call event without the compile-time check of call<Req>().reply (see
  // ReplyTo::reply); throws std::logic_error for other events.
  template <class V>
  void reply(V&& value) const {
    reply_to_.reply(std::forward<V>(value));
  }
  const ReplyTo& reply_to() const { return reply_to_; }

 private:
  friend struct detail::EventAccess;
  Event() = default;

  detail::Msg* node_ = nullptr;  // owned
  void* content_ = nullptr;      // null: the node's own value
  const detail::MsgType* content_type_ = nullptr;
  EventType type_ = EventType::info;
  ReplyTo reply_to_;
  std::string timeout_name_;  // generic time-outs only
};

}  // namespace otp

#include "otp/detail/state_machine.hpp"  // IWYU pragma: export
