// playground: a console to try supervisors (playground --help).
//
//   playground -e "start one_for_all 3; crash w2; tree"
//
// Each command that ends a worker returns once the supervisor has acted on it (restarted what it
// restarts, or given up), so that what it printed, and the next `tree`, show the world after it.
#include <optional>

#include <fmt/format.h>

#include "playground.hpp"

using Args = otp::Console::Args;

namespace {

class Session {
 public:
  explicit Session(otp::Scoped& me) : me_(me) {}

  std::string start(const Args& words) {
    const lab::Tree tree = lab::parse_tree(words);
    stop_tree();
    auto started = me_.await(lab::Playground::start_link(tree));
    if (!started) return started.to_string();
    sup_ = started.pid();
    sup_monitor_ = me_.monitor(*sup_);
    return started.to_string();
  }

  std::string crash(const std::string& worker) {
    const otp::Pid pid = find(worker);
    const otp::Ref ref = me_.monitor(pid);
    lab::Worker::cast(pid, lab::Worker::Crash{});
    me_.receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
    return settle();
  }

  // Process.exit(worker, reason): `kill` ends it; any other reason it traps and goes on.
  std::string exit(const std::string& worker, const otp::Reason& reason) {
    const otp::Pid pid = find(worker);
    const otp::Ref ref = me_.monitor(pid);
    otp::exit(pid, reason);
    if (reason.is_kill()) {
      me_.receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; });
      if (std::string settled = settle(); settled != ":ok") return settled;
    } else {
      me_.demonitor(ref, true);
      me_.await(lab::Worker::call(pid, lab::Worker::Ping{}));  // behind the trapped signal
    }
    return "true";
  }

  std::string stop(const std::string& worker, const otp::Reason& reason) {
    me_.await(otp::stop(find(worker), reason));
    return settle();
  }

  std::string slow(const std::string& worker, otp::Duration delay) {
    me_.await(lab::Worker::call(find(worker), lab::Worker::Slow{delay}));
    return ":ok";
  }

  // Stops the whole tree as its parent does: an exit signal `shutdown`, then its Down.
  std::string stop_tree() {
    if (!sup_) return ":ok";
    otp::exit(*sup_, otp::Reason::shutdown());
    return settle();
  }

 private:
  otp::Pid find(const std::string& worker) {
    auto pid = me_.runtime().whereis(worker);
    if (!pid) throw otp::ConsoleError(fmt::format("no worker {} is running", worker));
    return *pid;
  }

  // Waits until the supervisor has handled the exit it was told of: a call queues behind it.
  // When the supervisor is gone, says why.
  std::string settle() {
    if (!sup_) return ":ok";
    if (me_.runtime().whereis(lab::Playground::name) == sup_) {
      try {
        me_.await(otp::Supervisor::count_children(*sup_));
        return ":ok";
      } catch (const otp::ExitError&) {
      }
    }
    const otp::Ref ref = sup_monitor_;
    auto down = me_.receive<otp::Down>([ref](const otp::Down& d) { return d.ref == ref; },
                                       std::chrono::seconds(30));
    sup_.reset();
    return fmt::format("the supervisor exited: {}", down ? down->reason.to_string() : "?");
  }

  otp::Scoped& me_;
  std::optional<otp::Pid> sup_;
  otp::Ref sup_monitor_;
};

}  // namespace

int main(int argc, char** argv) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  otp::Console console("playground", me);
  Session session(me);

  console.command("start", "<strategy> [workers] [restart] [shutdown] [intensity]",
                  "starts a tree (stopping the one running), e.g. start one_for_all 3 permanent "
                  "5s 3/5s",
                  [&](const Args& a) { return session.start(a); });
  console.command("crash", "<worker>", "makes the worker throw",
                  [&](const Args& a) { return session.crash(a[0]); });
  console.command("exit", "<worker> [reason]",
                  "sends an exit signal (default reason: kill), and waits for the supervisor",
                  [&](const Args& a) {
                    return session.exit(a[0], otp::Reason::parse(a.size() > 1 ? a[1] : "kill"));
                  });
  console.command(
      "stop", "<worker> [reason]", "stops the worker (default reason: normal)", [&](const Args& a) {
        return session.stop(a[0], a.size() > 1 ? otp::Reason::parse(a[1]) : otp::Reason::normal());
      });
  console.command("slow", "<worker> <duration>", "makes the worker's terminate take this long",
                  [&](const Args& a) { return session.slow(a[0], lab::duration_word(a[1])); });
  console.command("stop_tree", "", "stops the tree as its parent would (shutdown)",
                  [&](const Args&) { return session.stop_tree(); });
  return console.run(argc, argv);
}
