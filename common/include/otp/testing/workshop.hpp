// Workshop mode, the tests' side (docs/workshop.md): a GoogleTest listener that a workshop copy's
// test programs carry (otp_program_tests adds it when the folder has a .workshop/exercises.tsv).
//
// A test that ran the stub of an exercise not done (otp::workshop::todo, otp/workshop.hpp) — in
// the test's process or in a program the test ran — fails because of that exercise, not because
// of its own assertions: its failure messages are dropped and it is reported as one line,
//
//   [ EXERCISE ] Suite.Test stops at stash-read
//
// Any other failure is printed as GoogleTest prints it. What scripts/workshop.py needs to sum
// up a run is in GoogleTest's report (--gtest_output=json:FILE): each test carries a property
//   "workshop"            "running" from its start, then "passed", "failed" (for a reason of
//                         its own) or "exercise" (stopped by a stub)
//   "workshop_stops_at"   with "exercise": the ids of the stubs that ran, ", " between them
// and the report is written again at each test's start and end, so that a program that ends
// early (a crash) leaves one that says which test it was in. OTP_WORKSHOP_HITS names the file
// the stubs that ran write to, one "<id>\t<file>\t<line>" each (otp/workshop.hpp); with
// OTP_WORKSHOP_FIRST=1 the run stops after the first test that fails. A test still running a
// few seconds after a stub ran ends the program (see start_watchdog).
#pragma once

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "otp/workshop.hpp"

namespace otp::testing::workshop {

class Listener : public ::testing::TestEventListener {
 public:
  explicit Listener(::testing::TestEventListener* printer) : printer_(printer) {}

  void OnTestProgramStart(const ::testing::UnitTest& u) override {
    printer_->OnTestProgramStart(u);
  }
  void OnTestIterationStart(const ::testing::UnitTest& u, int i) override {
    printer_->OnTestIterationStart(u, i);
  }
  void OnEnvironmentsSetUpStart(const ::testing::UnitTest& u) override {
    printer_->OnEnvironmentsSetUpStart(u);
  }
  void OnEnvironmentsSetUpEnd(const ::testing::UnitTest& u) override {
    printer_->OnEnvironmentsSetUpEnd(u);
  }
  void OnTestSuiteStart(const ::testing::TestSuite& s) override { printer_->OnTestSuiteStart(s); }
  void OnTestSuiteEnd(const ::testing::TestSuite& s) override { printer_->OnTestSuiteEnd(s); }
  void OnEnvironmentsTearDownStart(const ::testing::UnitTest& u) override {
    printer_->OnEnvironmentsTearDownStart(u);
  }
  void OnEnvironmentsTearDownEnd(const ::testing::UnitTest& u) override {
    printer_->OnEnvironmentsTearDownEnd(u);
  }
  void OnTestIterationEnd(const ::testing::UnitTest& u, int i) override {
    printer_->OnTestIterationEnd(u, i);
  }
  void OnTestProgramEnd(const ::testing::UnitTest& u) override { printer_->OnTestProgramEnd(u); }

  void OnTestStart(const ::testing::TestInfo& t) override {
    hits_before_ = otp::workshop::todo_hits().load();
    file_before_ = hits_file_size();
    {
      std::lock_guard lock(running_mutex());
      running() = {std::string(t.test_suite_name()) + "." + t.name(), hits_before_, file_before_,
                   std::chrono::steady_clock::time_point::max()};
    }
    ::testing::Test::RecordProperty("workshop", "running");
    write_report();
    start_watchdog();
    parts_.clear();
    printer_->OnTestStart(t);
  }

  // Held back until the test ends: only then is it known whether a stub ran.
  void OnTestPartResult(const ::testing::TestPartResult& r) override { parts_.push_back(r); }

  void OnTestEnd(const ::testing::TestInfo& t) override {
    std::set<std::string> ids = ids_since(file_before_);
    bool stub_ran = otp::workshop::todo_hits().load() != hits_before_ || !ids.empty();
    std::string name = std::string(t.test_suite_name()) + "." + t.name();
    std::lock_guard lock(running_mutex());  // the watchdog waits until the test is reported
    if (t.result()->Failed() && stub_ran) {
      std::string list = joined(ids);
      std::printf("[ EXERCISE ] %s stops at %s (%lld ms)\n", name.c_str(),
                  list.empty() ? "an exercise not done" : list.c_str(),
                  static_cast<long long>(t.result()->elapsed_time()));
      std::fflush(stdout);
      record_stop(list);
    } else {
      for (const auto& r : parts_) printer_->OnTestPartResult(r);
      printer_->OnTestEnd(t);
      ::testing::Test::RecordProperty("workshop", t.result()->Failed() ? "failed" : "passed");
    }
    write_report();
    parts_.clear();
    running().name.clear();
    if (t.result()->Failed() && first_only()) {
      std::fflush(stdout);
      std::_Exit(1);  // the fixture is gone already; nothing else needs to run
    }
  }

