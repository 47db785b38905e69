// Workload "hangten" (shared/anchors/WORKLOADS.md): stage 04's session tree, one per user,
//
//   HangTen.Supervisor   DynamicSupervisor (one_for_one), top
//     UserSupervisor     "<login>_sup"     Supervisor one_for_one
//       Stash            "<login>_stash"   the stage's Stash
//       Timer            "<login>_timer"   the stage's Timer (inactivity and absolute timeouts)
//       SubSupervisor    "<login>_subsup"  Supervisor one_for_one
//         Server         "<login>_server"  transient, traps exits
//
// with every name in the stage's unique Registry. The Stash, the Timer, the User, the registry
// and the login check are the stage's own code. The Server is the stage's Server as the
// workload wants it: it traps exits and is transient, and it answers RequestCount with the
// count. Trapping exits is the lesson of stage 05, so the stage's Server does not; this file
// therefore has its own Server, and the two supervisors above it, which differ from the stage's
// only in naming this Server.
//
//   bench_hangten [u=100000] [threads=N]
//
// Metrics: us_per_user_create (region A), mem_bytes_per_user (the growth of the resident set
// over region A, per user), us_per_request (region B: a cast and a call per user),
// us_per_crash_recover (region C: a crashing call, then calls until the restarted Server
// answers).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "hang_ten.hpp"

namespace {

constexpr std::string_view kWorkload = "hangten";

using hang_ten::Stash;
using hang_ten::Timer;
using hang_ten::User;
using hang_ten::via;

class Server : public otp::GenServer<Server, User> {
 public:
  static constexpr otp::Restart restart = otp::Restart::transient;
  struct CountRequest {};
  struct RequestCount {};
  struct Boom {};

  static otp::Start start_link(std::string login) {
    return GenServer::start_link(via(login, "server"), login);
  }

  otp::Co<User> init(std::string login) {
    otp::trap_exit(true);
    co_return co_await Stash::call(via(login, "stash"), Stash::Get{});
  }

  void handle_cast(CountRequest) {
    ++state().request_count;
    Timer::touch(state().login);
  }
  int handle_call(RequestCount) { return state().request_count; }
  void handle_call(Boom) { otp::exit(otp::Reason::other("boom")); }

