// otp::RequestId — a call sent now and answered later (gen_server:send_request and its
// receive_response, wait_response and check_response), and otp::RequestIds, a collection of them
// with a label each (OTP 25's reqids_new, reqids_add, reqids_size, reqids_to_list).
//
//   auto a = Counter::send_request(pid_a, Counter::Get{});   // sent; the caller runs on
//   auto b = Counter::send_request(pid_b, Counter::Get{});
//   otp::CallResult<int> got = co_await otp::receive_response(a, 1s);
//
//   otp::RequestIds<int, std::string> asked;                 // answers in the order they come
//   asked.add(Counter::send_request(pid_a, Counter::Get{}), "a");
//   asked.add(Counter::send_request(pid_b, Counter::Get{}), "b");
//   while (auto r = co_await otp::receive_response(asked, 1s)) use(r->label, r->result);
//
// A request is a call split in two: send_request monitors the server (the monitor's ref is the
// request id and the alias the reply comes through, as for a call) and sends; the answer is the
// reply, or the server's Down (noproc when there was no server). receive_response waits for it
// and gives up the request when the time runs out, so that a late reply is dropped;
// wait_response keeps it; check_response takes a message that has already been received (a
// server's handle_info of otp::Response<R> and otp::Down) and says whether it answers the
// request. Only the process that sent a request may wait for it.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "otp/detail/gen_server.hpp"
#include "otp/pid.hpp"
#include "otp/process.hpp"
#include "otp/reason.hpp"
#include "otp/reply.hpp"

namespace otp {

// A request sent with D::send_request, answered with an R.
template <class R>
class RequestId {
 public:
  RequestId() = default;
  explicit RequestId(Ref ref) : ref_(ref) {}
  // The monitor's ref: the tag of the reply and of the Down.
  const Ref& ref() const { return ref_; }
  friend bool operator==(const RequestId&, const RequestId&) = default;

 private:
  Ref ref_;
};

// The reply to a request, as a message: what a GenServer lists in its Info (and takes in
// handle_info) to see the answers to its own requests, and hands to check_response.
template <class R>
using Response = detail::CallReply<R>;

// An answer taken from a collection: the label it was added with, and the reply or the reason.
template <class R, class L>
struct LabeledResult {
  L label;
  CallResult<R> result;
};

// Requests answered with an R, each with a label of type L (OTP's request id collection).
// Answers are taken in the order they arrive; one that is taken leaves the collection.
template <class R, class L>
class RequestIds {
 public:
  // reqids_add: adds `id` with `label`. An id that is already there is a logic error.
  void add(RequestId<R> id, L label) {
    for (const auto& e : entries_) {
      if (e.first == id.ref()) throw std::logic_error("otp::RequestIds::add: the id is there");
    }
    entries_.emplace_back(id.ref(), std::move(label));
  }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // reqids_to_list: the ids and their labels, in the order they were added.
  std::vector<std::pair<RequestId<R>, L>> to_list() const {
    std::vector<std::pair<RequestId<R>, L>> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) out.emplace_back(RequestId<R>(e.first), e.second);
    return out;
  }
  bool contains(const Ref& ref) const { return find(ref) != entries_.size(); }

  // The entry with `ref`, removed; its label.
  L take(const Ref& ref) {
    std::size_t i = find(ref);
    L label = std::move(entries_[i].second);
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
    return label;
  }
  // Gives up every request: no reply or Down of theirs reaches the mailbox after this.
  void abandon() {
    for (const auto& e : entries_) demonitor(e.first, true);
    entries_.clear();
  }

 private:
  std::size_t find(const Ref& ref) const {
    std::size_t i = 0;
    while (i < entries_.size() && !(entries_[i].first == ref)) ++i;
    return i;
  }
  std::vector<std::pair<Ref, L>> entries_;
};

namespace detail {

// The answer a response message or a Down gives, once the monitor is dealt with.
template <class R>
CallResult<R> take_response(Msg* m) {
  if (is<Down>(m)) return CallResult<R>(value_of<Down>(m).reason);
  auto& reply = value_of<CallReply<R>>(m);
  if (reply.unwatched) {
    forget_monitor(reply.ref);
  } else {
    demonitor(reply.ref, true);
  }
  return CallResult<R>(std::move(reply.value));
}

// receive_response / wait_response of one request.
template <class R>
class [[nodiscard]] ResponseWait : public CallWait<R> {
 public:
  ResponseWait(Ref ref, Duration t, bool abandon) : CallWait<R>(ref, t), abandon_(abandon) {}
  CallResult<R> await_resume() {
    Msg* got = CallWait<R>::await_resume();
    if (got == nullptr) {
      if (abandon_) demonitor(this->ref_, true);
      return CallResult<R>(Reason::timeout());
    }
    MsgGuard guard{got};
    return take_response<R>(got);
  }

