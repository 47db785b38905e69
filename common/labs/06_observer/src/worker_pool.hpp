// The worker pool: N workers and a load generator that keeps them busy, under one supervisor.
//
//   worker_pool (Supervisor, one_for_one)
//   ├─ worker_1 … worker_N   a job is a cast; a slow worker sleeps before it takes the next one
//   └─ load_generator        every 100 ms a tenth of its rate in jobs, each to a worker at random
//
// Nothing waits for a job to be done: the generator casts by name and goes on. A worker slower
// than its share of the rate sees its mailbox grow, the first thing to look for in a system that
// slows down. `slow` is a cast too, so it takes effect after the jobs already waiting; its delay
// is part of the worker's state, so a restarted worker is fast again, and starts with an empty
// mailbox: the jobs that waited for the old one died with it.
#pragma once

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "otp/otp.hpp"

namespace lab {

struct WorkerState {
  long jobs = 0;
  otp::Duration delay{0};
};

class Worker : public otp::GenServer<Worker, WorkerState> {
 public:
  struct Job {};
  struct Slow {
    otp::Duration delay;
  };
  struct Jobs {};

  static std::string name(int i) { return fmt::format("worker_{}", i); }
  static otp::Start start_link(int i) { return GenServer::start_link(otp::Name::local(name(i))); }

  WorkerState init() { return {}; }

  otp::Co<void> handle_cast(Job) {
    if (state().delay > otp::Duration(0)) co_await otp::sleep(state().delay);
    ++state().jobs;
  }
  void handle_cast(Slow slow) { state().delay = slow.delay; }
  long handle_call(Jobs) { return state().jobs; }

  std::string format_state() const {
    return fmt::format(
        "%{{jobs: {}, delay: {}ms}}", state().jobs,
        std::chrono::duration_cast<std::chrono::milliseconds>(state().delay).count());
  }
};

class LoadGenerator : public otp::GenServer<LoadGenerator, int> {  // the state: jobs per second
 public:
  struct Rate {
    int jobs_per_second;
  };
  struct Tick {};
  using Info = otp::Messages<Tick>;

  static constexpr const char* name = "load_generator";
  static constexpr otp::Duration tick = std::chrono::milliseconds(100);

  static otp::Start start_link(int workers, int jobs_per_second) {
    return GenServer::start_link(otp::Name::local(name), workers, jobs_per_second);
  }

  int init(int workers, int jobs_per_second) {
    pick_ = std::uniform_int_distribution<int>(1, workers);
    otp::send_after(tick, otp::self(), Tick{});
    return jobs_per_second;
  }

  void handle_call(Rate rate) { state() = rate.jobs_per_second; }

  void handle_info(Tick) {
    for (int i = 0; i < state() / 10; ++i)
      Worker::cast(Worker::name(pick_(random_)), Worker::Job{});
    otp::send_after(tick, otp::self(), Tick{});
  }

  std::string format_state() const { return fmt::format("%{{jobs_per_second: {}}}", state()); }

 private:
  std::minstd_rand random_{std::random_device{}()};
  std::uniform_int_distribution<int> pick_;
};

struct WorkerPool : otp::Supervisor {
  static constexpr const char* name = "worker_pool";

  static otp::Start start_link(int workers, int jobs_per_second) {
    std::vector<otp::ChildSpec> children;
    for (int i = 1; i <= workers; ++i)
      children.push_back({.id = Worker::name(i), .start = [i] { return Worker::start_link(i); }});
    children.push_back(otp::child<LoadGenerator>(workers, jobs_per_second));
    return Supervisor::start_link(otp::Name::local(name), std::move(children));
  }
};

}  // namespace lab