  void terminate(const otp::Reason& reason) {
    otp::log::info("{} terminates: {}", state(), reason);
    Stash::cast(via(state().login, "stash"), Stash::Put{state()});
  }
};

struct SubSupervisor : otp::Supervisor {
  static otp::Start start_link(std::string login) {
    return otp::Supervisor::start_link(via(login, "subsup"), {otp::child<Server>(login)},
                                       {.strategy = otp::Strategy::one_for_one});
  }
};

struct UserSupervisor : otp::Supervisor {
  static otp::Start start_link(std::string login) {
    return otp::Supervisor::start_link(
        via(login, "sup"),
        {otp::child<Stash>(login), otp::child<Timer>(login), otp::child<SubSupervisor>(login)},
        {.strategy = otp::Strategy::one_for_one});
  }
};

// The top supervisor has the stage's name, so that the stage's Timer ends a session through it.
const char* const kUsers = hang_ten::Supervisor::name;

struct Go {};
struct Report {
  std::int64_t create_ns = 0, request_ns = 0, crash_ns = 0;
  long long mem0 = 0, mem1 = 0;
  std::size_t active = 0, names = 0, active_after = 0;
  std::int64_t bad_start = 0, bad_request = 0, no_boom = 0, bad_after = 0, retries = 0;
  std::string error;
};

// The coordinator: runs the three regions one after another and reports to `main`.
otp::Co<void> coordinator(std::shared_ptr<const std::vector<std::string>> logins, otp::Pid main) {
  co_await otp::receive<Go>();
  Report r;
  const otp::Pid users = *otp::whereis(kUsers);

  // A: one session per login, each start synchronous.
  r.mem0 = bench::rss_bytes();
  const auto t0 = bench::now_ns();
  for (const auto& login : *logins) {
    auto started =
        co_await otp::DynamicSupervisor::start_child(kUsers, otp::child<UserSupervisor>(login));
    if (!started.ok()) ++r.bad_start;
  }
  const auto t1 = bench::now_ns();
  r.mem1 = bench::rss_bytes();
  r.create_ns = t1 - t0;
  r.active = (co_await otp::DynamicSupervisor::count_children(users)).active;
  r.names = hang_ten::registry.count();

  // B: a count_request cast to every Server, then a request_count call to every one.
  const auto t2 = bench::now_ns();
  for (const auto& login : *logins) Server::cast(via(login, "server"), Server::CountRequest{});
  for (const auto& login : *logins) {
    auto count = co_await Server::try_call(via(login, "server"), Server::RequestCount{});
    if (!count.ok() || count.value() != 1) ++r.bad_request;
  }
  const auto t3 = bench::now_ns();
  r.request_ns = t3 - t2;

  // C: crash each Server, then call it until its restarted successor answers.
  const auto t4 = bench::now_ns();
  for (const auto& login : *logins) {
    auto boom = co_await Server::try_call(via(login, "server"), Server::Boom{});
    if (boom.ok() || !(boom.reason() == otp::Reason::other("boom"))) ++r.no_boom;
    for (;;) {
      auto count = co_await Server::try_call(via(login, "server"), Server::RequestCount{});
      if (count.ok()) {
        if (count.value() != 1) ++r.bad_after;
        break;
      }
      if (count.reason().kind() != otp::Reason::Kind::noproc) {
        r.error = fmt::format("request_count of {} after the crash failed with {}", login,
                              count.reason());
        break;
      }
      ++r.retries;
      co_await otp::yield();
    }
    if (!r.error.empty()) break;
  }
  const auto t5 = bench::now_ns();
  r.crash_ns = t5 - t4;
  r.active_after = (co_await otp::DynamicSupervisor::count_children(users)).active;
  otp::send(main, std::move(r));
}

void run(const bench::Params& p) {
  const long long u = p.at("u");
  if (u < 1) {
    bench::fail(kWorkload, "need u >= 1");
    return;
  }
  otp::log::set_level(otp::Level::none);  // the crash reports of region C would dominate
  otp::Runtime rt{bench::runtime_options(p)};
  otp::Scoped me{rt};
  bench::info_system(rt);
  auto top = me.await(otp::DynamicSupervisor::start_link(otp::Name::local(kUsers),
                                                         {.strategy = otp::Strategy::one_for_one}));
  if (!top.ok()) {
    bench::fail(kWorkload, "top supervisor start failed: {}", top.to_string());
    return;
  }
  auto logins = std::make_shared<std::vector<std::string>>();
  logins->reserve(static_cast<std::size_t>(u));
  for (long long i = 0; i < u; ++i) logins->push_back("user" + std::to_string(i));

  const otp::Pid c =
      rt.spawn(coordinator, std::shared_ptr<const std::vector<std::string>>(logins), me.pid());
  me.send(c, Go{});
  const Report r = me.receive<Report>();
  const auto uu = static_cast<std::size_t>(u);
  const auto ud = static_cast<double>(u);

  if (r.bad_start != 0) bench::fail(kWorkload, "{} user starts did not return ok", r.bad_start);
  if (r.active != uu) bench::fail(kWorkload, "{} active users, expected {}", r.active, u);
  if (r.names != 5 * uu) bench::fail(kWorkload, "{} registered names, expected {}", r.names, 5 * u);
  if (r.bad_request != 0)
    bench::fail(kWorkload, "{} users with request_count != 1 after one request", r.bad_request);
  if (r.no_boom != 0) bench::fail(kWorkload, "{} boom calls did not exit with boom", r.no_boom);
  if (r.bad_after != 0)
    bench::fail(kWorkload, "{} users lost their request_count across the crash", r.bad_after);
  if (!r.error.empty()) bench::fail(kWorkload, "{}", r.error);

  bench::info("u={} active={} names={} retries(noproc)={} active_after={} procs={}", u, r.active,
              r.names, r.retries, r.active_after, rt.process_count());
  bench::info(
      "memory: resident set (/proc/self/statm) before and after region A, taken by the "
      "coordinator: "
      "mem0={} mem1={} bytes; the login strings were allocated before mem0",
      r.mem0, r.mem1);
  bench::result(kWorkload, "us_per_user_create", static_cast<double>(r.create_ns) / 1000.0 / ud,
                "us");
  bench::result(kWorkload, "mem_bytes_per_user", static_cast<double>(r.mem1 - r.mem0) / ud,
                "bytes");
  bench::result(kWorkload, "us_per_request", static_cast<double>(r.request_ns) / 1000.0 / ud, "us");
  bench::result(kWorkload, "us_per_crash_recover", static_cast<double>(r.crash_ns) / 1000.0 / ud,
                "us");

  me.unlink(top.pid());
  me.await(otp::stop(top.pid(), otp::Reason::shutdown()));
}

}  // namespace

int main(int argc, char** argv) {
  const auto params = bench::parse_args(kWorkload, argc, argv, {{"u", 100000}});
  return bench::guarded(kWorkload, [&] { run(params); });
}
