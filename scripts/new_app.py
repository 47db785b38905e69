#!/usr/bin/env python3
"""A new application of one's own on the runtime, as `mix new NAME --sup` starts one.

  python3 scripts/new_app.py NAME [DIR]

writes the folder DIR (./NAME when not given), which must not exist yet:

  CMakeLists.txt          finds the runtime with find_package(otp): the one scripts/runtime.py
                          installs into this repository's build/runtime/prefix, one on
                          CMAKE_PREFIX_PATH or named with -Dotp_DIR=<prefix>/lib/cmake/otp, or
                          else this repository's common/, built with the application (minutes)
  src/application.hpp     the application: starting it starts the top supervisor
  src/supervisor.hpp      the top supervisor, one_for_one, named <Module>.Supervisor
  src/counter.hpp         one GenServer, named <Module>.Counter: a number to bump and read
  src/NAME.hpp            the API the console and the tests call
  src/main.cpp            the console, NAME (NAME --help; commands bump, count, boom)
  tests/NAME_test.cpp     its GoogleTest tests (ctest label `app`)
  README.md               how to build, test and run it

NAME is the program's name and the C++ namespace: a lowercase letter, then lowercase letters,
digits and underscores (my_app), not a C++ keyword. <Module> is NAME in CamelCase (MyApp), the
prefix of the registered names, as in Elixir. A bad NAME or an existing DIR is refused with one
line on stderr, exit status 2, and nothing is written.

Then:
  cmake -S DIR -B DIR/build && cmake --build DIR/build -j2 && ctest --test-dir DIR/build
  DIR/build/NAME -e "bump; bump 2; count"
"""
# Python 3.11, the standard library only.

import keyword
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# C++'s keywords and alternative tokens, and names the program cannot take.
CXX_KEYWORDS = set(
    """alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t
    char16_t char32_t class compl concept const consteval constexpr constinit const_cast continue
    co_await co_return co_yield decltype default delete do double dynamic_cast else enum explicit
    export extern false float for friend goto if inline int long mutable namespace new noexcept
    not not_eq nullptr operator or or_eq private protected public register reinterpret_cast
    requires return short signed sizeof static static_assert static_cast struct switch template
    this thread_local throw true try typedef typeid typename union unsigned using virtual void
    volatile wchar_t while xor xor_eq""".split()
)
TAKEN = {"otp", "std", "testing", "main", "test", "fmt", "gtest", "boost", "detail"}


def refuse(message):
    print(f"new_app.py: {message}; nothing written", file=sys.stderr)
    sys.exit(2)


def check_name(name):
    if not NAME.match(name):
        refuse(
            f'"{name}" is not a name: a lowercase letter, then lowercase letters, digits and '
            f"underscores (my_app)"
        )
    if name in CXX_KEYWORDS or keyword.iskeyword(name):
        refuse(f'"{name}" is a keyword; it cannot be a namespace')
    if "__" in name or name.endswith("_"):
        refuse(f'"{name}": a double underscore, or one at the end, is reserved in C++ or unclear')
    if name in TAKEN or name.startswith("otp_"):
        refuse(f'"{name}" is taken by the runtime or its tools; choose another')


def camel(name):
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


CMAKELISTS = """\
# @NAME@: an application on the HangTen-C++ runtime (written by scripts/new_app.py). The program
# @NAME@ (a console) and its tests (ctest label `app`), built by otp_program(), which comes with
# the runtime's CMake package.
cmake_minimum_required(VERSION 3.22)
project(@NAME@ LANGUAGES CXX)
enable_testing()  # here, at the top of the build: ctest finds the tests from this folder

# The runtime: installed (python3 @ROOT@/scripts/runtime.py installs it once into
# @PREFIX@; or -DCMAKE_PREFIX_PATH=<prefix>), or else the repository's common/, built here.
find_package(otp 0.1 CONFIG QUIET HINTS "@PREFIX@")
if(NOT otp_FOUND)
  add_subdirectory("@COMMON@" otp)
endif()

otp_program(NAME @NAME@ LABEL app
  SOURCES src/main.cpp
  TESTS tests/@NAME@_test.cpp)
"""

