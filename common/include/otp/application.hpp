// otp::Applications — OTP's applications as a program runs them: each a name, a start function
// for its top process and a restart type; started in order, stopped in reverse.
//
//   otp::Applications apps(me);
//   apps.catch_stop_signals();             // SIGINT and SIGTERM now wake wait_for_stop()
//   auto top = apps.start("hang_ten", [&] { return me.await(Application::start()); },
//                         otp::RestartType::permanent);
//   return apps.wait_for_stop();           // 0 after a signal (all stopped, the last first),
//                                          // 1 when a permanent application ended
//
// The restart type says what the end of an application's top process means for the program, as
// application:start/2's Type does for an Erlang node (the node is the program here):
//   permanent  any end stops the program: on_stop is told, and `stopped()` holds exit status 1
//              (an Erlang node halts, and a service manager restarts it);
//   transient  an end with any reason but `normal` does (`shutdown` too, as in OTP: a top
//              supervisor past its restart intensity exits with `shutdown`);
//   temporary  the end is logged and nothing else happens (application:start/1's default, and
//              the console's: `start` starts it again).
// An end that stop() or stop_all() asked for is none of these: it is the program's own stop.
//
// The end is seen by an exit hook on the top process: on_stop runs on the thread that retires
// that process, before its links and monitors fire, so it must be short and must not wait for a
// process (write a byte to a pipe, notify a condition variable). The program then stops the
// rest, in reverse order, from its own thread with stop_all(). The caller of start() is the top
// process's parent (it links to it), as the console is today; no controller process is added
// to the tree, so `tree` and the observer show what they showed.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "otp/pid.hpp"
#include "otp/reason.hpp"
#include "otp/result.hpp"
#include "otp/scoped.hpp"
#include "otp/server_ref.hpp"

namespace otp {

enum class RestartType : unsigned char { permanent, transient, temporary };

// "permanent", "transient", "temporary".
const char* to_string(RestartType type);

class Applications {
 public:
  // An application's end that stops the program.
  struct Stopped {
    std::string name;
    Reason reason;
    RestartType type;
    int status = 1;  // the exit status the program should end with
  };

  // Applications started by `me`'s process (their tops' parent).
  explicit Applications(Scoped& me);
  // Stops nothing: what is still running ends with the runtime, as it would without this
  // object (call stop_all() for an orderly stop); its ends are no longer watched.
  ~Applications();
  Applications(const Applications&) = delete;
  Applications& operator=(const Applications&) = delete;

  // Starts `name` (after those started before it) with `start`, called here on the Scoped's
  // thread: the top process's pid, or why it could not start (`ignore` included). A name
  // already running is refused with {already_started, name}.
  // An end that does not stop the program is logged at notice level (as OTP's application
  // controller does), unless `log_end` is false (a console that prints the end itself).
  Result<Pid> start(std::string name, const std::function<StartResult()>& start,
                    RestartType type = RestartType::temporary, bool log_end = true);
  // Stops `name` with `shutdown` and waits until its top process is gone; false when it is not
  // running.
  bool stop(const std::string& name);
  // Stops every running application, the last started first.
  void stop_all();

  // From now on SIGINT and SIGTERM no longer end the process: they wake wait_for_stop(), as an
  // end that stops the program does. Call it before the program tells anyone it is up (a
  // supervisor that reads "serving" may signal at once). For the process, once: signals are
  // the process's, not one object's. A function given to on_stop, before or after, still runs.
  void catch_stop_signals();
  // Waits for a signal (catch_stop_signals() is called if it was not) or an end that stops the
  // program, and gives the program's exit status. After a signal it stops every application,
  // the last started first, and gives 0. After such an end (logged when it happened) it gives
  // its status and stops nothing more: what is left ends with the runtime, as a node halts.
  int wait_for_stop();

  // Whether `name` is running (started, and its top process not yet gone).
  bool running(const std::string& name) const;
  // The first end that stopped the program, once there is one.
  std::optional<Stopped> stopped() const;
  // Called once, with the first end that stops the program; at once if there was one already.
  // Runs on the thread that retired the top process: keep it short.
  void on_stop(std::function<void(const Stopped&)> fn);

 private:
  struct Shared;
  Scoped& me_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace otp
