// soak: stage 05's application and HTTP service under load while a chaos process breaks its
// session trees, for a given time; then checks that nothing was lost or leaked (docs/hardening.md).
//
//   soak [--duration 10m] [--clients 8] [--stash memory|redis] [--logins 64] [--seed N]
//
// In this process: a runtime of its own on the real clock, the application (short inactivity and
// absolute timeouts, so that sessions end all the time), the service on 127.0.0.1:0, and
// `--clients` threads, each a blocking HTTP client on loopback that owns `--logins / --clients`
// logins and opens, validates, rotates, reads, deletes and sometimes leaves them idle. A chaos
// process in the runtime strikes, as the observer page can, any process of a session (its Server,
// SubSupervisor, Timer, Stash or user supervisor) with any reason the page takes (kill, shutdown,
// a reason of its own, normal), or makes a Server crash (boom); with `--stash redis`, the program starts a redis-server of its own
// (append-only file, fsync at every write), kills the stash's connection process now and then,
// and the main thread restarts the redis-server (SIGTERM or SIGKILL, in turn).
//
// The invariant on counts. Each login has a single owner, so its requests are sequential. An
// epoch of a login starts when its owner gets a session from POST /sessions; within an epoch,
// `acked` is the last count a validate answered 200 with, `attempts` the validates sent. Every
// count answered later in the epoch (validate, GET, rotate, an open of the existing session)
// must be >= acked (a validate: > acked) and <= attempts. An epoch may end, and a session be
// missing (403 to a right token, 404), only
//   - by a DELETE its owner made (204),
//   - by the absolute timeout: not before the send time of the request that created it plus
//     the absolute timeout,
//   - by the inactivity timeout: not before the send time of the last request that touched it
//     (a validate or rotate answered 200, or the creation) plus the inactivity timeout; and at
//     any time once a touch was answered after an idle gap of the timeout (the Timer may have
//     fired just before that touch reached it: the session answered, then ended),
//   - memory stash only: by a kill of the login's user supervisor (`<login>_sup`) or of its Stash
//     (`<login>_stash`). The stage's tree (docs/05_one_last_thing.md) makes that a new session:
//     the Stash is the session's state, so a new one starts with a count of 0 and a new token.
//     The chaos bumps the login's generation before such a kill; a change of generation since
//     the epoch began allows a reset.
// Whatever ends the Server (a crash, `kill`, which skips terminate, a kill of the SubSupervisor)
// must lose nothing (the Server writes every change through to the Stash before it answers),
// nor must a restart of the redis-server (fsync always). A signal that ends nothing (`normal`,
// or `shutdown` to a process that traps exits and is not its parent's) is counted as not struck.
//
// At the end: the clients stop, every session ends by its timeouts, and the program checks that
// the process count and /proc/self/fd are back to their baselines, that the resident set grew
// by at most 5 % from the 2nd minute to the last one (runs of 3 minutes or more), that the
// application and HangTen.Supervisor kept their pids and neither reached its restart
// intensity, and that every chaos action is named in a supervisor report. Exit status 1 on any
// failure, 2 on a bad flag.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include "application.hpp"
#include "hang_ten.hpp"
#include "otp/duration.hpp"
#include "otp/observer.hpp"
#include "otp/otp.hpp"
#include "otp/testing/http_client.hpp"
#include "otp/testing/redis_server.hpp"
#include "service.hpp"

namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr auto inactive = 600ms;
constexpr auto absolute = 3s;
// A timer fires after its time, never before; the slack covers the two clocks (the runtime's
// and the client's are both steady, but read at slightly different moments).
constexpr auto slack = 20ms;

struct Flags {
  otp::Duration duration = 10min;
  int clients = 8;
  int logins = 64;
  bool redis = false;
  std::uint64_t seed = 0;
};

// What every thread shares.
struct Shared {
  explicit Shared(int logins) : generation(logins), killed_at(logins) {}
  std::atomic<bool> stop_clients{false};
  std::atomic<bool> stop_chaos{false};
  std::atomic<bool> chaos_done{false};
  std::vector<std::atomic<std::uint64_t>> generation;  // bumped before a kill of <login>_sup
  std::vector<std::atomic<std::int64_t>> killed_at;    // steady ns of the last such kill
  std::uint16_t port = 0;

  // Figures.
  std::atomic<std::uint64_t> requests{0}, ok2xx{0}, status4xx{0}, status5xx{0}, transport{0};
  std::atomic<std::uint64_t> created{0}, acked{0}, deleted{0}, expired{0}, resets{0};
  std::atomic<std::uint64_t> boom{0}, kill_subsup{0}, kill_sup{0}, kill_redis_conn{0};
  std::atomic<std::uint64_t> kill_server{0}, kill_timer{0}, kill_stash{0};
  std::atomic<std::uint64_t> redis_restarts{0};
  std::uint64_t redis_slow = 0;  // restarts that took longer than the server's start_timeout

