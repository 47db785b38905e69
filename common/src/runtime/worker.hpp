// A scheduler thread (Worker): its run queue with the `runnext` slot, stealing, sleeping and
// waking, and its timer wheel; and the thread-local context (Tls) of the process it runs. The
// design (queues, stealing, fairness, the memory-ordering argument) opens runtime.cpp.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "otp/detail/mailbox.hpp"
#include "otp/pid.hpp"
#include "proc.hpp"
#include "spin_lock.hpp"
#include "timer_wheel.hpp"

namespace otp::detail {

class RuntimeImpl;

class Worker {
 public:
  Worker(RuntimeImpl* rt, unsigned index) : rt_(rt), index_(index) {}
  void start();
  void join();
  void loop();

  // Owner thread only.
  void push_local(Proc* p);  // runnext slot
  void push_back(Proc* p);   // tail of the local queue
  Proc* pop_local();
  // Any thread.
  std::size_t steal_into(Worker& thief);
  bool has_queued() const { return q_len_.load(std::memory_order_acquire) != 0; }
  bool wake();    // false when it was not asleep
  void notify();  // wakes it whatever it is doing (timer changes, shutdown)

  TimerWheel& wheel() { return wheel_; }
  unsigned index() const { return index_; }
  bool idle() const { return idle_.load(std::memory_order_acquire); }

 private:
  friend class RuntimeImpl;
  void run(Proc* p, bool inherit);
  Proc* find_work(bool& inherit);
  void fire_timers();
  void sleep();
  void enqueue_locked(Proc* p);

  RuntimeImpl* rt_;
  unsigned index_;
  SpinLock qlock_;
  Proc* q_head_ = nullptr;
  Proc* q_tail_ = nullptr;
  std::atomic<std::size_t> q_len_{0};
  Proc* runnext_ = nullptr;
  unsigned runnext_streak_ = 0;
  std::atomic<bool> bypassing_{false};  // running runnext while processes wait in the queue
  unsigned tick_ = 0;
  std::uint64_t rng_ = 0x9E3779B97F4A7C15ull;
  TimerWheel wheel_;
  std::mutex sleep_m_;
  std::condition_variable sleep_cv_;
  bool sleeping_ = false;
  bool poked_ = false;
  std::atomic<bool> idle_{false};
  std::thread thread_;
  std::vector<std::pair<Pid, Msg*>> fired_;
};

// Thread-local scheduler context.
struct Tls {
  Worker* worker = nullptr;
  RuntimeImpl* rt = nullptr;
  Proc* current = nullptr;
  enum class Outcome : unsigned char {
    none,
    blocked,
    yielded,
    finished,
    exiting
  } outcome = Outcome::none;
  std::exception_ptr error;
  int budget = 0;
};
extern thread_local Tls tls;

constexpr int slice_budget = 2000;
// The longest chain of processes run from `runnext` on one time slice, before the
// worker serves its queue (see runtime.cpp).
constexpr unsigned runnext_chain = 16;

}  // namespace otp::detail