APPLICATION = """\
// The application: starting it starts the top supervisor, and with it every process below.
#pragma once

#include "otp/otp.hpp"
#include "supervisor.hpp"

namespace @NAME@ {

struct Application {
  static otp::Start start() { return Supervisor::start_link(); }
};

}  // namespace @NAME@
"""

SUPERVISOR = """\
// The top supervisor, @MODULE@.Supervisor: the application's processes, restarted one by one.
// Add a child: otp::child<YourServer>(its start_link arguments...).
#pragma once

#include "counter.hpp"
#include "otp/otp.hpp"

namespace @NAME@ {

struct Supervisor : otp::Supervisor {
  static constexpr const char* name = "@MODULE@.Supervisor";

  static otp::Start start_link() {
    return otp::Supervisor::start_link(otp::Name::local(name), {otp::child<Counter>()},
                                       {.strategy = otp::Strategy::one_for_one});
  }
};

}  // namespace @NAME@
"""

COUNTER = """\
// @MODULE@.Counter: a number that callers bump and read. A crash restarts it from 0.
#pragma once

#include "otp/otp.hpp"

namespace @NAME@ {

class Counter : public otp::GenServer<Counter, long> {
 public:
  static constexpr const char* name = "@MODULE@.Counter";

  struct Bump {
    long by = 1;
  };
  struct Count {};
  struct Boom {};

  static otp::Start start_link() { return GenServer::start_link(otp::Name::local(name), 0L); }

  long init(long start) { return start; }

  long handle_call(Bump bump) { return state() += bump.by; }
  long handle_call(Count) { return state(); }
  void handle_call(Boom) { otp::exit(otp::Reason::other("boom")); }
};

}  // namespace @NAME@
"""

API = """\
// What a user of the application calls (the console's commands, the tests): awaitables, for
// co_await in a process or otp::Scoped::await on a plain thread.
#pragma once

#include "counter.hpp"
#include "otp/otp.hpp"

namespace @NAME@ {

inline auto bump(long by = 1) { return Counter::call(Counter::name, Counter::Bump{by}); }
inline auto count() { return Counter::call(Counter::name, Counter::Count{}); }
inline auto boom() { return Counter::call(Counter::name, Counter::Boom{}); }

}  // namespace @NAME@
"""

MAIN = """\
// @NAME@: the application's console (@NAME@ --help; @NAME@ -e "bump; count").
#include <string>

@MAIN_INCLUDES@

using Args = otp::Console::Args;

int main(int argc, char** argv) {
  otp::Runtime rt;
  otp::Scoped me(rt);
  otp::Console console("@NAME@", me);

  console.command("bump", "[by]", "adds 1, or <by>, to the counter; prints it", [&](const Args& a) {
    const long by = a.empty() ? 1 : std::stol(a[0]);
    return std::to_string(me.await(@NAME@::bump(by)));
  });
  console.command("count", "", "prints the counter",
                  [&](const Args&) { return std::to_string(me.await(@NAME@::count())); });
  console.command("boom", "", "crashes the counter (its supervisor restarts it)",
                  [&](const Args&) { return fmt::format("{}", me.await(@NAME@::boom())); });

  console.application("@NAME@", [&] { return me.await(@NAME@::Application::start()); });
  return console.run(argc, argv);
}
"""

