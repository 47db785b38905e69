// A one_for_one Supervisor by hand: what otp::Supervisor does underneath, with spawn_link,
// trap_exit, send and receive.
//
//   otp::Pid sup = lab::Supervisor::start_link({
//       {"a", [] { return otp::spawn_link(worker, std::string("a")); }},
//       {"b", [] { return otp::spawn_link(worker, std::string("b")); }}});
//   auto children = co_await lab::Supervisor::which_children(sup);   // {"a", pid}, {"b", pid}
//
// A child's start function runs in the supervisor's process and must spawn the child linked to
// it (spawn_link). The supervisor traps exits, so a child's death reaches it as an Exit message
// instead of killing it; it then calls the same start function again and puts the new pid in the
// dead child's place, so the children stay in the order they were given. Every exit is followed
// by a restart (the children are all permanent), however often it happens.
//
// The exit signal of the process that started the supervisor (its parent) is an order to stop:
// the children are stopped one at a time, last first, each with the signal `shutdown` and a wait
// for its Exit, and the supervisor exits with the parent's reason.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "otp/otp.hpp"

namespace lab {

struct ChildSpec {
  std::string id;
  std::function<otp::Pid()> start;  // spawns the child linked to the caller
};

class Supervisor {
 public:
  struct Child {
    std::string id;
    otp::Pid pid;
  };
  struct WhichChildren {
    otp::Pid from;
    otp::Ref ref;
  };
  struct Children {
    otp::Ref ref;
    std::vector<Child> children;
  };

  static otp::Pid start_link(std::vector<ChildSpec> specs) {
    return otp::spawn_link(&loop, otp::self(), std::move(specs));
  }

  static otp::Co<std::vector<Child>> which_children(otp::Pid sup) {
    const otp::Ref ref = otp::make_ref();
    otp::send(sup, WhichChildren{otp::self(), ref});
    Children reply =
        co_await otp::receive<Children>([ref](const Children& c) { return c.ref == ref; });
    co_return std::move(reply.children);
  }

 private:
  static otp::Co<void> loop(otp::Pid parent, std::vector<ChildSpec> specs) {
    // exercise: trap-exits — a supervisor hears its children's exits as messages
    otp::trap_exit(true);
    // end exercise
    std::vector<Child> children;
    for (const ChildSpec& spec : specs) children.push_back({spec.id, spec.start()});
    for (;;) {
      std::optional<otp::Exit> exited;
      co_await otp::receive([&](otp::Exit e) { exited = std::move(e); },
                            [&](WhichChildren w) {
                              otp::send(w.from, Children{w.ref, children});
                            });
      if (!exited) continue;
      if (exited->from == parent) {
        co_await stop_children(children);
        otp::exit(exited->reason);
      }
      // exercise: restart-child — the child that exited starts again from its spec, in its place
      for (std::size_t i = 0; i < children.size(); ++i) {
        if (children[i].pid == exited->from) {
          otp::log::notice("supervisor {}: child {} ({}) exited with {}, restarting", otp::self(),
                           children[i].id, exited->from, exited->reason);
          children[i].pid = specs[i].start();
        }
      }
      // end exercise
    }
  }

  static otp::Co<void> stop_children(const std::vector<Child>& children) {
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      const otp::Pid pid = it->pid;
      otp::exit(pid, otp::Reason::shutdown());
      co_await otp::receive<otp::Exit>([pid](const otp::Exit& e) { return e.from == pid; });
    }
  }
};

}  // namespace lab
