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
// Events: call (Door::call; a request that can be called names its reply type
// as a member `using Reply = T`, the caller gets a T, and the state function
// answers through ev.call<Req>(), whose reply takes only a T; or later through
// a copy of its reply_to()), cast, info (any other message, Exit and Down
// included), state_timeout, timeout (the event timeout) and internal
// (next_event).
// Actions, made while handling an event (or in init):
//   next_state(&D::s)       a change when s differs from the current state
//   postpone(ev)            ev is handled again after the next state change; postponed
//                           events come back in the order they arrived
//   next_event(msg)         an internal event, handled before any queued message
//                           (inserted events come before replayed postponed ones)
//   state_timeout(d, msg)   a state_timeout event after d, unless the state changes first;
//                           setting it again restarts it
//   event_timeout(d, msg)   a timeout event after d, unless some event comes first
//                           (never started while events are queued)
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

#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "otp/co.hpp"
#include "otp/detail/behaviour.hpp"
#include "otp/detail/msg.hpp"
#include "otp/detail/type_name.hpp"
#include "otp/gen_server.hpp"
#include "otp/logger.hpp"
#include "otp/observer.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/receive.hpp"
#include "otp/timer.hpp"

namespace otp {

enum class EventType : unsigned char { call, cast, info, state_timeout, timeout, internal };

namespace detail {
struct EventAccess;
using SendReply = void (*)(const Pid& to, Ref ref, const MsgType* type, void* value);

// Sends the reply of a call whose caller expects an R; any other type ends
// the machine with {bad_reply, ...}.
template <class R>
void send_reply_as(const Pid& to, Ref ref, const MsgType* type, void* value) {
  if (type != type_of<R>()) {
    otp::exit(
        Reason::other(fmt::format("{{bad_reply, {}, expected {}}}", type->name, type_name<R>())));
  }
  send(Alias{to, ref}, CallReply<R>{ref, std::move(*static_cast<R*>(value))});
}
}  // namespace detail

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

// A request that can be called: it names the type of its answer.
template <class Req>
concept CallRequest = requires {
  typename Req::Reply;
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
        reply_to_(o.reply_to_) {}
  Event& operator=(Event&& o) noexcept {
    if (this != &o) {
      if (node_ != nullptr) detail::free_msg(node_);
      node_ = std::exchange(o.node_, nullptr);
      content_ = o.content_;
      content_type_ = o.content_type_;
      type_ = o.type_;
      reply_to_ = o.reply_to_;
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
  template <class T>
  bool is_internal() const {
    return type_ == EventType::internal && is<T>();
  }
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
};

namespace detail {

struct EventAccess {
  static Event make(Msg* node, void* content, const MsgType* type, EventType et, ReplyTo to = {}) {
    Event ev;
    ev.node_ = node;
    ev.content_ = content;
    ev.content_type_ = type;
    ev.type_ = et;
    ev.reply_to_ = to;
    return ev;
  }
  static Event empty() { return Event{}; }
  static const MsgType* content_type(const Event& ev) { return ev.content_type_; }
  static ReplyTo reply_to(Pid caller, Ref ref, SendReply send) {
    return ReplyTo(caller, ref, send);
  }
  template <class T>
  static Event own(EventType et, T value) {
    Msg* m = make_msg<T>(std::move(value));
    return make(m, &value_of<T>(m), type_of<T>(), et);
  }
};

// A call to state machine D; the caller expects an R.
template <class D, class Req, class R>
struct StateCall {
  Req req;
  From<R> from;

  // Turns the message into the Event at `ev` (GenProtocol's handler slot).
  static void handle(void* ev, Msg* m, Co<void>&) {
    auto& msg = value_of<StateCall>(m);
    *static_cast<Event*>(ev) =
        EventAccess::make(m, &msg.req, type_of<Req>(), EventType::call,
                          EventAccess::reply_to(msg.from.caller, msg.from.ref, &send_reply_as<R>));
  }
  static constexpr GenProtocol protocol{GenProtocol::Kind::call, &server_tag<D>, &handle};
};

template <class D, class Req>
struct StateCast {
  Req req;
  static void handle(void* ev, Msg* m, Co<void>&) {
    auto& msg = value_of<StateCast>(m);
    *static_cast<Event*>(ev) = EventAccess::make(m, &msg.req, type_of<Req>(), EventType::cast);
  }
  static constexpr GenProtocol protocol{GenProtocol::Kind::cast, &server_tag<D>, &handle};
};

// A state or event timer falling due; `id` tells a live timer from a cancelled one.
struct StateTimer {
  std::uint64_t id;
};

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
  Data& data() { return *data_; }
  const Data& data() const { return *data_; }

  // The first state (in init); elsewhere the same as next_state.
  void set_state(PlainState s) { next_ = StateFn{s, nullptr}; }
  void set_state(CoState s) { next_ = StateFn{nullptr, s}; }
  void next_state(PlainState s) { set_state(s); }
  void next_state(CoState s) { set_state(s); }
  bool in_state(PlainState s) const { return state_ == StateFn{s, nullptr}; }
  bool in_state(CoState s) const { return state_ == StateFn{nullptr, s}; }

  void postpone(const Event& ev) {
    if (&ev != current_)
      throw std::logic_error("otp::StateMachine::postpone: not the event being handled");
    postpone_ = true;
  }
  template <class T>
  void next_event(T msg) {
    inserted_.push_back(detail::EventAccess::own(EventType::internal, std::move(msg)));
  }
  template <class T>
  void state_timeout(Duration after, T msg) {
    pending_state_timer_.emplace(Pending{
        after, detail::EventAccess::own(EventType::state_timeout, std::move(msg)), ++action_seq_});
  }
  void cancel_state_timeout() {
    pending_state_timer_.reset();
    cancel(state_timer_);
  }
  template <class T>
  void event_timeout(Duration after, T msg) {
    pending_event_timer_.emplace(Pending{
        after, detail::EventAccess::own(EventType::timeout, std::move(msg)), ++action_seq_});
  }
  // stop(reason), parent() and server_name(): from Behaviour.

 private:
  struct StateFn {
    PlainState plain = nullptr;
    CoState co = nullptr;
    bool operator==(const StateFn&) const = default;
  };
  struct Pending {
    Duration after;
    Event ev;
    std::uint64_t order;  // when the action was made, among the transition's timeouts
  };
  struct Running {
    std::uint64_t id;
    TimerRef ref;
    Event ev;
    bool zero = false;  // a time-out zero: no timer, its id waits in zero_queue_
  };

  friend class detail::Behaviour<Derived, StateMachine>;
  static constexpr std::string_view behaviour_name = "StateMachine";

  template <class... A>
  Co<void> run_init(Derived& d, std::tuple<A...>& args) {
    auto init = [&] { return std::apply([&](A&... a) { return d.init(a...); }, args); };
    if constexpr (detail::unwrap_co<decltype(init())>::is_co) {
      data_.emplace(co_await init());
    } else {
      data_.emplace(init());
    }
    if (!next_)
      throw std::logic_error("otp::StateMachine: init must choose the first state with set_state");
    apply_actions();
  }

  std::optional<Data>& held() { return data_; }

  // An inserted or replayed event, or a time-out zero, before the mailbox.
  bool next(Derived& d, Co<void>& step) {
    Event ev = detail::EventAccess::empty();
    if (!queue_.empty()) {
      ev = std::move(queue_.front());
      queue_.pop_front();
    } else if (!take_zero_timeout(ev)) {
      return false;
    }
    run(d, std::move(ev), step);
    return true;
  }
  // A message past the triage.
  void handle(Derived& d, detail::Msg* m, Co<void>& step) {
    Event ev = detail::EventAccess::empty();
    if (classify(m, ev)) run(d, std::move(ev), step);
  }

  // Runs the state function on the event, then the actions it made.
  void run(Derived& d, Event ev, Co<void>& step) {
    if (ev.type() != EventType::timeout) cancel(event_timer_);
    this->last_ = detail::EventAccess::content_type(ev);
    if (state_.co != nullptr) {
      step = run_waiting(d, std::move(ev));
      return;
    }
    current_ = &ev;
    postpone_ = false;
    (d.*state_.plain)(ev);
    handled(std::move(ev));
  }
  Co<void> run_waiting(Derived& d, Event ev) {
    current_ = &ev;
    postpone_ = false;
    co_await (d.*state_.co)(ev);
    handled(std::move(ev));
  }
  void handled(Event&& ev) {
    current_ = nullptr;
    if (postpone_) postponed_.push_back(std::move(ev));
    apply_actions();
  }

  // The oldest time-out zero still live (a state change or a newer time-out of
  // its kind cancels one by resetting its slot; its id is then skipped here).
  bool take_zero_timeout(Event& ev) {
    while (!zero_queue_.empty()) {
      std::uint64_t id = zero_queue_.front();
      zero_queue_.pop_front();
      for (auto* timer : {&state_timer_, &event_timer_}) {
        if (*timer && (*timer)->zero && (*timer)->id == id) {
          ev = std::move((*timer)->ev);
          timer->reset();
          return true;
        }
      }
    }
    return false;
  }
  bool zero_timeout_queued() const {
    return (state_timer_ && state_timer_->zero) || (event_timer_ && event_timer_->zero);
  }

  // Makes an event of a message; false when there is none to handle.
  bool classify(detail::Msg* m, Event& ev) {
    if (auto* proto = static_cast<const detail::GenProtocol*>(m->type->protocol)) {
      Co<void> unused;
      proto->handle(&ev, m, unused);  // a call or cast of this machine's (past the triage)
      return true;
    }
    if (detail::is<detail::StateTimer>(m)) {
      std::uint64_t id = detail::value_of<detail::StateTimer>(m).id;
      detail::free_msg(m);
      for (auto* timer : {&state_timer_, &event_timer_}) {
        if (*timer && (*timer)->id == id) {
          ev = std::move((*timer)->ev);
          timer->reset();
          return true;
        }
      }
      return false;  // cancelled after it fell due
    }
    ev = detail::EventAccess::make(m, nullptr, m->type, EventType::info);
    return true;
  }

  // Applies the transition's actions once its callback has returned.
  void apply_actions() {
    bool changed = next_ && !(*next_ == state_);
    if (next_) state_ = *std::exchange(next_, std::nullopt);
    if (changed) {
      cancel(state_timer_);
      for (auto it = postponed_.rbegin(); it != postponed_.rend(); ++it)
        queue_.push_front(std::move(*it));
      postponed_.clear();
    }
    for (auto it = inserted_.rbegin(); it != inserted_.rend(); ++it)
      queue_.push_front(std::move(*it));
    inserted_.clear();
    // In the order they were asked for: a state time-out zero queued first is an
    // event that comes before the event time-out, which it therefore cancels.
    const bool event_first = pending_event_timer_ && pending_state_timer_ &&
                             pending_event_timer_->order < pending_state_timer_->order;
    if (event_first) start_event_timeout();
    if (pending_state_timer_) {
      Pending p = std::move(*pending_state_timer_);
      pending_state_timer_.reset();
      start_timer(state_timer_, std::move(p));
    }
    if (pending_event_timer_) start_event_timeout();
  }

  // Any event cancels the event time-out, so none starts while events are queued.
  void start_event_timeout() {
    Pending p = std::move(*pending_event_timer_);
    pending_event_timer_.reset();
    if (queue_.empty() && !zero_timeout_queued()) start_timer(event_timer_, std::move(p));
  }

  // A time-out zero starts no timer: it is queued after the events already queued
  // and before the mailbox (gen_statem's time-out zero queue).
  void start_timer(std::optional<Running>& timer, Pending p) {
    cancel(timer);
    if (p.after == infinity) return;
    std::uint64_t id = ++timer_seq_;
    if (p.after <= Duration::zero()) {
      zero_queue_.push_back(id);
      timer.emplace(Running{id, TimerRef{}, std::move(p.ev), true});
      return;
    }
    TimerRef ref = send_after(p.after, self(), detail::StateTimer{id});
    timer.emplace(Running{id, ref, std::move(p.ev)});
  }
  static void cancel(std::optional<Running>& timer) {
    if (!timer) return;
    if (!timer->zero) cancel_timer(timer->ref);
    timer.reset();
  }

  std::optional<Data> data_;
  StateFn state_;
  std::optional<StateFn> next_;
  std::deque<Event> queue_;       // inserted and replayed events, before the mailbox
  std::vector<Event> postponed_;  // in arrival order
  std::vector<Event> inserted_;   // next_event actions of the running callback
  std::optional<Pending> pending_state_timer_;
  std::optional<Pending> pending_event_timer_;
  std::optional<Running> state_timer_;
  std::optional<Running> event_timer_;
  std::deque<std::uint64_t> zero_queue_;  // ids of time-outs zero, oldest first
  std::uint64_t timer_seq_ = 0;
  std::uint64_t action_seq_ = 0;
  const Event* current_ = nullptr;
  bool postpone_ = false;
};

}  // namespace otp
