// hang_ten: the stage's console, and `hang_ten serve`, the HTTP service (hang_ten --help).
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <fmt/ranges.h>
#include <sys/resource.h>
#include <unistd.h>

#include "application.hpp"
#include "hang_ten.hpp"
#include "service.hpp"

using Args = otp::Console::Args;

// The console's answer to a login without a session, the same for every command.
static otp::ConsoleError no_session(const std::string& login) {
  return otp::ConsoleError(fmt::format("no session for \"{}\" (new {} starts one)", login, login));
}

// The login of a running session whose processes a command talks to.
static std::string known(const std::string& login) {
  if (hang_ten::in_redis)
    throw otp::ConsoleError(
        "this command needs the memory stash: with Redis a session has no processes");
  if (!hang_ten::whereis(hang_ten::check_login(login))) throw no_session(login);
  return login;
}

// "host:port" for --listen, "redis://host:port" for --stash.
static std::string split_address(const std::string& text, std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return "expected host:port, e.g. 127.0.0.1:4000";
  try {
    const int p = std::stoi(text.substr(colon + 1));
    if (p < 0 || p > 65535 || std::to_string(p) != text.substr(colon + 1))
      throw std::out_of_range("");
    host = text.substr(0, colon);
    port = static_cast<std::uint16_t>(p);
  } catch (const std::exception&) {
    return "the port must be a number from 0 to 65535";
  }
  return "";
}

// Who may call the API (docs/service.md): the Host of a request must be a loopback name, the
// --listen address or an --allowed-host (else 421: a rebound DNS name); its Origin, when a
// browser sends one, the service's own or an --allowed-origin (else 403: a page elsewhere); its
// body JSON (else 415: a form or a text/plain fetch another site may send without asking).
struct CallerPolicy {
  std::vector<std::string> hosts;
  std::vector<std::string> origins;

  void apply(otp::http::Options& options) const {
    options.allowed_hosts = {"localhost", "127.0.0.1", "[::1]", "::1", options.address};
    options.allowed_hosts.insert(options.allowed_hosts.end(), hosts.begin(), hosts.end());
    options.allowed_origins = origins;
    options.json_bodies_only = true;
  }
};

// Starts the HTTP listener as a child of the application: its URL, or why it could not.
static otp::Result<std::string> start_service(otp::Scoped& me, otp::http::Options options,
                                              const CallerPolicy& policy, bool observer_readonly) {
  policy.apply(options);
  otp::observer::WebOptions observer;
  observer.readonly = observer_readonly;
  auto started = me.await(otp::Supervisor::start_child(
      hang_ten::Application::name, otp::child<hang_ten::Service>(options, observer)));
  if (!started) return started.reason();
  auto port = me.await(otp::http::Server::port(started.pid()));
  return fmt::format("http://{}:{}", options.address, port ? port.value() : options.port);
}

// --max-sessions' default: sessions may take a quarter of this machine's memory, at about 10 KB
// each (a session's five processes, their mailboxes and names; 229,612 sessions took 2.2 GB).
static std::size_t default_max_sessions() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 100'000;
  return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 4 / 10'000;
}

// A connection is a file descriptor: as many as the hard limit allows, and a word when that
// is fewer than --max-connections (past the limit accept fails, instead of answering 503).
static void raise_file_limit(std::size_t max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur != RLIM_INFINITY && max_connections + 64 > limit.rlim_cur)
    fmt::print(stderr, "hang_ten serve: at most {} open files: fewer than --max-connections {}\n",
               limit.rlim_cur, max_connections);
}