  std::mutex m;
  std::vector<std::string> failures;
  // The chaos actions no supervisor report has named yet, by pid (kept small: memory is checked).
  struct Action {
    std::string what;
    otp::Pid target;
    std::optional<otp::Pid> parent;  // the target's supervisor when the chaos struck
    Steady::time_point at;
  };
  std::map<std::string, Action> unreported;
  std::uint64_t actions = 0, reports = 0, restarting = 0, gave_up = 0;
  std::uint64_t with_session = 0;  // unreported: the parent was stopping (the session ending)
  std::uint64_t not_struck = 0;    // unreported: the target had ended before the signal came
  std::map<std::string, std::uint64_t> contexts;  // reports by context (child_terminated, ...)
  std::vector<std::string> other_reports;         // the first few that are not a child_terminated

  void fail(std::string what) {
    std::lock_guard lock(m);
    if (failures.size() < 20) fmt::print(stderr, "soak: failure: {}\n", what);  // as they come
    if (failures.size() < 1000) failures.push_back(std::move(what));
  }
  void action(std::string what, const otp::Pid& pid, std::optional<otp::Pid> parent) {
    std::lock_guard lock(m);
    ++actions;
    unreported[pid.to_string()] = Action{std::move(what), pid, parent, Steady::now()};
  }
  // An action still unreported 500 ms later whose supervisor is gone struck a session that was
  // ending (a DELETE, a timeout): a supervisor that is stopping restarts nothing and reports
  // nothing. One whose target is still alive then was not struck (a `normal` signal, or a
  // trapped one). Any other stays unreported, and fails the check.
  void settle_actions() {
    std::lock_guard lock(m);
    const auto now = Steady::now();
    for (auto it = unreported.begin(); it != unreported.end();) {
      const auto& a = it->second;
      if (now - a.at > 500ms && a.parent && !otp::is_alive(*a.parent)) {
        ++with_session;
        it = unreported.erase(it);
      } else if (now - a.at > 500ms && otp::is_alive(a.target)) {
        ++not_struck;
        it = unreported.erase(it);
      } else {
        ++it;
      }
    }
  }
  // The chaos monitors each target before it strikes. A target whose Down says it was gone
  // already (noproc) or ended as its supervisor asked (normal, shutdown: its session ending, a
  // whereis that answered just before) was not struck: no supervisor has anything to report.
  // One that a signal of the chaos ended while its supervisor was stopping it is reported
  // (shutdown_error).
  void target_down(const otp::Down& d) {
    if (d.reason.kind() != otp::Reason::Kind::noproc && !d.reason.is_orderly()) return;
    std::lock_guard lock(m);
    if (unreported.erase(d.pid.to_string()) > 0) ++not_struck;
  }
  // A supervisor report: the pids it names ("(<0.12.0>)") are accounted for.
  void report(const std::string& text) {
    std::lock_guard lock(m);
    ++reports;
    if (text.find("restarting") != std::string::npos) ++restarting;
    for (const char* c :
         {"child_terminated", "start_error", "shutdown_error", "reached_max_restart_intensity"})
      if (text.find(c) != std::string::npos) ++contexts[c];
    if (text.find("child_terminated") == std::string::npos && other_reports.size() < 5)
      other_reports.push_back(text);
    if (text.find("reached_max_restart_intensity") != std::string::npos &&
        (text.find(hang_ten::Application::name) != std::string::npos ||
         text.find(hang_ten::Supervisor::name) != std::string::npos))
      ++gave_up;
    for (auto at = text.find("(<0."); at != std::string::npos; at = text.find("(<0.", at + 1)) {
      const auto end = text.find(')', at);
      if (end != std::string::npos) unreported.erase(text.substr(at + 1, end - at - 1));
    }
  }
  std::size_t failure_count() {
    std::lock_guard lock(m);
    return failures.size();
  }
};

