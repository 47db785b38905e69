#include "otp/gen_server.hpp"

#include "runtime/runtime_impl.hpp"

namespace otp {

std::optional<Pid> Name::whereis() const {
  if (via_.registry != nullptr) return via_.whereis();
  if (local_.empty()) return std::nullopt;
  return otp::whereis(local_);
}

bool Name::register_pid(const Pid& pid) const {
  if (via_.registry != nullptr) return via_.registry->register_name(via_.key, pid);
  return otp::register_name(local_, pid);
}

void Name::unregister_self() const {
  if (via_.registry != nullptr) {
    if (via_.whereis() == self()) via_.registry->unregister_name(via_.key);
  } else if (!local_.empty() && otp::whereis(local_) == self()) {
    otp::unregister_name(local_);
  }
}

std::string StartResult::to_string() const {
  switch (kind_) {
    case Kind::ok:
      return fmt::format("{{:ok, {}}}", pid_);
    case Kind::ignore:
      return ":ignore";
    case Kind::already_started:
      return fmt::format("{{:error, {{:already_started, {}}}}}", pid_);
    case Kind::error:
      break;
  }
  return fmt::format("{{:error, {}}}", reason_);
}

namespace detail {

std::string timeout_text(Duration timeout) {
  if (timeout == infinity) return ":infinity";
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
}

void call_failed(Reason reason, std::string what) {
  std::string why;
  if (reason.kind() == Reason::Kind::noproc) {
    why = "no process: the process is not alive or no process is registered under that name";
  } else if (reason.is_timeout()) {
    why = "time out";
  } else {
    why = reason.to_string();
  }
  std::string message = fmt::format("** (exit) exited in: {} ** (EXIT) {}", module_name(what), why);
  throw ExitError(std::move(reason), message);
}

Start await_start(Pid child, Ref tag) {
  Ref mref = monitor(child);
  StartResult result =
      co_await receive(match<StartAck>([tag](const StartAck& a) { return a.ref == tag; },
                                       [](StartAck a) { return std::move(a.result); }),
                       match<Down>([mref](const Down& d) { return d.ref == mref; },
                                   [](Down d) { return StartResult::error(std::move(d.reason)); }));
  demonitor(mref, true);
  co_return result;
}

Co<std::optional<Pid>> claim_name(Name name) {
  RuntimeImpl& rt = *current_or_throw("start")->rt;
  for (int vanished = 0;;) {
    if (name.register_pid(self())) co_return std::nullopt;
    std::optional<Pid> holder = name.whereis();
    const auto fate = holder ? rt.fate(*holder) : RuntimeImpl::Fate::gone;
    if (fate == RuntimeImpl::Fate::alive) co_return holder;
    if (fate == RuntimeImpl::Fate::gone) {
      // The holder has exited and its exit, on another thread, is removing the name: let it
      // run, then try again. (A registry that refuses with no holder at all: give up.)
      if (++vanished < 10'000) {
        co_await otp::yield();
        continue;
      }
      co_return holder.value_or(Pid{});
    }
    // Bound to exit: its names go before its Down is sent (see do_exit).
    Ref mref = monitor(*holder);
    co_await receive<Down>([mref](const Down& d) { return d.ref == mref; });
  }
}

}  // namespace detail
}  // namespace otp