// SIGINT and SIGTERM, for `serve`: from catch_stop_signals() on, they are written to a pipe
// that wait_for_stop() reads; so is the end of the application ('a').
static int signal_pipe[2];
static void catch_stop_signals() {
  if (pipe2(signal_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  struct sigaction sa {};
  sa.sa_handler = [](int) {
    const int saved = errno;
    [[maybe_unused]] auto n = write(signal_pipe[1], "x", 1);
    errno = saved;
  };
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}
static void application_stopped() { [[maybe_unused]] auto n = write(signal_pipe[1], "a", 1); }
// What woke it: 'x' a signal, 'a' the application's end.
static char wait_for_stop() {
  char c = 'x';
  while (read(signal_pipe[0], &c, 1) < 0 && errno == EINTR) {
  }
  return c;
}

int main(int argc, char** argv) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  otp::Console console("hang_ten", me);
  hang_ten::Config config;
  console.flag("--inactive-timeout", "ends a session idle this long", config.timeouts.inactive);
  console.flag("--absolute-timeout", "ends a session this old", config.timeouts.absolute);
  std::string stash = "memory";
  console.cli()
      .add_option("--stash", stash, "where sessions live: memory, or redis://host:port")
      ->capture_default_str()
      ->check([&](const std::string& s) {
        if (s == "memory") return std::string();
        if (!s.starts_with("redis://")) return std::string("use memory or redis://host:port");
        otp::redis::Options o;
        std::string why = split_address(s.substr(8), o.host, o.port);
        if (why.empty()) config.redis = o;
        return why;
      });

  otp::http::Options http;
  std::string listen = "127.0.0.1:4000";
  CLI::App* serve =
      console.cli().add_subcommand("serve", "runs the HTTP service until SIGINT or SIGTERM");
  serve->fallthrough();  // the console's flags may follow `serve` too
  serve->add_option("--listen", listen, "the address and port to listen on")
      ->capture_default_str()
      ->check([&](const std::string& s) { return split_address(s, http.address, http.port); });
  serve
      ->add_option("--body-limit", http.body_limit, "the largest request body, in bytes (else 413)")
      ->capture_default_str();
  serve
      ->add_option("--header-limit", http.header_limit,
                   "the largest request head, in bytes (else 431)")
      ->capture_default_str();
  serve->add_option("--max-connections", http.max_connections, "connections at once (else 503)")
      ->capture_default_str();
  CallerPolicy policy;
  serve
      ->add_option("--allowed-host", policy.hosts,
                   "a name clients reach the service by, besides the loopback names and the "
                   "--listen address (repeatable; else 421)")
      ->type_name("NAME");
  serve
      ->add_option("--allowed-origin", policy.origins,
                   "an origin (http://host:port) whose pages may call the API, besides the "
                   "service's own (repeatable; else 403)")
      ->type_name("ORIGIN");
  config.max_sessions = default_max_sessions();
  serve
      ->add_option("--max-sessions", config.max_sessions,
                   "sessions at once with the memory stash, else POST /sessions answers 503 "
                   "(default: a quarter of this machine's memory at 10 KB a session; 0: no limit)")
      ->capture_default_str();
  console.flag(*serve, "--idle-timeout", "closes a keep-alive connection idle this long",
               http.idle_timeout);
  console.flag(*serve, "--read-timeout", "answers 408 to a request not read in this time",
               http.read_timeout);

  console.command("new", "<login>", "starts a session for <login>", [&](const Args& a) {
    if (hang_ten::in_redis) {
      auto [user, created] = me.await(hang_ten::open(a[0]));
      return created ? std::string(":ok") : fmt::format("{{:error, :already_started}}");
    }
    auto started = me.await(hang_ten::create(a[0]));
    if (!started)
      throw otp::ConsoleError(fmt::format("no match of right hand side value: {}", started),
                              "MatchError");
    return started.to_string();
  });
  console.command("count", "<login>", "counts a request (a cast)", [&](const Args& a) {
    hang_ten::count_request(known(a[0]));
    return ":ok";
  });
  console.command("show", "<login>", "prints the user", [&](const Args& a) {
    auto user = me.await(hang_ten::find(a[0]));
    if (!user) throw no_session(a[0]);
    return fmt::format("{}", *user);
  });
  console.command("boom", "<login>", "crashes the user's Server", [&](const Args& a) {
    return fmt::format("{}", me.await(hang_ten::boom(known(a[0]))));
  });
  console.command("stop", "<login>", "ends the session", [&](const Args& a) {
    if (!me.await(hang_ten::stop(a[0]))) throw no_session(a[0]);
    return ":ok";
  });
  console.command("whereis", "<login>", "prints the pid of the user's Server, or nil",
                  [&](const Args& a) {
                    if (hang_ten::in_redis) known(a[0]);  // says that there are no processes
                    auto pid = hang_ten::whereis(a[0]);
                    return pid ? pid->to_string() : "nil";
                  });
  console.command("ls", "", "lists the logins of the live sessions", [&](const Args&) {
    auto logins = me.await(hang_ten::logins());
    return logins.empty() ? std::string("no sessions") : fmt::format("{}", fmt::join(logins, "\n"));
  });
  console.command("token", "<login>", "prints the session's token", [&](const Args& a) {
    auto user = me.await(hang_ten::find(a[0]));
    if (!user) throw no_session(a[0]);
    return fmt::format("\"{}\"", user->token.reveal());
  });
  console.command(
      "validate", "<login> <token>", "counts a request made with <token>", [&](const Args& a) {
        auto count = me.await(hang_ten::validate(a[0], a[1]));
        return count ? fmt::format("{{:ok, {}}}", *count) : std::string("{:error, :invalid_token}");
      });
  console.command("rotate", "<login>", "gives the session a new token and prints it",
                  [&](const Args& a) {
                    auto user = me.await(hang_ten::rotate(a[0]));
                    if (!user) throw no_session(a[0]);
                    return fmt::format("\"{}\"", user->token.reveal());
                  });
  console.command(
      "serve", "[host:port]", "serves the HTTP API from this console", [&](const Args& a) {
        otp::http::Options options = http;
        if (!a.empty()) {
          if (auto why = split_address(a[0], options.address, options.port); !why.empty())
            throw otp::ConsoleError(why);
        }
        auto url = start_service(me, options, policy, console.observer_readonly());
        if (!url) throw otp::ConsoleError(fmt::format("could not serve: {}", url.reason()));
        return "serving " + url.value();
      });

  // The application is permanent under `serve`: if its top supervisor ends (killed, or past
  // its restart intensity), the program says why and exits with status 1, as an Erlang node
  // does, so that the service manager starts it again; it is never left running half-alive.
  console.on_subcommand(
      serve,
      [&] {
        catch_stop_signals();  // before the URL is printed: whoever reads it may signal at once
        console.applications().on_stop(
            [](const otp::Applications::Stopped&) { application_stopped(); });
        raise_file_limit(http.max_connections);
        auto url = start_service(me, http, policy, console.observer_readonly());
        if (!url) {
          fmt::print(stderr, "hang_ten serve: cannot listen on {}: {}\n", listen, url.reason());
          return 1;
        }
        fmt::print("HangTen serving {} ({} stash); SIGINT or SIGTERM stops it\n", url.value(),
                   hang_ten::in_redis ? "redis" : "memory");
        std::fflush(stdout);
        wait_for_stop();
        if (auto stopped = console.applications().stopped()) {
          fmt::print(stderr, "hang_ten serve: the application {} stopped ({}): exiting with {}\n",
                     stopped->name, stopped->reason, stopped->status);
          return stopped->status;
        }
        // In order: the listener first, then each session, whose Server stashes its state.
        console.applications().stop_all();
        fmt::print("HangTen stopped\n");
        return 0;
      },
      otp::RestartType::permanent);

  console.application("hang_ten", [&] { return me.await(hang_ten::Application::start(config)); });
  console.completions([&] { return me.await(hang_ten::logins()); });
  return console.run(argc, argv);
}