TEST = """\
// @NAME@'s tests: the application starts its tree, the counter counts, and a crash restarts it.
#include "@NAME@.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "application.hpp"
#include "otp/testing/console_driver.hpp"

namespace {

struct App : ::testing::Test {
  otp::LogCapture logs;
  otp::Runtime rt{otp::Options::deterministic()};
  otp::Scoped me{rt};

  void SetUp() override { ASSERT_TRUE(me.await(@NAME@::Application::start()).ok()); }
};

TEST_F(App, TheCounterAddsEachBump) {
  EXPECT_EQ(me.await(@NAME@::bump()), 1);
  EXPECT_EQ(me.await(@NAME@::bump(2)), 3);
  EXPECT_EQ(me.await(@NAME@::count()), 3);
}

TEST_F(App, ACrashedCounterIsRestartedFromZeroUnderANewPid) {
  EXPECT_EQ(me.await(@NAME@::bump(5)), 5);
  const otp::Pid old = *rt.whereis(@NAME@::Counter::name);
  EXPECT_THROW(me.await(@NAME@::boom()), otp::ExitError);
  rt.run_until_idle();
  const auto now = rt.whereis(@NAME@::Counter::name);
  ASSERT_TRUE(now.has_value());
  EXPECT_NE(*now, old);
  EXPECT_EQ(me.await(@NAME@::count()), 0);
}

TEST(Console, BumpAndCountPrintTheCounter) {
  const auto out = otp::testing::run_console(OTP_PROGRAM, "-e 'bump; bump 2; count'");
  EXPECT_EQ(out, (std::vector<std::string>{"1", "3", "3"}));
}

}  // namespace
"""

README = """\
# @NAME@

An application on the HangTen-C++ runtime, written by `scripts/new_app.py @NAME@`: the
application (`src/application.hpp`), its top supervisor `@MODULE@.Supervisor`
(`src/supervisor.hpp`), one GenServer `@MODULE@.Counter` (`src/counter.hpp`), the API that the
console and the tests call (`src/@NAME@.hpp`), the console (`src/main.cpp`) and the tests
(`tests/@NAME@_test.cpp`).

```sh
cmake -S . -B build && cmake --build build -j2    # seconds with an installed runtime
ctest --test-dir build                            # the tests
build/@NAME@ -e "bump; bump 2; count; boom; sleep 100ms; count"  # 0: restarted
build/@NAME@                                      # the console: help, tree, ...
```
"""


def files(name):
    prefix = ROOT / "build" / "runtime" / "prefix"
    fill = {
        "@NAME@": name,
        "@MODULE@": camel(name),
        "@ROOT@": str(ROOT),
        "@PREFIX@": str(prefix),
        "@COMMON@": str(ROOT / "common"),
        # In the order clang-format sorts them (.clang-format), whatever the name.
        "@MAIN_INCLUDES@": "\n".join(
            f'#include "{h}"' for h in sorted([f"{name}.hpp", "application.hpp", "otp/console.hpp"])
        ),
    }

    def render(text):
        for key, value in sorted(fill.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(key, value)
        return text

    return {
        "CMakeLists.txt": render(CMAKELISTS),
        "README.md": render(README),
        "src/application.hpp": render(APPLICATION),
        "src/supervisor.hpp": render(SUPERVISOR),
        "src/counter.hpp": render(COUNTER),
        f"src/{name}.hpp": render(API),
        "src/main.cpp": render(MAIN),
        f"tests/{name}_test.cpp": render(TEST),
    }


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__, end="")
        return 0 if argv else 2
    if argv[0].startswith("-"):
        refuse(f"unknown option {argv[0]} (--help)")
    if len(argv) > 2:
        refuse("too many arguments: NAME [DIR] (--help)")
    name = argv[0]
    check_name(name)
    target = Path(argv[1] if len(argv) > 1 else name)
    if target.exists() or target.is_symlink():
        refuse(f"{target} exists")
    parent = target.absolute().parent
    if not parent.is_dir():
        refuse(f"{parent} is not a folder")

    # Written into a folder beside the target that takes its place once whole.
    new = parent / f".{target.name}.new-{os.getpid()}"
    try:
        for path, text in files(name).items():
            (new / path).parent.mkdir(parents=True, exist_ok=True)
            (new / path).write_text(text)
        new.rename(target)
    finally:
        shutil.rmtree(new, ignore_errors=True)
    print(f"wrote {target}: the application {name} ({camel(name)}.Supervisor, {camel(name)}.Counter)")
    print(f"next: cmake -S {target} -B {target}/build && cmake --build {target}/build -j2")
    print(f"      ctest --test-dir {target}/build && {target}/build/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
