// hang_ten: the stage's console (hang_ten --help).
#include "application.hpp"
#include "hang_ten.hpp"
#include "otp/console.hpp"

using Args = otp::Console::Args;

int main(int argc, char** argv) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  otp::Console console("hang_ten", me);

  console.command("new", "<login>", "starts a Server for <login>", [&](const Args& a) {
    auto started = me.await(hang_ten::create(a[0]));
    if (!started)
      throw otp::ConsoleError(fmt::format("no match of right hand side value: {}", started),
                              "MatchError");
    return started.to_string();
  });
  console.command("boom", "<pid>", "crashes the Server", [&](const Args& a) {
    return fmt::format("{}", me.await(hang_ten::boom(console.pid_arg<hang_ten::Server>(a[0]))));
  });
  console.command("state", "<pid>", "prints the Server's state: its login", [&](const Args& a) {
    return fmt::format("\"{}\"",
                       me.await(hang_ten::state(console.pid_arg<hang_ten::Server>(a[0]))));
  });

  console.application("hang_ten", [&] { return me.await(hang_ten::Application::start()); });
  return console.run(argc, argv);
}