  // std::terminate in the middle of a test (an exception escaping a thread the test started, a
  // joinable std::thread destroyed by an exception): the test is over, and so is the program.
  // A test that had run a stub is reported as stopped by it like any other.
  [[noreturn]] static void on_terminate() {
    std::unique_lock lock(running_mutex(), std::try_to_lock);
    const Running& r = running();
    if (!r.name.empty()) {
      std::set<std::string> ids = ids_since(r.file_before);
      if (otp::workshop::todo_hits().load() != r.hits_before || !ids.empty()) {
        std::string list = joined(ids);
        std::printf("[ EXERCISE ] %s stops at %s (the test program ended)\n", r.name.c_str(),
                    list.empty() ? "an exercise not done" : list.c_str());
        record_stop(list);
      } else {
        std::printf("[  FAILED  ] %s: std::terminate was called\n", r.name.c_str());
        ::testing::Test::RecordProperty("workshop", "failed");
      }
      write_report();
    }
    std::fflush(stdout);
    std::_Exit(1);
  }

 private:
  struct Running {
    std::string name;  // empty between tests
    long hits_before = 0;
    std::streamoff file_before = 0;
    std::chrono::steady_clock::time_point stub_seen;  // max() until a stub ran in this test
  };
  static std::mutex& running_mutex() {
    static std::mutex m;
    return m;
  }

  // A test that goes on for long after a stub ran is waiting for something the stub stopped (a
  // reply from a process that crashed, a session that never opened): rather than wait out its
  // timeouts, the watchdog ends the program with the test reported as stopped by the exercise.
  // scripts/workshop.sh runs the program again for the tests that are left.
  static constexpr auto grace = std::chrono::seconds(3);
  static void start_watchdog() {
    static std::once_flag once;
    std::call_once(once, [] {
      std::thread([] {
        for (;;) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          std::lock_guard lock(running_mutex());
          Running& r = running();
          if (r.name.empty()) continue;
          const auto now = std::chrono::steady_clock::now();
          if (r.stub_seen == std::chrono::steady_clock::time_point::max()) {
            if (otp::workshop::todo_hits().load() != r.hits_before ||
                hits_file_size() != r.file_before) {
              r.stub_seen = now;
            }
            continue;
          }
          if (now - r.stub_seen < grace) continue;
          std::string list = joined(ids_since(r.file_before));
          std::printf("[ EXERCISE ] %s stops at %s (ended %lld s after the stub ran)\n",
                      r.name.c_str(), list.empty() ? "an exercise not done" : list.c_str(),
                      static_cast<long long>(grace.count()));
          std::fflush(stdout);
          record_stop(list);
          write_report();
          std::_Exit(1);
        }
      }).detach();
    });
  }
  static Running& running() {
    static Running r;
    return r;
  }

  static bool first_only() {
    const char* v = std::getenv("OTP_WORKSHOP_FIRST");
    return v != nullptr && std::string(v) == "1";
  }
  static const char* hits_path() {
    const char* p = std::getenv("OTP_WORKSHOP_HITS");
    return p != nullptr && *p != '\0' ? p : nullptr;
  }
  static std::streamoff hits_file_size() {
    const char* p = hits_path();
    if (p == nullptr) return 0;
    std::ifstream in(p, std::ios::binary | std::ios::ate);
    return in ? static_cast<std::streamoff>(in.tellg()) : 0;
  }
  static std::set<std::string> ids_since(std::streamoff offset) {
    std::set<std::string> ids;
    const char* p = hits_path();
    if (p == nullptr) return ids;
    std::ifstream in(p, std::ios::binary);
    in.seekg(offset);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) ids.insert(line.substr(0, line.find('\t')));
    }
    return ids;
  }
  static std::string joined(const std::set<std::string>& ids) {
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
    return list;
  }

  // The test now running (or ending) was stopped by the stubs of these exercises.
  static void record_stop(const std::string& ids) {
    ::testing::Test::RecordProperty("workshop", "exercise");
    ::testing::Test::RecordProperty("workshop_stops_at", ids);
  }

  // GoogleTest's report (--gtest_output) as it stands, written now rather than only at the end
  // of the program, which may not come.
  static void write_report() {
    auto* unit = ::testing::UnitTest::GetInstance();
    if (auto* report = unit->listeners().default_xml_generator()) {
      report->OnTestIterationEnd(*unit, 0);
    }
  }

  std::unique_ptr<::testing::TestEventListener> printer_;
  long hits_before_ = 0;
  std::streamoff file_before_ = 0;
  std::vector<::testing::TestPartResult> parts_;
};

// Puts the listener in place of GoogleTest's printer (it prints through it). Without
// OTP_WORKSHOP_HITS (a test program run by hand or by ctest), the stubs' notes go to a file of
// this run's own, so that programs the tests start are heard too.
inline bool install() {
  if (const char* p = std::getenv("OTP_WORKSHOP_HITS"); p == nullptr || *p == '\0') {
    static std::string path = [] {
      std::string t = "/tmp/otp-workshop-hits-XXXXXX";
      int fd = mkstemp(t.data());
      if (fd >= 0) close(fd);
      return fd >= 0 ? t : std::string();
    }();
    if (!path.empty()) {
      setenv("OTP_WORKSHOP_HITS", path.c_str(), 1);
      std::atexit([] { std::remove(path.c_str()); });
    }
  }
  std::set_terminate(&Listener::on_terminate);
  // A console the test drives may have died of a stub before the test writes its next command:
  // the write fails (EPIPE) and the test with it, rather than the whole program by SIGPIPE. A
  // handler, not SIG_IGN, so that the programs the tests start get the default back at exec.
  std::signal(SIGPIPE, [](int) {});
  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  listeners.Append(new Listener(listeners.Release(listeners.default_result_printer())));
  return true;
}

}  // namespace otp::testing::workshop
