// handrolled_supervisor: three workers under the hand-rolled supervisor; one crashes, one is
// killed, one quits, and each is restarted in its place; then the supervisor is shut down.
#include <fmt/format.h>

#include "supervisor.hpp"
#include "worker.hpp"

namespace {

std::string ids(const std::vector<lab::Supervisor::Child>& children) {
  std::string text;
  for (const auto& c : children)
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", c.id, c.pid);
  return text;
}

}  // namespace

int main() {
  otp::log::set_level(otp::Level::none);
  otp::Runtime rt;
  otp::Scoped me(rt);
  const otp::Pid sup =
      lab::Supervisor::start_link({lab::worker_spec(me.pid(), "a"), lab::worker_spec(me.pid(), "b"),
                                   lab::worker_spec(me.pid(), "c")});
  for (int i = 0; i < 3; ++i) me.receive<lab::Started>();
  fmt::print("children: {}\n", ids(me.await(lab::Supervisor::which_children(sup))));

  auto children = me.await(lab::Supervisor::which_children(sup));
  otp::send(children[0].pid, lab::Crash{});
  otp::exit(children[1].pid, otp::Reason::kill());
  otp::send(children[2].pid, lab::Quit{});
  for (int i = 0; i < 3; ++i) {
    auto started = me.receive<lab::Started>();
    fmt::print("restarted {} as {}\n", started.id, started.pid);
  }
  fmt::print("children: {}\n", ids(me.await(lab::Supervisor::which_children(sup))));

  const otp::Ref ref = me.monitor(sup);
  otp::exit(sup, otp::Reason::shutdown());
  for (int i = 0; i < 3; ++i) {
    auto stopped = me.receive<lab::Stopped>();
    fmt::print("stopped {}: {}\n", stopped.id, stopped.reason);
  }
  auto down = me.receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
  fmt::print("supervisor exited: {}\n", down.reason);
  return 0;
}