std::int64_t ns(Steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::string login_name(int i) { return fmt::format("soak{}", i); }

// One login as its owner sees it.
struct Login {
  int index = 0;
  std::string name;
  bool open = false;       // the owner believes a session exists
  bool uncertain = false;  // a rotate's answer was lost: the token may be stale
  // A DELETE's answer was lost, or the token went stale (a rotate's answer was lost, the user
  // supervisor was killed): the session may still be there, with its count.
  bool maybe_open = false;
  // The send time of the first open since the session was last seen gone whose answer was lost
  // (it may have created a session); none: there was no such open.
  std::optional<Steady::time_point> unanswered_open;
  std::string token;
  long acked = 0;
  long attempts = 0;
  std::uint64_t generation = 0;
  // The user supervisor was killed since the epoch began and no reset has been seen since: the
  // session may be a new one from then on (count 0, another token).
  bool reset_allowed = false;
  // A request that touched the session came after it had been idle for the inactivity timeout:
  // the Timer may have fired just before the touch reached it, and the session be ending.
  bool idle_expiry = false;
  Steady::time_point created_sent{}, touched_sent{};
  Steady::time_point idle_until{};  // left alone until then (inactivity timeouts)
  std::deque<std::string> recent;   // the last requests and answers, for a failure's report
                                    // (enough to show the epoch before, past a run of 503s)
};

class Client {
 public:
  Client(Shared& shared, std::vector<int> logins, std::uint64_t seed)
      : s_(shared), http_("127.0.0.1", shared.port, 5s), rng_(seed) {
    for (int i : logins) {
      Login l;
      l.index = i;
      l.name = login_name(i);
      logins_.push_back(std::move(l));
    }
  }

  void run() {
    while (!s_.stop_clients) {
      bool any = false;
      for (auto& l : logins_) {
        if (s_.stop_clients) break;
        if (Steady::now() < l.idle_until) continue;
        any = true;
        step(l);
      }
      if (!any) std::this_thread::sleep_for(1ms);
    }
  }

 private:
  struct Answer {
    int status = 0;  // 0: no answer (connection failed, timed out)
    Json body;
  };

  Answer send(Login& l, std::string_view method, const std::string& target, std::string body = {}) {
    Answer a = send(method, target, std::move(body));
    if (l.recent.size() == 16) l.recent.pop_front();
    l.recent.push_back(fmt::format("{} {} -> {} {} at {} ms", method, target, a.status,
                                   a.body.is_object() && a.body.contains("request_count")
                                       ? a.body["request_count"].dump()
                                       : "",
                                   ns(Steady::now()) / 1000000 % 100000));
    return a;
  }
  Answer send(std::string_view method, const std::string& target, std::string body = {}) {
    ++s_.requests;
    Answer a;
    try {
      auto reply = http_.request(method, target, std::move(body));
      a.status = reply.status;
      if (!reply.body.empty()) a.body = Json::parse(reply.body, nullptr, false);
    } catch (const std::exception&) {
      ++s_.transport;
      http_.close();
      return a;
    }
    if (a.status < 300)
      ++s_.ok2xx;
    else if (a.status < 500)
      ++s_.status4xx;
    else
      ++s_.status5xx;
    return a;
  }

  // A kill of the user supervisor may land a little after the chaos counted it: until a reset
  // is seen, answers may come from the old session or the new one.
  void sync_generation(Login& l) {
    const std::uint64_t now = s_.generation[l.index];
    if (now == l.generation) return;
    l.generation = now;
    l.reset_allowed = true;
  }

  // Whether the session may have ended by now without breaking the invariant (see the top).
  bool may_have_ended(Login& l) {
    sync_generation(l);
    const auto now = Steady::now();
    return l.reset_allowed || l.idle_expiry || now >= l.created_sent + absolute - slack ||
           now >= l.touched_sent + inactive - slack;
  }
  // A validate or rotate sent at `sent` was answered 200 now.
  void touched(Login& l, Steady::time_point sent) {
    if (Steady::now() >= l.touched_sent + inactive - slack) l.idle_expiry = true;
    l.touched_sent = sent;
  }

  void fail(const Login& l, std::string_view what) {
    s_.fail(fmt::format(
        "{}: {} (acked {}, attempts {}, epoch age {} ms, idle {} ms; last: {})", l.name, what,
        l.acked, l.attempts,
        std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - l.created_sent)
            .count(),
        std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - l.touched_sent)
            .count(),
        fmt::join(l.recent, "; ")));
  }

  // A count the service reported for the session; `fresh` when it must exceed acked.
  void check_count(Login& l, long count, bool fresh, std::string_view where) {
    sync_generation(l);
    if (count < l.acked + (fresh ? 1 : 0) && l.reset_allowed) {
      // The new session that the kill of the user supervisor started.
      ++s_.resets;
      l.reset_allowed = false;
      l.acked = count;
      l.attempts = std::max(l.attempts, count);
      l.created_sent = l.touched_sent =
          Steady::time_point(std::chrono::nanoseconds(s_.killed_at[l.index].load()));
      if (where == "GET") l.uncertain = true;  // its token is not the one we have
      return;
    }
    if (count < l.acked + (fresh ? 1 : 0))
      fail(l,
           fmt::format("{} answered count {}: an acknowledged validation was lost", where, count));
    if (count > l.attempts)
      fail(l, fmt::format("{} answered count {}, more than the validations sent", where, count));
    l.acked = std::max(l.acked, count);
  }

  void ended(Login& l, std::string_view how) {
    if (!may_have_ended(l)) fail(l, fmt::format("session missing ({}) before any timeout", how));
    ++s_.expired;
    l.open = false;
    l.maybe_open = false;
    l.unanswered_open.reset();
  }

  void step(Login& l) {
    if (!l.open) return open(l);
    const int dice = std::uniform_int_distribution<int>(0, 99)(rng_);
    if (dice < 70) return validate(l);
    if (dice < 82) return get(l);
    if (dice < 90) return rotate(l);
    if (dice < 97) return remove(l);
    // Left alone for a while: most of these end by the inactivity timeout.
    l.idle_until = Steady::now() + std::uniform_int_distribution<int>(100, 1200)(rng_) * 1ms;
  }

  void open(Login& l) {
    const auto sent = Steady::now();
    const std::uint64_t generation = s_.generation[l.index];
    const std::string body = Json{{"login", l.name}}.dump();
    auto a = send(l, "POST", "/sessions", body);
    if (a.status == 201) {
      ++s_.created;
      begin_epoch(l, a, generation, sent);
      if (a.body.value("request_count", -1) != 0) fail(l, "a new session does not count 0");
    } else if (a.status == 200) {  // the session was there after all
      const long count = a.body.value("request_count", -1L);
      if (l.maybe_open && count >= l.acked) {
        // The session the owner lost track of (a DELETE whose answer was lost did not happen,
        // or the token was stale): the same epoch goes on.
        l.open = true;
        l.maybe_open = false;
        l.uncertain = false;
        l.token = a.body.value("token", "");
        check_count(l, count, false, "open");
      } else if (l.unanswered_open) {
        // Made by an open whose answer was lost; no validate was sent since.
        ++s_.created;
        begin_epoch(l, a, generation, *l.unanswered_open);
        if (count != 0) fail(l, fmt::format("a session nobody validated counts {}", count));
      } else {
        l.open = true;
        l.uncertain = false;
        l.token = a.body.value("token", "");
        check_count(l, count, false, "open");
      }
    } else if (a.status == 503 || a.status == 0) {
      if (!l.unanswered_open) l.unanswered_open = sent;
    } else {
      fail(l, fmt::format("open answered {}", a.status));
    }
  }

  void begin_epoch(Login& l, const Answer& a, std::uint64_t generation, Steady::time_point sent) {
    l.open = true;
    l.uncertain = false;
    l.maybe_open = false;
    l.unanswered_open.reset();
    l.token = a.body.value("token", "");
    l.acked = 0;
    l.attempts = 0;
    l.generation = generation;
    l.reset_allowed = false;
    l.idle_expiry = false;
    l.created_sent = l.touched_sent = sent;
  }

  void validate(Login& l) {
    const auto sent = Steady::now();
    ++l.attempts;
    const std::string target = fmt::format("/sessions/{}/validate", l.name);
    const std::string body = Json{{"token", l.token}}.dump();
    auto a = send(l, "POST", target, body);
    if (a.status == 200) {
      ++s_.acked;
      check_count(l, a.body.value("request_count", -1L), true, "validate");
      touched(l, sent);
    } else if (a.status == 403) {
      sync_generation(l);
      if (l.uncertain || l.reset_allowed) {
        l.open = false;  // the token is stale: open again, which answers the session's token
        l.maybe_open = true;
        l.uncertain = false;
        return;
      }
      ended(l, "validate 403");
    } else if (a.status != 503 && a.status != 0) {
      fail(l, fmt::format("validate answered {}", a.status));
    }
  }

  void get(Login& l) {
    auto a = send(l, "GET", fmt::format("/sessions/{}", l.name));
    if (a.status == 200)
      check_count(l, a.body.value("request_count", -1L), false, "GET");
    else if (a.status == 404)
      ended(l, "GET 404");
    else if (a.status != 503 && a.status != 0)
      fail(l, fmt::format("GET answered {}", a.status));
  }

  void rotate(Login& l) {
    const auto sent = Steady::now();
    auto a = send(l, "POST", fmt::format("/sessions/{}/rotate", l.name));
    if (a.status == 200) {
      l.token = a.body.value("token", "");
      l.uncertain = false;
      check_count(l, a.body.value("request_count", -1L), false, "rotate");
      touched(l, sent);
    } else if (a.status == 404) {
      ended(l, "rotate 404");
    } else if (a.status == 503 || a.status == 0) {
      l.uncertain = true;
    } else {
      fail(l, fmt::format("rotate answered {}", a.status));
    }
  }

  void remove(Login& l) {
    auto a = send(l, "DELETE", fmt::format("/sessions/{}", l.name));
    if (a.status == 204) {
      ++s_.deleted;
      l.open = false;
      l.maybe_open = false;
      l.unanswered_open.reset();
    } else if (a.status == 404) {
      ended(l, "DELETE 404");
    } else if (a.status == 503 || a.status == 0) {
      l.open = false;  // perhaps gone: the next open tells (201 or 200)
      l.maybe_open = true;
    } else {
      fail(l, fmt::format("DELETE answered {}", a.status));
    }
  }

  Shared& s_;
  otp::testing::HttpClient http_;
  std::mt19937_64 rng_;
  std::vector<Login> logins_;
};

