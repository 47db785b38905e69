// hang_ten: the stage's console (hang_ten --help).
#include <fmt/ranges.h>

#include "application.hpp"
#include "hang_ten.hpp"
#include "otp/console.hpp"

using Args = otp::Console::Args;

// The login of a running session, or a console error (the same for every command).
static std::string known(const std::string& login) {
  if (!hang_ten::whereis(hang_ten::check_login(login))) {
    throw otp::ConsoleError(fmt::format("no session for \"{}\" (new {} starts one)", login, login));
  }
  return login;
}

int main(int argc, char** argv) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  otp::Console console("hang_ten", me);
  hang_ten::Timeouts timeouts;
  console.flag("--inactive-timeout", "ends a session idle this long", timeouts.inactive);
  console.flag("--absolute-timeout", "ends a session this old", timeouts.absolute);

  console.command("new", "<login>", "starts a session for <login>", [&](const Args& a) {
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
    return fmt::format("{}", me.await(hang_ten::show(known(a[0]))));
  });
  console.command("boom", "<login>", "crashes the user's Server", [&](const Args& a) {
    return fmt::format("{}", me.await(hang_ten::boom(known(a[0]))));
  });
  console.command("stop", "<login>", "ends the session", [&](const Args& a) {
    me.await(hang_ten::stop(known(a[0])));
    return ":ok";
  });
  console.command("whereis", "<login>", "prints the pid of the user's Server, or nil",
                  [&](const Args& a) {
                    auto pid = hang_ten::whereis(a[0]);
                    return pid ? pid->to_string() : "nil";
                  });
  console.command("ls", "", "lists the logins of the live sessions", [&](const Args&) {
    auto logins = me.await(hang_ten::logins());
    return logins.empty() ? std::string("no sessions") : fmt::format("{}", fmt::join(logins, "\n"));
  });

  console.application("hang_ten", [&] { return me.await(hang_ten::Application::start(timeouts)); });
  console.completions([&] { return me.await(hang_ten::logins()); });
  return console.run(argc, argv);
}