 private:
  bool abandon_;
};

// receive_response / wait_response of a collection: the first answer to any of its requests.
template <class R, class L>
class [[nodiscard]] ResponsesWait : public RawWait {
 public:
  ResponsesWait(RequestIds<R, L>& ids, Duration t, bool abandon) : ids_(ids), abandon_(abandon) {
    match = &matches;
    timeout = t;
  }
  bool await_ready() noexcept { return ids_.empty() || RawWait::await_ready(); }
  // nullopt: the collection is empty, or no answer came in time.
  std::optional<LabeledResult<R, L>> await_resume() {
    if (ids_.empty()) return std::nullopt;
    Msg* got = RawWait::await_resume();
    if (got == nullptr) {
      if (abandon_) ids_.abandon();
      return std::nullopt;
    }
    MsgGuard guard{got};
    const Ref ref = is<Down>(got) ? value_of<Down>(got).ref : value_of<CallReply<R>>(got).ref;
    L label = ids_.take(ref);
    return LabeledResult<R, L>{std::move(label), take_response<R>(got)};
  }

 private:
  static bool matches(Waiter* w, Msg* m) {
    auto& ids = static_cast<ResponsesWait*>(w)->ids_;
    return (is<CallReply<R>>(m) && ids.contains(value_of<CallReply<R>>(m).ref)) ||
           (is<Down>(m) && ids.contains(value_of<Down>(m).ref));
  }
  RequestIds<R, L>& ids_;
  bool abandon_;
};

}  // namespace detail

// Waits up to `timeout` for the answer to `id`: the reply, or the reason (the server's exit
// reason, noproc, or timeout). At the timeout the request is given up: a later reply is dropped.
template <class R>
detail::ResponseWait<R> receive_response(const RequestId<R>& id, Duration timeout = infinity) {
  return detail::ResponseWait<R>(id.ref(), timeout, true);
}
// As receive_response, but a timeout keeps the request: it may be waited for again.
template <class R>
detail::ResponseWait<R> wait_response(const RequestId<R>& id, Duration timeout = infinity) {
  return detail::ResponseWait<R>(id.ref(), timeout, false);
}
// The first answer to any request of `ids`, with its label; the request leaves `ids`. nullopt
// when `ids` is empty (OTP's no_request) or when nothing came within `timeout`; at the timeout
// every request of `ids` is given up and `ids` is left empty.
template <class R, class L>
detail::ResponsesWait<R, L> receive_response(RequestIds<R, L>& ids, Duration timeout = infinity) {
  return detail::ResponsesWait<R, L>(ids, timeout, true);
}
// As receive_response, but a timeout keeps the requests in `ids`.
template <class R, class L>
detail::ResponsesWait<R, L> wait_response(RequestIds<R, L>& ids, Duration timeout = infinity) {
  return detail::ResponsesWait<R, L>(ids, timeout, false);
}

// Whether a message already received answers `id`: the answer, or nullopt (OTP's no_reply).
template <class R>
std::optional<CallResult<R>> check_response(Response<R>& msg, const RequestId<R>& id) {
  if (!(msg.ref == id.ref())) return std::nullopt;
  if (msg.unwatched) {
    detail::forget_monitor(msg.ref);
  } else {
    demonitor(msg.ref, true);
  }
  return CallResult<R>(std::move(msg.value));
}
template <class R>
std::optional<CallResult<R>> check_response(const Down& msg, const RequestId<R>& id) {
  if (!(msg.ref == id.ref())) return std::nullopt;
  return CallResult<R>(msg.reason);
}
// The same for a collection: the answer and its label, the request leaving `ids`; nullopt when
// the message answers none of them.
template <class R, class L>
std::optional<LabeledResult<R, L>> check_response(Response<R>& msg, RequestIds<R, L>& ids) {
  if (!ids.contains(msg.ref)) return std::nullopt;
  L label = ids.take(msg.ref);
  auto result = check_response(msg, RequestId<R>(msg.ref));
  return LabeledResult<R, L>{std::move(label), std::move(*result)};
}
template <class R, class L>
std::optional<LabeledResult<R, L>> check_response(const Down& msg, RequestIds<R, L>& ids) {
  if (!ids.contains(msg.ref)) return std::nullopt;
  return LabeledResult<R, L>{ids.take(msg.ref), CallResult<R>(msg.reason)};
}

}  // namespace otp
