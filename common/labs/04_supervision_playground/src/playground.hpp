// Playground: a Supervisor of workers w1 ... wN, with whatever flags and child specs the console
// was given.
//
//   auto tree = lab::parse_tree({"rest_for_one", "4", "transient", "2s", "5/10s"});
//   co_await lab::Playground::start_link(tree);
//
// Words, all but the strategy optional: <strategy> [workers] [restart] [shutdown] [intensity]
//   strategy   one_for_one | one_for_all | rest_for_one
//   workers    how many (default 3)
//   restart    permanent (default) | transient | temporary
//   shutdown   brutal_kill | infinity | a duration such as 500ms or 5s (default 5s)
//   intensity  at most N restarts within a period: N or N/<duration> (default 3/5s)
// A word that does not parse throws otp::ConsoleError.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "otp/console.hpp"
#include "otp/otp.hpp"
#include "worker.hpp"

namespace lab {

struct Tree {
  otp::SupFlags flags;
  int workers = 3;
  otp::Restart restart = otp::Restart::permanent;
  otp::Shutdown shutdown = otp::Shutdown::after(std::chrono::seconds(5));
};

inline otp::Duration duration_word(const std::string& word) {
  auto d = otp::parse_duration(word);
  if (!d) throw otp::ConsoleError(otp::duration_error(word));
  return *d;
}

inline Tree parse_tree(const std::vector<std::string>& words) {
  Tree tree;
  const std::string& strategy = words.at(0);
  if (strategy == "one_for_one") {
    tree.flags.strategy = otp::Strategy::one_for_one;
  } else if (strategy == "one_for_all") {
    tree.flags.strategy = otp::Strategy::one_for_all;
  } else if (strategy == "rest_for_one") {
    tree.flags.strategy = otp::Strategy::rest_for_one;
  } else {
    throw otp::ConsoleError("strategy: one_for_one, one_for_all or rest_for_one, not " + strategy);
  }
  if (words.size() > 1) {
    tree.workers = std::stoi(words[1]);
    if (tree.workers < 1 || tree.workers > 9) throw otp::ConsoleError("workers: 1 to 9");
  }
  if (words.size() > 2) {
    const std::string& restart = words[2];
    if (restart == "permanent") {
      tree.restart = otp::Restart::permanent;
    } else if (restart == "transient") {
      tree.restart = otp::Restart::transient;
    } else if (restart == "temporary") {
      tree.restart = otp::Restart::temporary;
    } else {
      throw otp::ConsoleError("restart: permanent, transient or temporary, not " + restart);
    }
  }
  if (words.size() > 3) {
    const std::string& shutdown = words[3];
    if (shutdown == "brutal_kill") {
      tree.shutdown = otp::Shutdown::brutal_kill();
    } else if (shutdown == "infinity") {
      tree.shutdown = otp::Shutdown::infinity();
    } else {
      tree.shutdown = otp::Shutdown::after(duration_word(shutdown));
    }
  }
  if (words.size() > 4) {
    const std::string& intensity = words[4];
    const auto slash = intensity.find('/');
    tree.flags.max_restarts = std::stoi(intensity.substr(0, slash));
    if (slash != std::string::npos)
      tree.flags.max_seconds = duration_word(intensity.substr(slash + 1));
  }
  return tree;
}

struct Playground : otp::Supervisor {
  static constexpr const char* name = "playground";

  static otp::Start start_link(const Tree& tree) {
    std::vector<otp::ChildSpec> children;
    for (int i = 1; i <= tree.workers; ++i) {
      const std::string id = fmt::format("w{}", i);
      children.push_back({.id = id,
                          .start = [id] { return Worker::start_link(id); },
                          .restart = tree.restart,
                          .shutdown = tree.shutdown});
    }
    return Supervisor::start_link(otp::Name::local(name), std::move(children), tree.flags);
  }
};

}  // namespace lab