// The chaos process. Each action is spaced so that no supervisor reaches its restart intensity
// (3 restarts in 5 s) because of the chaos alone: a login is hit at most twice in 5 s, and a user
// supervisor (whose restarts count against HangTen.Supervisor, shared by all users) is killed at
// most once in 2.5 s.
otp::Co<void> chaos(Shared* s, int logins, bool redis, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<int, std::deque<Steady::time_point>> hits;
  auto last_sup_kill = Steady::time_point{};
  auto last_conn_kill = Steady::now();
  auto downs = [s]() -> otp::Co<void> {
    while (auto d = co_await otp::receive<otp::Down>(otp::Duration::zero())) s->target_down(*d);
  };
  while (!s->stop_chaos) {
    co_await otp::sleep(25ms);
    co_await downs();
    s->settle_actions();
    const auto now = Steady::now();
    if (redis) {
      // No session has processes with the Redis stash: the stash's connection is the target.
      if (now - last_conn_kill < 7s) continue;
      last_conn_kill = now;
      if (auto pid = otp::whereis(hang_ten::RedisStash::name)) {
        s->action("kill HangTen.Redis", *pid, otp::whereis(hang_ten::Application::name));
        otp::monitor(*pid);
        otp::exit(*pid, otp::Reason::kill());
        ++s->kill_redis_conn;
      }
      continue;
    }
    const int i = std::uniform_int_distribution<int>(0, logins - 1)(rng);
    auto& h = hits[i];
    while (!h.empty() && now - h.front() > 5s) h.pop_front();
    if (h.size() >= 2) continue;
    const int dice = std::uniform_int_distribution<int>(0, 99)(rng);
    const std::string login = login_name(i);
    // The reasons the observer's page takes: its default `kill`, and any other it is given.
    static const std::array<otp::Reason, 4> reasons{otp::Reason::kill(), otp::Reason::shutdown(),
                                                    otp::Reason::other("chaos"),
                                                    otp::Reason::normal()};
    const otp::Reason& reason = reasons[std::uniform_int_distribution<std::size_t>(0, 3)(rng)];
    if (dice < 10) {
      // The session's state goes with its user supervisor or its Stash: a new session.
      const bool whole = dice < 6;
      if (now - last_sup_kill < 2500ms) continue;
      auto pid = hang_ten::via(login, whole ? "sup" : "stash").whereis();
      auto sup = hang_ten::via(login, "sup").whereis();
      if (!pid || !sup) continue;
      // Only a user supervisor its parent counts among its children: one still in its start
      // (a session being opened) has its name already, and a kill then fails the start, which
      // start_child answers to its caller with no report (as OTP's does).
      const auto children =
          co_await otp::DynamicSupervisor::which_children(hang_ten::Supervisor::name);
      if (std::none_of(children.begin(), children.end(),
                       [&](const otp::ChildInfo& c) { return c.pid == *sup; }))
        continue;
      last_sup_kill = now;
      h.push_back(now);
      s->killed_at[i] = ns(now);
      ++s->generation[i];
      const std::string what = whole ? "_sup" : "_stash";
      s->action(fmt::format("exit {}{} {}", login, what, reason), *pid,
                whole ? otp::whereis(hang_ten::Supervisor::name) : sup);
      otp::monitor(*pid);
      otp::exit(*pid, reason);
      ++(whole ? s->kill_sup : s->kill_stash);
    } else if (dice < 70) {
      const char* kinds[] = {"subsup", "server", "timer"};
      const char* parents[] = {"sup", "subsup", "sup"};
      const int k = (dice - 10) / 20;
      auto pid = hang_ten::via(login, kinds[k]).whereis();
      if (!pid) continue;
      h.push_back(now);
      s->action(fmt::format("exit {}_{} {}", login, kinds[k], reason), *pid,
                hang_ten::via(login, parents[k]).whereis());
      otp::monitor(*pid);
      otp::exit(*pid, reason);
      ++(k == 0 ? s->kill_subsup : k == 1 ? s->kill_server : s->kill_timer);
    } else {
      auto pid = hang_ten::via(login, "server").whereis();
      if (!pid) continue;
      h.push_back(now);
      s->action("boom " + login + "_server", *pid, hang_ten::via(login, "subsup").whereis());
      otp::monitor(*pid);
      auto answer = co_await hang_ten::Server::try_call(*pid, hang_ten::Server::Boom{});
      (void)answer;
      ++s->boom;
    }
  }
  co_await otp::sleep(100ms);  // the Downs of the last actions
  co_await downs();
  s->chaos_done = true;
}

