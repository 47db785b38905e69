// The machinery of otp::StateMachine (otp/state_machine.hpp), which includes it at its
// end: include that header, not this one.
//
// A call or cast to a machine travels as a StateCall or StateCast, behaviour protocol
// messages (GenProtocol) that the triage in otp/detail/behaviour.hpp lets through; the
// engine turns each into an Event, and any other message into an info event.
//
// StateEngine is the gen_statem loop, one per machine, touched only by its process. Per
// event: the state function runs and records its actions (next_state, postpone,
// next_event, timeouts); once it returns, apply_actions applies them in gen_statem's
// order. A state change cancels the state time-out and puts the postponed events back in
// front of the queue; next_event's events go in front of those. The queue (inserted and
// replayed events) is served before the mailbox, and after it the time-outs zero, which
// start no timer: their ids wait in zero_queue_, and a state change or a newer time-out
// of the same kind cancels one by resetting its slot. A real time-out is a StateTimer
// message carrying its id; one that fell due after being cancelled finds no slot with
// that id and is dropped. The event time-out is cancelled by any event, so it never
// starts while events are queued. With state enter calls (D::state_enter), a change (or
// repeat_state) leaves an enter event pending, served before the queue; it is no event for
// the event time-out. A machine without them compiles none of it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "otp/co.hpp"
#include "otp/detail/msg.hpp"
#include "otp/detail/type_name.hpp"
#include "otp/gen_server.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/timer.hpp"

namespace otp::detail {

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

template <class D>
constexpr bool uses_state_enter = requires {
  requires D::state_enter;
};

template <class Derived, class Data>
class StateEngine {
 public:
  using PlainState = void (Derived::*)(Event&);
  using CoState = Co<void> (Derived::*)(Event&);

  Data& data() { return *data_; }
  const Data& data() const { return *data_; }

  void set_state(PlainState s) { next_ = StateFn{s, nullptr}; }
  void set_state(CoState s) { next_ = StateFn{nullptr, s}; }
  bool in_state(PlainState s) const { return state_ == StateFn{s, nullptr}; }
  bool in_state(CoState s) const { return state_ == StateFn{nullptr, s}; }
  bool was_in_state(PlainState s) const { return previous_ == StateFn{s, nullptr}; }
  bool was_in_state(CoState s) const { return previous_ == StateFn{nullptr, s}; }
  void repeat_state() { repeat_ = true; }

  void postpone(const Event& ev) {
    if (&ev != current_)
      throw std::logic_error("otp::StateMachine::postpone: not the event being handled");
    if (entering_) throw std::logic_error("otp::StateMachine::postpone: in a state enter call");
    postpone_ = true;
  }
  template <class T>
  void next_event(T msg) {
    if (entering_) throw std::logic_error("otp::StateMachine::next_event: in a state enter call");
    inserted_.push_back(EventAccess::own(EventType::internal, std::move(msg)));
  }
  template <class T>
  void state_timeout(Duration after, T msg) {
    pending_state_timer_.emplace(
        Pending{after, EventAccess::own(EventType::state_timeout, std::move(msg)), ++action_seq_});
  }
  void cancel_state_timeout() {
    pending_state_timer_.reset();
    cancel(state_timer_);
  }
  template <class T>
  void event_timeout(Duration after, T msg) {
    pending_event_timer_.emplace(
        Pending{after, EventAccess::own(EventType::timeout, std::move(msg)), ++action_seq_});
  }

  template <class... A>
  Co<void> run_init(Derived& d, std::tuple<A...>& args) {
    auto init = [&] { return std::apply([&](A&... a) { return d.init(a...); }, args); };
    if constexpr (unwrap_co<decltype(init())>::is_co) {
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
  bool next(Derived& d, Co<void>& step, const MsgType*& last) {
    if constexpr (uses_state_enter<Derived>) {
      if (enter_pending_) {
        enter_pending_ = false;
        run(d, EventAccess::own(EventType::enter, StateEnter{}), step, last);
        return true;
      }
    }
    Event ev = EventAccess::empty();
    if (!queue_.empty()) {
      ev = std::move(queue_.front());
      queue_.pop_front();
    } else if (!take_zero_timeout(ev)) {
      return false;
    }
    run(d, std::move(ev), step, last);
    return true;
  }
  // A message past the triage.
  void handle(Derived& d, Msg* m, Co<void>& step, const MsgType*& last) {
    Event ev = EventAccess::empty();
    if (classify(m, ev)) run(d, std::move(ev), step, last);
  }

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

  // Runs the state function on the event, then the actions it made.
  void run(Derived& d, Event ev, Co<void>& step, const MsgType*& last) {
    if constexpr (uses_state_enter<Derived>) {
      entering_ = ev.type() == EventType::enter;
      if (!entering_ && ev.type() != EventType::timeout) cancel(event_timer_);
    } else {
      if (ev.type() != EventType::timeout) cancel(event_timer_);
    }
    last = EventAccess::content_type(ev);
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
    if constexpr (uses_state_enter<Derived>) {
      if (std::exchange(entering_, false) && next_ && !(*next_ == state_)) {
        throw std::logic_error(
            "{bad_state_enter_return, a state enter call may not change the state}");
      }
    }
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
  bool classify(Msg* m, Event& ev) {
    if (auto* proto = static_cast<const GenProtocol*>(m->type->protocol)) {
      Co<void> unused;
      proto->handle(&ev, m, unused);  // a call or cast of this machine's (past the triage)
      return true;
    }
    if (is<StateTimer>(m)) {
      std::uint64_t id = value_of<StateTimer>(m).id;
      free_msg(m);
      for (auto* timer : {&state_timer_, &event_timer_}) {
        if (*timer && (*timer)->id == id) {
          ev = std::move((*timer)->ev);
          timer->reset();
          return true;
        }
      }
      return false;  // cancelled after it fell due
    }
    ev = EventAccess::make(m, nullptr, m->type, EventType::info);
    return true;
  }

  // Applies the transition's actions once its callback has returned.
  void apply_actions() {
    bool changed = next_ && !(*next_ == state_);
    if constexpr (uses_state_enter<Derived>) {
      // The state it came from: after init, the first state itself (as gen_statem's OldState).
      if (changed) previous_ = state_ == StateFn{} ? *next_ : state_;
      if (!changed && repeat_) previous_ = state_;
      if (changed || repeat_) enter_pending_ = true;
    } else if (changed) {
      previous_ = state_ == StateFn{} ? *next_ : state_;
    }
    repeat_ = false;
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
    TimerRef ref = send_after(p.after, self(), StateTimer{id});
    timer.emplace(Running{id, ref, std::move(p.ev)});
  }
  static void cancel(std::optional<Running>& timer) {
    if (!timer) return;
    if (!timer->zero) cancel_timer(timer->ref);
    timer.reset();
  }

  std::optional<Data> data_;
  StateFn state_;
  StateFn previous_;  // before the last change
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
  bool repeat_ = false;         // repeat_state asked for by the running callback
  bool enter_pending_ = false;  // a state enter call is due (state_enter only)
  bool entering_ = false;       // the running callback is a state enter call
};

}  // namespace otp::detail
