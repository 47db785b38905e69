// observer_scale: what the web observer costs with many stage-5-shaped sessions (a supervisor
// over a stash, a timer and a sub-supervisor over a server: 5 processes each).
//
//   build/release/bench/observer_scale [sessions=100000]
//
// Prints, for one page with the sessions' DynamicSupervisor open: the snapshot's and the
// update's CPU time, the first update's size, the size of an update when nothing changed and
// when 100 Servers were restarted, and how often one page is updated and the CPU it costs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include <fmt/format.h>

#include "otp/observer/view.hpp"
#include "otp/otp.hpp"

namespace {

struct Worker : otp::GenServer<Worker, int> {
  int init(int n) { return n; }
};

otp::ChildSpec worker(const char* id, int n) {
  return {.id = id, .start = [n] { return Worker::start_link(n); }};
}

struct Session {
  static otp::Start start_link(int n) {
    otp::ChildSpec subsup{
        .id = "subsup",
        .start = [n] { return otp::Supervisor::start_link({worker("server", n)}); },
        .type = otp::ChildType::supervisor};
    return otp::Supervisor::start_link({worker("stash", n), worker("timer", n), subsup});
  }
};

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const int sessions = argc > 1 ? std::stoi(argv[1]) : 100000;
  otp::Runtime rt;
  otp::Scoped me(rt);
  auto users = me.await(otp::DynamicSupervisor::start_link(otp::Name::local("HangTen.Supervisor")));
  for (int i = 0; i < sessions; ++i)
    me.await(otp::DynamicSupervisor::start_child(users.pid(), otp::child<Session>(i)));
  fmt::print("sessions {} processes {}\n", sessions, rt.process_count());

  otp::observer::View view;
  view.expand(users.pid().to_string());
  double wall = 0;
  auto measure = [&](const char* what) {
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    auto snap = me.await(otp::observer::snapshot(std::chrono::seconds(30)));
    const double c1 = cpu_seconds();
    const std::string update = view.update(snap).dump();
    const double c2 = cpu_seconds();
    wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    fmt::print(
        "RESULT observer_{} snapshot_cpu_ms={:.0f} update_cpu_ms={:.0f} wall_ms={:.0f} "
        "update_bytes={}\n",
        what, (c1 - c0) * 1e3, (c2 - c1) * 1e3, wall * 1e3, update.size());
    return c2 - c0;
  };
  measure("first");
  const double idle = measure("unchanged");
  const double idle_wall = wall;
  auto children = me.await(otp::DynamicSupervisor::which_children(users.pid()));
  for (int i = 0; i < 100 && i < static_cast<int>(children.size()); ++i) {
    auto kids =
        me.await(otp::Supervisor::which_children(children[static_cast<std::size_t>(i)].pid));
    auto sub = me.await(otp::Supervisor::which_children(kids.back().pid));
    otp::exit(sub.front().pid, otp::Reason::kill());
  }
  measure("100_restarts");
  // A page's updates are max(500ms, twice an update's time) apart (src/observer/web.cpp).
  const double period = idle_wall + std::max(0.5, 2 * idle_wall);
  fmt::print("RESULT observer_page update_every_ms={:.0f} cpu_share={:.0f}% of one core\n",
             period * 1e3, idle / period * 100);
  return 0;
}