// The open descriptors and what each is (a socket's inode, a pipe, a file), to name a leak.
std::map<int, std::string> open_files() {
  std::map<int, std::string> files;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(e.path(), ec);
    files.emplace(std::stoi(e.path().filename().string()), ec ? "?" : target.string());
  }
  return files;
}

std::size_t open_fds() { return open_files().size(); }

double rss_mb() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1e6;
}

const char* usage = R"(soak: stage 05's service under load while a chaos process breaks its sessions

  soak [--duration 10m] [--clients 8] [--stash memory|redis] [--logins 64] [--seed N]

  --duration D   how long the load and the chaos last (300ms, 30s, 10m, 90m); default 10m.
                 Then the clients stop and the program waits for every session to end
                 (a few seconds) before its checks.
  --clients N    client threads, each with one keep-alive connection; default 8
  --logins N     logins shared among the clients, each owned by one; default 64
  --stash S      memory (sessions are processes; the chaos strikes any process of a
                 session with kill, shutdown, a reason of its own or normal, and crashes
                 Servers) or redis (a redis-server of the
                 program's own, restarted every 15 s; the chaos kills the stash's
                 connection process every 7 s); default memory
  --seed N       the random seed (default: from the clock; printed)

Sessions time out after 600ms idle and 3s in any case. A progress line every 10 s; at the
end the checks, one line each. Exit status 0 when they all pass, 1 otherwise, 2 on a bad flag.
)";

