// The machinery of otp::StateMachine (otp/state_machine.hpp), which includes it at its
// end: include that header, not this one.
//
// A call or cast to a machine travels as a StateCall or StateCast, behaviour protocol
// messages (GenProtocol) that the triage in otp/detail/behaviour.hpp lets through; the
// engine turns each into an Event, and any other message into an info event.
//
// StateEngine is the gen_statem loop, one per machine, touched only by its process. Per
// event: the state function runs and records its actions (next_state, postpone,
// next_event, timeouts, replies); once it returns, apply_actions applies them in
// gen_statem's order: the replies go out, a state change cancels the state time-out and
// puts the postponed events back in front of the queue, next_event's events go in front
// of those, then the time-out actions, in the order they were made, keeping only the last
// one per timer (a timer is its kind, and its name for a generic one). The queue (inserted
// and replayed events) is served before the mailbox, and after it the time-outs zero,
// which start no timer: their ids wait in zero_queue_, and a state change or a newer
// time-out of the same timer cancels one by forgetting its entry in timers_. A real
// time-out is a StateTimer message carrying its id; one that fell due after being
// cancelled finds no entry with that id and is dropped. The event time-out is cancelled
// by any event, so it never starts while events are queued. timers_ holds the few running
// timers (state, event, one per generic name) and is searched in order. With state enter
// calls (D::state_enter), a change (or repeat_state) leaves an enter event pending, served
// before the queue; it is no event for the event time-out. A machine without them compiles
// none of it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
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
  static Event own(EventType et, T value, std::string_view timeout_name = {}) {
    Msg* m = make_msg<T>(std::move(value));
    Event ev = make(m, &value_of<T>(m), type_of<T>(), et);
    ev.timeout_name_ = timeout_name;
    return ev;
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
    record(TimerAction{EventType::state_timeout,
                       {},
                       TimerOp::set,
                       after,
                       EventAccess::own(EventType::state_timeout, std::move(msg))});
  }
  template <class T>
  void event_timeout(Duration after, T msg) {
    record(TimerAction{EventType::timeout,
                       {},
                       TimerOp::set,
                       after,
                       EventAccess::own(EventType::timeout, std::move(msg))});
  }
  template <class T>
  void generic_timeout(std::string_view name, Duration after, T msg) {
    record(TimerAction{EventType::generic_timeout, std::string(name), TimerOp::set, after,
                       EventAccess::own(EventType::generic_timeout, std::move(msg), name)});
  }
  template <class T>
  void update_timeout(EventType kind, std::string_view name, T msg) {
    record(TimerAction{kind, std::string(name), TimerOp::update, Duration::zero(),
                       EventAccess::own(kind, std::move(msg), name)});
  }
  void cancel_timeout(EventType kind, std::string_view name) {
    record(TimerAction{kind, std::string(name), TimerOp::cancel, Duration::zero(),
                       EventAccess::empty()});
  }
  template <class V>
  void reply(const ReplyTo& to, V&& value) {
    if (!to) throw std::logic_error("otp::StateMachine::reply: not the caller of a call");
    using U = std::conditional_t<std::is_convertible_v<V, std::string_view> &&
                                     std::is_pointer_v<std::decay_t<V>>,
                                 std::string, std::decay_t<V>>;
    replies_.push_back(std::make_unique<Reply<U>>(to, U(std::forward<V>(value))));
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
  enum class TimerOp : unsigned char { set, update, cancel };
  // A time-out action of the running callback. A timer is its kind (state_timeout,
  // timeout or generic_timeout) and, for a generic one, its name.
  struct TimerAction {
    EventType kind;
    std::string name;
    TimerOp op;
    Duration after;
    Event ev;  // set and update
  };
  struct Running {
    EventType kind;
    std::string name;
    std::uint64_t id;
    TimerRef ref;
    Event ev;
    bool zero = false;  // a time-out zero: no timer, its id waits in zero_queue_
  };
  // A reply action, sent once the callback has returned.
  struct PendingReply {
    virtual ~PendingReply() = default;
    virtual void send() = 0;
  };
  template <class V>
  struct Reply final : PendingReply {
    Reply(const ReplyTo& to, V value) : to(to), value(std::move(value)) {}
    void send() override { to.reply(std::move(value)); }
    ReplyTo to;
    V value;
  };

  // Runs the state function on the event, then the actions it made.
  void run(Derived& d, Event ev, Co<void>& step, const MsgType*& last) {
    if constexpr (uses_state_enter<Derived>) {
      entering_ = ev.type() == EventType::enter;
      if (!entering_ && ev.type() != EventType::timeout) cancel(EventType::timeout, {});
    } else {
      if (ev.type() != EventType::timeout) cancel(EventType::timeout, {});
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

  // Only the last time-out action on a timer counts (as in gen_statem).
  void record(TimerAction a) {
    std::erase_if(timer_actions_,
                  [&](const TimerAction& o) { return o.kind == a.kind && o.name == a.name; });
    timer_actions_.push_back(std::move(a));
  }

  Running* find(EventType kind, std::string_view name) {
    for (auto& t : timers_)
      if (t.kind == kind && t.name == name) return &t;
    return nullptr;
  }
  // Takes the event of the running timer `id` (a real or a zero one) and forgets the timer.
  bool take(std::uint64_t id, bool zero, Event& ev) {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->id == id && it->zero == zero) {
        ev = std::move(it->ev);
        timers_.erase(it);
        return true;
      }
    }
    return false;
  }

  // The oldest time-out zero still live (a state change or a newer time-out of
  // its kind cancels one by forgetting its timer; its id is then skipped here).
  bool take_zero_timeout(Event& ev) {
    while (!zero_queue_.empty()) {
      std::uint64_t id = zero_queue_.front();
      zero_queue_.pop_front();
      if (take(id, true, ev)) return true;
    }
    return false;
  }
  bool zero_timeout_queued() const {
    return std::ranges::any_of(timers_, [](const Running& t) { return t.zero; });
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
      return take(id, false, ev);  // false: cancelled after it fell due
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
    for (auto& r : replies_) r->send();
    replies_.clear();
    if (next_) state_ = *std::exchange(next_, std::nullopt);
    if (changed) {
      cancel(EventType::state_timeout, {});
      for (auto it = postponed_.rbegin(); it != postponed_.rend(); ++it)
        queue_.push_front(std::move(*it));
      postponed_.clear();
    }
    for (auto it = inserted_.rbegin(); it != inserted_.rend(); ++it)
      queue_.push_front(std::move(*it));
    inserted_.clear();
    // In the order they were asked for: a time-out zero queued first is an event
    // that comes before the event time-out, which it therefore cancels.
    for (auto& a : timer_actions_) apply_timer(a);
    timer_actions_.clear();
  }

  void apply_timer(TimerAction& a) {
    switch (a.op) {
      case TimerOp::cancel:
        cancel(a.kind, a.name);
        return;
      case TimerOp::update:
        if (Running* t = find(a.kind, a.name)) {
          t->ev = std::move(a.ev);  // the timer keeps its time (or its place, when zero)
          return;
        }
        a.after = Duration::zero();  // none runs: a time-out zero of the new message
        break;
      case TimerOp::set:
        break;
    }
    // Any event cancels the event time-out, so none starts while events are queued.
    if (a.kind == EventType::timeout && (!queue_.empty() || zero_timeout_queued())) {
      cancel(a.kind, a.name);
      return;
    }
    start_timer(a);
  }

  // A time-out zero starts no timer: it is queued after the events already queued
  // and before the mailbox (gen_statem's time-out zero queue).
  void start_timer(TimerAction& a) {
    cancel(a.kind, a.name);
    if (a.after == infinity) return;
    std::uint64_t id = ++timer_seq_;
    if (a.after <= Duration::zero()) {
      zero_queue_.push_back(id);
      timers_.push_back(Running{a.kind, std::move(a.name), id, TimerRef{}, std::move(a.ev), true});
      return;
    }
    TimerRef ref = send_after(a.after, self(), StateTimer{id});
    timers_.push_back(Running{a.kind, std::move(a.name), id, ref, std::move(a.ev)});
  }
  void cancel(EventType kind, std::string_view name) {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->kind == kind && it->name == name) {
        if (!it->zero) cancel_timer(it->ref);
        timers_.erase(it);
        return;
      }
    }
  }

  std::optional<Data> data_;
  StateFn state_;
  StateFn previous_;  // before the last change
  std::optional<StateFn> next_;
  std::deque<Event> queue_;                 // inserted and replayed events, before the mailbox
  std::vector<Event> postponed_;            // in arrival order
  std::vector<Event> inserted_;             // next_event actions of the running callback
  std::vector<TimerAction> timer_actions_;  // of the running callback, the last per timer
  std::vector<std::unique_ptr<PendingReply>> replies_;  // of the running callback
  std::vector<Running> timers_;                         // running, a few: searched in order
  std::deque<std::uint64_t> zero_queue_;                // ids of time-outs zero, oldest first
  std::uint64_t timer_seq_ = 0;
  const Event* current_ = nullptr;
  bool postpone_ = false;
  bool repeat_ = false;         // repeat_state asked for by the running callback
  bool enter_pending_ = false;  // a state enter call is due (state_enter only)
  bool entering_ = false;       // the running callback is a state enter call
};

}  // namespace otp::detail
