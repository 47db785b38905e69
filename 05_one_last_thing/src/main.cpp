// hang_ten: the stage's console, and `hang_ten serve`, the HTTP service (hang_ten --help).
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/ranges.h>

#include "application.hpp"
#include "hang_ten.hpp"
#include "otp/console.hpp"
#include "otp/http/flags.hpp"
#include "otp/redis/flags.hpp"
#include "service.hpp"

using Args = otp::Console::Args;

// The console's answer to a login without a session, the same for every command.
static otp::ConsoleError no_session(const std::string& login) {
  return otp::ConsoleError(fmt::format("no session for \"{}\" (new {} starts one)", login, login));
}

// The login of a running session whose processes a command talks to.
static std::string known(const std::string& login) {
  if (!hang_ten::sessions().in_processes())
    throw otp::ConsoleError(
        "this command needs the memory stash: with Redis a session has no processes");
  if (!hang_ten::whereis(hang_ten::check_login(login))) throw no_session(login);
  return login;
}

int main(int argc, char** argv) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  otp::Console console("hang_ten", me);
  hang_ten::Config config;
  console.flag("--inactive-timeout", "ends a session idle this long", config.timeouts.inactive);
  console.flag("--absolute-timeout", "ends a session this old", config.timeouts.absolute);
  otp::redis::add_flag(console.cli(), "--stash", "where sessions live", config.redis, "memory");

  otp::http::Options http;
  CLI::App* serve =
      console.cli().add_subcommand("serve", "runs the HTTP service until SIGINT or SIGTERM");
  otp::http::add_flags(*serve, http);  // --listen, the limits, --allowed-host, --allowed-origin
  serve
      ->add_option("--max-sessions", config.max_sessions,
                   "sessions at once with the memory stash, else POST /sessions answers 503 "
                   "(default: a quarter of this machine's memory at 10 KB a session; 0: no limit)")
      ->capture_default_str();

  console.command("new", "<login>", "starts a session for <login>", [&](const Args& a) {
    if (!hang_ten::sessions().in_processes()) {
      auto [user, created] = me.await(hang_ten::sessions().open(a[0]));
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
    auto user = me.await(hang_ten::sessions().find(a[0]));
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
                    if (!hang_ten::sessions().in_processes()) known(a[0]);  // says why not
                    auto pid = hang_ten::whereis(a[0]);
                    return pid ? pid->to_string() : "nil";
                  });
  console.command("ls", "", "lists the logins of the live sessions", [&](const Args&) {
    auto logins = me.await(hang_ten::logins());
    return logins.empty() ? std::string("no sessions") : fmt::format("{}", fmt::join(logins, "\n"));
  });
  console.command("token", "<login>", "prints the session's token", [&](const Args& a) {
    auto user = me.await(hang_ten::sessions().find(a[0]));
    if (!user) throw no_session(a[0]);
    return fmt::format("\"{}\"", user->token.reveal());
  });
  console.command(
      "validate", "<login> <token>", "counts a request made with <token>", [&](const Args& a) {
        auto count = me.await(hang_ten::sessions().validate(a[0], a[1]));
        return count ? fmt::format("{{:ok, {}}}", *count) : std::string("{:error, :invalid_token}");
      });
  console.command("rotate", "<login>", "gives the session a new token and prints it",
                  [&](const Args& a) {
                    auto user = me.await(hang_ten::sessions().rotate(a[0]));
                    if (!user) throw no_session(a[0]);
                    return fmt::format("\"{}\"", user->token.reveal());
                  });
  console.command(
      "serve", "[host:port]", "serves the HTTP API from this console", [&](const Args& a) {
        otp::http::Options options = http;
        if (!a.empty()) options.listen(a[0]);  // std::invalid_argument: ArgumentError
        return "serving " + hang_ten::Service::serve(me, options, console.observer_readonly());
      });
  // Under `serve` the application is permanent: if its top supervisor ends, the program says
  // why and exits with status 1, as an Erlang node does, for the service manager to restart it.
  console.on_service(serve, [&] {
    return fmt::format("HangTen serving {} ({} stash)",
                       hang_ten::Service::serve(me, http, console.observer_readonly()),
                       hang_ten::sessions().kind());
  });

  console.application("hang_ten", [&] { return me.await(hang_ten::Application::start(config)); });
  console.completions([&] { return me.await(hang_ten::logins()); });
  return console.run(argc, argv);
}
