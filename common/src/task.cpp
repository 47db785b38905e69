#include "otp/task.hpp"

#include <algorithm>

#include "otp/logger.hpp"

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

void check_task_owner(const Pid& owner, const Pid& pid, std::string_view what) {
  Pid me = self();
  if (me != owner) {
    throw BadArg(
        fmt::format("task {} must be queried from the owner ({}) but was queried from {} (Task.{})",
                    pid, owner, me, what));
  }
}

}  // namespace detail

TaskSupervisorState TaskSupervisor::init() {
  trap_exit(true);
  return {};
}

Pid TaskSupervisor::handle_call(StartChild start) {
  Pid pid = spawn_link(&detail::run_body_co, std::move(start.body));
  state().children.push_back(pid);
  return pid;
}

std::vector<Pid> TaskSupervisor::handle_call(WhichChildren) { return state().children; }

void TaskSupervisor::handle_info(Exit exit) { std::erase(state().children, exit.from); }

Co<void> TaskSupervisor::terminate(const Reason&) {
  // Newest first, as a supervisor stops its children in reverse start order.
  std::vector<Pid> children(state().children.rbegin(), state().children.rend());
  for (const Pid& child : children) otp::exit(child, Reason::shutdown());
  for (const Pid& child : children) {
    auto from_child = [child](const Exit& e) { return e.from == child; };
    if (!co_await receive<Exit>(from_child, std::chrono::seconds(5))) {
      otp::exit(child, Reason::kill());
      co_await receive<Exit>(from_child);
    }
  }
  state().children.clear();
}

}  // namespace otp
