// Workshop mode (docs/workshop.md): the stub that stands for an exercise not done yet.
//
// scripts/workshop.sh copies a stage or a lab and replaces every region
//
//   // exercise: <id> — <hint>
//   ...the solution...
//   // end exercise
//
// by `otp::workshop::todo("<id>");`. The call compiles wherever a statement does (it never
// returns, so a function that must return a value needs nothing more) and throws
// otp::workshop::NotDone. Before throwing, it notes the exercise, so that a test that fails
// because of it — in this process, in another of the test's processes, or in a program the test
// runs — is reported as "exercise <id> not done" rather than by its own assertions:
//   * in this process: todo_hits() counts the calls;
//   * everywhere: when OTP_WORKSHOP_HITS names a file, one line "<id>\t<file>\t<line>" is
//     appended to it (children of the test inherit the variable).
// The test listener of a workshop copy (otp/testing/workshop.hpp) reads both.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace otp::workshop {

// What a stub throws: "exercise <id> not done yet (<file>:<line>)".
struct NotDone : std::logic_error {
  NotDone(std::string id_, std::string where_)
      : std::logic_error("exercise " + id_ + " not done yet (" + where_ + ")"),
        id(std::move(id_)),
        where(std::move(where_)) {}
  std::string id;
  std::string where;
};

// How many times a stub ran in this process.
inline std::atomic<long>& todo_hits() {
  static std::atomic<long> hits{0};
  return hits;
}

// The stub of exercise `id`: notes it, then throws NotDone. Never returns. The place is the
// caller's, by the builtins behind std::source_location (which clang 14 cannot give with
// Debian's libstdc++, and the fuzz targets are built by clang).
[[noreturn]] inline void todo(std::string_view id, const char* file = __builtin_FILE(),
                              unsigned line = __builtin_LINE()) {
  std::string where = std::string(file) + ":" + std::to_string(line);
  todo_hits().fetch_add(1, std::memory_order_relaxed);
  if (const char* path = std::getenv("OTP_WORKSHOP_HITS"); path && *path) {
    if (std::FILE* f = std::fopen(path, "a")) {
      // One write of one short line: appends from several processes do not interleave.
      std::string note = std::string(id) + "\t" + file + "\t" + std::to_string(line) + "\n";
      std::fwrite(note.data(), 1, note.size(), f);
      std::fclose(f);
    }
  }
  throw NotDone(std::string(id), std::move(where));
}

}  // namespace otp::workshop
