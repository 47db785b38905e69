#include "otp/task.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "otp/logger.hpp"
#include "otp/task_supervisor.hpp"

namespace otp {

namespace detail {

void report_task_crash(const Reason& reason, const Pid& owner) {
  if (reason.is_orderly()) return;
  report(CrashReport{process_label(self(), registered_name()), "Task", reason,
                     fmt::format("(started from {})", owner), "(none)"});
}

std::string task_text(const Pid& owner, const Pid& pid, const Ref& ref) {
  return fmt::format("%Task{{owner: {}, pid: {}, ref: {}}}", owner, pid, ref);
}

std::string tasks_text(const std::vector<std::string>& tasks, Duration timeout) {
  return fmt::format("Task.await_many([{}], {})", fmt::join(tasks, ", "), timeout_text(timeout));
}

void check_task_owner(const Pid& owner, const Pid& pid, std::string_view what) {
  Pid me = self();
  if (me != owner) {
    throw BadArg(
        fmt::format("task {} must be queried from the owner ({}) but was queried from {} (Task.{})",
                    pid, owner, me, what));
  }
}

}  // namespace detail

namespace {
Start spawn_task(std::shared_ptr<Co<void>> body) {
  co_return StartResult::ok(spawn_link(&detail::run_body_co, std::move(*body)));
}
}  // namespace

ChildSpec TaskSupervisor::task_spec(Co<void> body) {
  auto held = std::make_shared<Co<void>>(std::move(body));  // a std::function is copyable
  return ChildSpec{.id = "Task",
                   .start = [held] { return spawn_task(held); },
                   .restart = Restart::temporary,
                   .shutdown = Shutdown::after(std::chrono::seconds(5))};
}

Co<std::vector<Pid>> TaskSupervisor::running(ServerRef sup) {
  std::vector<ChildInfo> children = co_await DynamicSupervisor::which_children(std::move(sup));
  std::vector<Pid> out;
  out.reserve(children.size());
  for (const ChildInfo& c : children)
    if (c.pid) out.push_back(c.pid);
  co_return out;
}

}  // namespace otp