std::optional<Flags> parse(int argc, char** argv) {
  Flags f;
  f.seed = static_cast<std::uint64_t>(Steady::now().time_since_epoch().count());
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) return std::nullopt;
    const std::string value = argv[++i];
    try {
      if (arg == "--duration") {
        auto d = otp::parse_duration(value);
        if (!d || *d <= otp::Duration::zero()) return std::nullopt;
        f.duration = *d;
      } else if (arg == "--clients") {
        f.clients = std::stoi(value);
      } else if (arg == "--logins") {
        f.logins = std::stoi(value);
      } else if (arg == "--seed") {
        f.seed = std::stoull(value);
      } else if (arg == "--stash" && (value == "memory" || value == "redis")) {
        f.redis = value == "redis";
      } else {
        return std::nullopt;
      }
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (f.clients < 1 || f.logins < f.clients) return std::nullopt;
  return f;
}

double seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  const auto flags = parse(argc, argv);
  if (!flags) {
    std::fputs(usage, stderr);
    return 2;
  }
  fmt::print("soak: {} stash, {} clients, {} logins, {}, seed {}\n",
             flags->redis ? "redis" : "memory", flags->clients, flags->logins,
             otp::format_duration(flags->duration), flags->seed);
  std::fflush(stdout);

  Shared shared(flags->logins);

  // Every supervisor report is kept; other records are dropped (sessions end all the time).
  otp::log::set_level(otp::Level::error);
  otp::log::set_sink([&shared](const otp::LogRecord& r) {
    if (r.kind == otp::LogRecord::Kind::supervisor_report) shared.report(r.text);
  });

  std::unique_ptr<otp::testing::RedisServer> redis;
  if (flags->redis) {
    otp::testing::RedisServer::Options o;
    o.extra_args = {"--appendonly", "yes", "--appendfsync", "always"};
    o.start_timeout = std::chrono::seconds(30);  // a loaded machine reads the file slowly
    redis = std::make_unique<otp::testing::RedisServer>(o);
  }

  int status = 0;
  {
    otp::Runtime rt(otp::Options{.threads = 2});
    otp::Scoped me(rt);
    hang_ten::Config config;
    config.timeouts = {.inactive = inactive, .absolute = absolute};
    if (redis)
      config.redis = otp::redis::Options{.host = redis->host(),
                                         .port = redis->port(),
                                         .connect_timeout = 1s,
                                         .backoff_initial = 50ms,
                                         .backoff_max = 500ms};
    auto app = me.await(hang_ten::Application::start(config));
    if (!app) {
      fmt::print(stderr, "soak: the application did not start: {}\n", app.reason());
      return 1;
    }
    const otp::Pid app_pid = app.pid();
    otp::http::Options options;
    options.port = 0;
    const otp::observer::WebOptions observer;  // as `hang_ten serve` has it: /observer too
    auto service = me.await(otp::Supervisor::start_child(
        hang_ten::Application::name, otp::child<hang_ten::Service>(options, observer)));
    if (!service) {
      fmt::print(stderr, "soak: the service did not start: {}\n", service.reason());
      return 1;
    }
    shared.port = me.await(otp::http::Server::port(service.pid())).value();
    const otp::Pid top_pid = otp::whereis(hang_ten::Supervisor::name).value();
    // The baseline is taken once everything the run uses is up: the stash answers (in the
    // Redis mode its connection is open, which happens after the start, in the background),
    // the service has served a request, and the count of open files has held still a moment.
    const auto service_up = Steady::now();
    for (;;) {
      try {
        (void)me.await(hang_ten::logins());
        break;
      } catch (const std::exception& e) {
        if (Steady::now() - service_up > 10s) {
          fmt::print(stderr, "soak: the stash does not answer: {}\n", e.what());
          return 1;
        }
        std::this_thread::sleep_for(50ms);
      }
    }
    (void)otp::testing::HttpClient("127.0.0.1", shared.port).get("/healthz");
    std::size_t files_then = open_fds();
    for (int still = 0; still < 5 && Steady::now() - service_up < 10s; ++still) {
      std::this_thread::sleep_for(50ms);
      if (const std::size_t now = open_fds(); now != std::exchange(files_then, now)) still = -1;
    }
    const std::size_t base_processes = rt.process_count();
    const auto base_files = open_files();
    const std::size_t base_fds = base_files.size();
    const std::uint64_t base_restarts = otp::Supervisor::restarts();
    fmt::print("soak: serving on 127.0.0.1:{}; baseline {} processes, {} open files, {:.1f} MB\n",
               shared.port, base_processes, base_fds, rss_mb());
    std::fflush(stdout);

    const auto start = Steady::now();
    std::vector<std::thread> clients;
    for (int c = 0; c < flags->clients; ++c) {
      std::vector<int> owned;
      for (int i = c; i < flags->logins; i += flags->clients) owned.push_back(i);
      clients.emplace_back([&shared, owned, seed = flags->seed + 1 + c] {
        Client client(shared, owned, seed);
        client.run();
      });
    }
    me.spawn(chaos, &shared, flags->logins, flags->redis, flags->seed);

    // Progress, the resident set once a second, and the redis-server's restarts.
    std::vector<std::pair<double, double>> rss;  // {seconds, MB}
    auto next_line = start + 10s;
    auto next_restart = start + 15s;
    while (Steady::now() - start < flags->duration) {
      std::this_thread::sleep_for(
          std::min<Steady::duration>(1s, flags->duration - (Steady::now() - start)));
      const auto now = Steady::now();
      rss.emplace_back(seconds(now - start), rss_mb());
      if (redis && now >= next_restart && redis->running()) {
        if (shared.redis_restarts % 2 == 0)
          redis->stop();
        else
          redis->kill();
        ++shared.redis_restarts;
      }
      if (redis && !redis->running()) {
        // A redis-server that does not come back within its start_timeout (starved, reading a
        // long append-only file) is said so, with the end of its log, and tried again the next
        // second: the service answers 503 meanwhile, which the checks allow; one still down at
        // the end fails "every session ended".
        try {
          redis->start();
          next_restart = Steady::now() + 15s;
        } catch (const std::exception& e) {
          ++shared.redis_slow;
          const std::string log = redis->log();  // its last three lines
          std::size_t from = log.empty() ? 0 : log.size() - 1;
          for (int n = 0; n < 3 && from != std::string::npos && from > 0; ++n)
            from = log.rfind('\n', from - 1);
          const std::string tail =
              from == std::string::npos || log.empty() ? log : log.substr(from + 1);
          fmt::print(
              "soak: the redis-server is not back after {:.0f} s; trying again. Its log ends:\n{}",
              seconds(Steady::now() - now), tail);
          std::fflush(stdout);
        }
      }
      if (now >= next_line) {
        while (next_line <= now) next_line += 10s;  // past a wait for the redis-server
        fmt::print(
            "{:5.0f}s  requests {} (2xx {}, 4xx {}, 5xx {}, no answer {})  sessions {} created, "
            "{} deleted, {} ended  validations {}  chaos: boom {}, server {}, subsup {}, "
            "timer {}, stash {}, sup {}, redis conn {}, redis-server {}  restarts {}  processes {} "
            " fds {}  rss {:.1f} MB  "
            "failures {}\n",
            seconds(now - start), shared.requests.load(), shared.ok2xx.load(),
            shared.status4xx.load(), shared.status5xx.load(), shared.transport.load(),
            shared.created.load(), shared.deleted.load(), shared.expired.load(),
            shared.acked.load(), shared.boom.load(), shared.kill_server.load(),
            shared.kill_subsup.load(), shared.kill_timer.load(), shared.kill_stash.load(),
            shared.kill_sup.load(), shared.kill_redis_conn.load(), shared.redis_restarts.load(),
            otp::Supervisor::restarts() - base_restarts, rt.process_count(), open_fds(),
            rss.back().second, shared.failure_count());
        std::fflush(stdout);
      }
    }
    const double ran = seconds(Steady::now() - start);

    // The end: no more load nor chaos; every session ends by its timeouts.
    shared.stop_clients = true;
    for (auto& t : clients) t.join();
    shared.stop_chaos = true;
    while (!shared.chaos_done) std::this_thread::sleep_for(10ms);
    const auto drain_start = Steady::now();
    std::size_t live = 0;
    do {
      std::this_thread::sleep_for(100ms);
      try {
        live = me.await(hang_ten::logins()).size();
      } catch (const std::exception&) {
        live = 1;  // the stash is reconnecting
      }
    } while (live > 0 && Steady::now() - drain_start < absolute + 10s);
    std::size_t processes = 0, fds = 0;
    const auto settle_start = Steady::now();
    do {
      std::this_thread::sleep_for(100ms);
      processes = rt.process_count();
      fds = open_fds();
    } while ((processes != base_processes || fds != base_fds) &&
             Steady::now() - settle_start < 10s);
    const double drained = seconds(Steady::now() - drain_start);
    std::this_thread::sleep_for(500ms);
    shared.settle_actions();  // the last ones
    if (fds != base_fds) {
      const auto files = open_files();
      for (const auto& [fd, what] : files) {
        const auto was = base_files.find(fd);
        if (was == base_files.end() || was->second != what)
          fmt::print("  open file {} -> {} (at the start: {})\n", fd, what,
                     was == base_files.end() ? "closed" : was->second);
      }
      for (const auto& [fd, what] : base_files)
        if (!files.contains(fd)) fmt::print("  closed file {} (at the start: {})\n", fd, what);
    }
    if (processes != base_processes) {
      for (const auto& p : me.await(otp::observer::processes()))
        fmt::print("  process {} {} {} {} {} mailbox {} parent {}\n", p.pid, p.name, p.behaviour,
                   p.module, otp::to_string(p.status), p.mailbox, p.parent);
    }

    // The checks.
    std::vector<std::pair<bool, std::string>> checks;
    {
      std::lock_guard lock(shared.m);
      for (std::size_t i = 0; i < shared.failures.size() && i < 20; ++i)
        fmt::print("  {}\n", shared.failures[i]);
      checks.emplace_back(shared.failures.empty(),
                          fmt::format("no acknowledged validation lost, no session ended early: "
                                      "{} validations answered 200, {} failures",
                                      shared.acked.load(), shared.failures.size()));
    }
    checks.emplace_back(live == 0,
                        fmt::format("every session ended ({} left after {:.1f} s)", live, drained));
    checks.emplace_back(
        processes == base_processes,
        fmt::format("processes back to the baseline: {} (baseline {})", processes, base_processes));
    checks.emplace_back(
        fds == base_fds,
        fmt::format("open files back to the baseline: {} (baseline {})", fds, base_fds));
    if (ran >= 180) {
      auto mean = [&](double from, double to) {
        double sum = 0;
        int n = 0;
        for (auto [t, mb] : rss)
          if (t >= from && t < to) sum += mb, ++n;
        return n ? sum / n : 0.0;
      };
      const double second = mean(60, 120), last = mean(ran - 60, ran + 1);
      checks.emplace_back(last <= second * 1.05,
                          fmt::format("resident set flat: {:.1f} MB in the 2nd minute, {:.1f} MB "
                                      "in the last ({:+.1f} %)",
                                      second, last, (last / second - 1) * 100));
    } else {
      fmt::print("  (resident set: {:.1f} MB at the end; the flatness check needs 3 minutes)\n",
                 rss.empty() ? 0.0 : rss.back().second);
    }
    const auto app_now = otp::whereis(hang_ten::Application::name);
    const auto top_now = otp::whereis(hang_ten::Supervisor::name);
    {
      std::lock_guard lock(shared.m);
      std::size_t shown = 0;
      for (const auto& [pid, action] : shared.unreported)
        if (++shown <= 10)
          fmt::print("  not in any supervisor report: {} ({})\n", action.what, pid);
      const auto gave_up = shared.gave_up;
      for (const auto& [context, n] : shared.contexts)
        fmt::print("  supervisor reports of {}: {}\n", context, n);
      for (const auto& text : shared.other_reports) fmt::print("  a report: {}\n", text);
      const auto unmatched = shared.unreported.size();
      checks.emplace_back(
          app_now == app_pid && top_now == top_pid && gave_up == 0,
          fmt::format("no supervisor above a user's gave up: {} and {} kept their pids, {} "
                      "reports of reached_max_restart_intensity above a user",
                      hang_ten::Application::name, hang_ten::Supervisor::name, gave_up));
      checks.emplace_back(
          unmatched == 0,
          fmt::format("every chaos action in a supervisor report: {} actions, {} not reported, "
                      "{} struck a session that was ending, {} found their target gone; {} "
                      "restarts counted, {} supervisor reports (restarting: {})",
                      shared.actions, unmatched, shared.with_session, shared.not_struck,
                      otp::Supervisor::restarts() - base_restarts, shared.reports,
                      shared.restarting));
    }

    fmt::print(
        "soak: ran {:.0f} s: {} requests ({:.0f}/s; 2xx {}, 4xx {}, 5xx {}, no answer {}), "
        "{} sessions created, {} deleted, {} ended otherwise, {} reset by a kill; chaos: boom "
        "{}, server {}, subsup {}, timer {}, stash {}, sup {}, redis conn {}, redis-server {}{}\n",
        ran, shared.requests.load(), static_cast<double>(shared.requests.load()) / ran,
        shared.ok2xx.load(), shared.status4xx.load(), shared.status5xx.load(),
        shared.transport.load(), shared.created.load(), shared.deleted.load(),
        shared.expired.load(), shared.resets.load(), shared.boom.load(), shared.kill_server.load(),
        shared.kill_subsup.load(), shared.kill_timer.load(), shared.kill_stash.load(),
        shared.kill_sup.load(), shared.kill_redis_conn.load(), shared.redis_restarts.load(),
        shared.redis_slow > 0 ? fmt::format(" ({} times not back within 30 s)", shared.redis_slow)
                              : std::string());
    for (const auto& [ok, what] : checks) {
      fmt::print("{} {}\n", ok ? "PASS" : "FAIL", what);
      if (!ok) status = 1;
    }
    std::fflush(stdout);
  }
  otp::log::set_sink({});
  return status;
}
