#!/usr/bin/env python3
"""Workshop mode (docs/workshop.md): a stage or a lab with its exercises taken out.

  scripts/workshop.sh <stage-or-lab> [dir] [--force]
                                             writes a copy of the stage or lab (03_fault_tolerant,
                                             05_redis_pool, ...) into dir (workshop/<name>),
                                             every exercise region's code replaced by its stub;
                                             --force replaces an existing copy (its build tree
                                             stays); on an error, nothing is written
  scripts/workshop.sh test [dir] [--all]     builds the copy, runs its tests, and prints the
                                             next exercise not done (--all: every one) and how
                                             many are done; exit status 0 once all are done and
                                             every test passes; the tests' own output is in
                                             <dir>/build/workshop/*_tests.log
  scripts/workshop.sh watch [dir] [--all]    the same at every change of a file, on a clear screen
  scripts/workshop.sh list <dir>             the exercises of a copy, in the order of the course
  scripts/workshop.sh list <stage-or-lab>    the same of a stage or lab, one a line: id, file,
                                             line of the marker, hint, separated by tabs
  scripts/workshop.sh --solution <id> [dir]  prints the reference solution of one exercise
  scripts/workshop.sh --fill <id> [dir]      puts the reference solution between its markers, in
                                             place of the stub (or of your code)
  scripts/workshop.sh --reset <id> [dir]     puts the stub back (in place of your code)

In a copy, ./workshop runs these for the copy (./workshop --help).

An exercise is a region of a stage's or lab's src/ (see docs/workshop.md):

  // exercise: <id> — <a one-line hint>
  ...the solution...
  // end exercise

The copy keeps the two marker lines and puts `otp::workshop::todo("<id>");` between them
(otp/workshop.hpp): it compiles and throws, and the copy's tests report the exercise by name.
An exercise counts as done once its stub is gone from between its markers; the tests say
whether the code in its place is right. The order of the course: the files of src/ from the
tests and main.cpp down the include graph (the supervisor before the processes it starts; an
include that leaves src/ is not followed), and in each file from the top down.

The copy builds alone, like the stage: cmake -S <dir> -B <dir>/build. It uses the runtime
installed once into build/runtime/prefix (scripts/runtime.py, which test and watch run first:
minutes the first time, seconds later), or one named with -Dotp_DIR=<prefix>/lib/cmake/otp, or
else the repository's common/ (the variable WORKSHOP_CMAKE_ARGS adds arguments to the configure
step of test and watch).
"""
# scripts/workshop.sh runs this file (Python 3.11, the standard library only). The test results
# come from GoogleTest's report (--gtest_output=json), in which the listener of a copy's test
# programs (otp/testing/workshop.hpp) marks each test: "running", "passed", "failed", or
# "exercise" with the ids of the stubs that stopped it in "workshop_stops_at".

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
import runtime  # noqa: E402  (scripts/runtime.py: the runtime installed once)

ROOT = Path(__file__).resolve().parent.parent
SELF = ROOT / "scripts" / "workshop.sh"

OPEN = re.compile(r"^\s*// exercise: ")
END = re.compile(r"^\s*// end exercise\s*$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class Exit(Exception):
    def __init__(self, status):
        super().__init__(status)
        self.status = status


def die(message):
    print(f"workshop.sh: {message}", file=sys.stderr)
    raise Exit(2)


def progress(message):
    """A line about a step that takes a while: on stderr, so that stdout stays the result."""
    print(message, file=sys.stderr, flush=True)


def read_lines(path):
    text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def write_lines(path, lines):
    Path(path).write_text(
        "".join(line + "\n" for line in lines), encoding="utf-8", errors="surrogateescape"
    )


def shown(path):
    """A path as the user would type it: relative to the current folder when below it."""
    try:
        where, here = Path(path).resolve(), Path.cwd()
        below = where.is_relative_to(here) and where != here
        return os.path.relpath(path) if below else str(path)
    except (OSError, ValueError):
        return str(path)


def source_dir(name):
    """The folder of a stage or lab from its name (03_fault_tolerant, 05_redis_pool, a path)."""
    bare = name[:-1] if name.endswith("/") else name
    candidates = (Path(bare), ROOT / bare, ROOT / "common" / "labs" / bare, ROOT / "common" / bare)
    for candidate in candidates:
        if bare and (candidate / "CMakeLists.txt").is_file() and (candidate / "src").is_dir():
            return Path(os.path.abspath(candidate))
    die(f"no stage or lab called '{name}' (try 03_fault_tolerant or 05_redis_pool)")


def includes(path):
    return [m.group(1) for line in read_lines(path) if (m := INCLUDE.match(line))]


def ordered_sources(src):
    """The files of <src>/src in the order of the course: a depth-first walk of the
    `#include "..."` graph from the test files (in the order CMakeLists.txt lists them) and then
    main.cpp, each file before the files it includes (what starts a process before the process:
    each exercise done lets the tests reach the next); files nothing reaches come last, by name."""
    seen, out = set(), []

    def visit(f):
        # A copy has its src/ only: an include that leaves it (lab 06 includes labs 02 and 05)
        # is not followed, and the regions there are not this stage's exercises.
        f = os.path.normpath(f)
        if f in seen or f.startswith(".."):
            return
        seen.add(f)
        if not (src / "src" / f).is_file():
            return
        out.append(f)
        for inc in includes(src / "src" / f):
            visit(inc)

    tests = re.findall(r"tests/[A-Za-z0-9_./-]+\.cpp", (src / "CMakeLists.txt").read_text())
    for t in dict.fromkeys(tests):
        if (src / t).is_file():
            for inc in includes(src / t):
                visit(inc)
    visit("main.cpp")
    found = [
        p.relative_to(src / "src").as_posix()
        for p in (src / "src").rglob("*")
        if p.is_file() and p.suffix in (".hpp", ".cpp", ".h")
    ]
    for f in sorted(found, key=lambda f: f.encode()):
        visit(f)
    return [f"src/{f}" for f in out]


@dataclass
class Region:
    id: str
    file: str  # relative to the copy or the stage
    line: int  # of the opening marker, from 1
    hint: str
    stub: bool  # the stub is between the markers

    def tsv(self):
        return f"{self.id}\t{self.file}\t{self.line}\t{self.hint}"


def regions(folder, files):
    """The exercise regions of the files (relative to folder), and an error message, or None:
    malformed markers (nested, unclosed, stray end, an id twice) end the list where they are."""
    found, ids = [], set()
    for f in files:
        open_region, opened = None, 0
        for n, line in enumerate(read_lines(folder / f), 1):
            if OPEN.match(line):
                if open_region:
                    return found, f"{f}:{n}: exercise inside exercise {open_region.id}"
                rest = OPEN.sub("", line, count=1)
                rid = re.split(r"\s", rest, maxsplit=1)[0]
                hint = re.sub(r"^\s*(—|--|-)?\s*", "", rest[len(rid):], count=1)
                if not ID.match(rid):
                    return found, f'{f}:{n}: bad exercise id "{rid}" (a-z 0-9 . _ -)'
                open_region, opened = Region(rid, f, n, hint, False), n
            elif END.match(line):
                if not open_region:
                    return found, f"{f}:{n}: end exercise without exercise"
                if open_region.id in ids:
                    r = open_region
                    return found, f"exercise {r.id} twice ({r.file}:{r.line})"
                ids.add(open_region.id)
                found.append(open_region)
                open_region = None
            elif open_region and f'otp::workshop::todo("{open_region.id}")' in line:
                open_region.stub = True
        if open_region:
            return found, f"{f}:{opened}: exercise {open_region.id} has no end exercise"
    return found, None


def source_regions(src):
    found, error = regions(src, ordered_sources(src))
    if error:
        print(f"workshop.sh: {error}", file=sys.stderr)
        raise Exit(2)
    return found


def copy_dir(d):
    """A copy's folder: the argument, or the current folder when it is one."""
    if not (Path(d) / ".workshop" / "exercises.tsv").is_file():
        die(f"{d} is not a workshop copy (scripts/workshop.sh <stage-or-lab> [dir] makes one)")
    return Path(os.path.abspath(d))


def manifest(d):
    rows = []
    for line in read_lines(d / ".workshop" / "exercises.tsv"):
        cells = line.split("\t")
        rows.append((cells + ["", "", "", ""])[:4])
    return rows


def current(d):
    """The exercises of a copy now: the regions of the files its manifest names, in its order."""
    files = [f for f in dict.fromkeys(row[1] for row in manifest(d)) if (d / f).is_file()]
    found, error = regions(d, files)
    if error:
        print(f"workshop.sh: {error}", file=sys.stderr)
    return found


def stub(indent, rid):
    return f'{indent}otp::workshop::todo("{rid}");'


def indent_of(line):
    return line[: len(line) - len(line.lstrip())]


def with_exercises():
    """The stages and labs that have exercises, by name."""
    folders = sorted(ROOT.glob("0[1-9]_*")) + sorted((ROOT / "common" / "labs").iterdir())
    return [
        f.name
        for f in folders
        if (f / "CMakeLists.txt").is_file()
        and (f / "src").is_dir()
        and regions(f, ordered_sources(f))[0]
    ]


def generate(name, target, force):
    """Writes the copy of a stage or lab: everything is checked first, the copy is written into
    a new folder beside the target and takes its place at the end, so that a failure writes
    nothing and leaves an existing copy as it was."""
    src = source_dir(name)
    name = src.name
    found = source_regions(src)
    if not found:
        others = ", ".join(with_exercises())
        die(f"{name} has no exercises (no // exercise: regions in its src/), so it has no "
            f"workshop copy; nothing written. The ones with exercises: {others}")
    lines = read_lines(src / "CMakeLists.txt")
    subdirectory = re.compile(r"^\s*add_subdirectory\(([^ )]+) common\)")
    rel = next((m.group(1) for line in lines if (m := subdirectory.match(line))), None)
    if rel is None:
        die(f"{name}/CMakeLists.txt has no add_subdirectory(<path> common)")
    d = Path(os.path.abspath(target if target else ROOT / "workshop" / name))
    if d.exists() and not force:
        die(f"{d} exists: an attendee's work may be in it (remove it, or pass --force)")

    d.parent.mkdir(parents=True, exist_ok=True)
    new = d.parent / f".{d.name}.new-{os.getpid()}"
    old = d.parent / f".{d.name}.old-{os.getpid()}"
    try:
        write_copy(src, name, found, rel, lines, new)
        if d.exists():
            # The build tree stays, to make the next build quick (its paths name d, which the
            # copy is again once renamed).
            if (d / "build").is_dir() and not (d / "build").is_symlink():
                (d / "build").rename(new / "build")
            d.rename(old)
        new.rename(d)
    finally:
        shutil.rmtree(new, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)

    print(f"wrote {d}: {name} with {len(found)} exercises")
    list_exercises(d)
    print(f"next: cd {d} && ./workshop   (or: scripts/workshop.sh test {d})")


def write_copy(src, name, found, rel, lines, d):
    """The copy of src, written into d (which does not exist yet)."""
    top = {"build", ".workshop"}
    shutil.copytree(
        src,
        d,
        symlinks=True,
        ignore=lambda where, names: [
            n for n in names if Path(where) == src and (n in top or n.startswith("build-"))
        ],
    )
    solutions = d / ".workshop" / "solutions"
    solutions.mkdir(parents=True, exist_ok=True)
    write_lines(d / ".workshop" / "exercises.tsv", [r.tsv() for r in found])
    write_lines(d / ".workshop" / "name", [name])

    # The regions: the solution is kept aside, the stub takes its place.
    for f in dict.fromkeys(r.file for r in found):
        text = read_lines(d / f)
        for r in sorted((r for r in found if r.file == f), key=lambda r: -r.line):
            end = next(i for i in range(r.line, len(text)) if END.match(text[i]))
            write_lines(solutions / r.id, text[r.line : end])
            text[r.line : end] = [stub(indent_of(text[r.line - 1]), r.id)]
        write_lines(d / f, text)

    # The runtime: the one scripts/runtime.py installs, or the repository's common/; the paths
    # that lead out of the folder (../common, ../build/runtime/prefix) are made absolute.
    out = [
        f"# A workshop copy of {name} (scripts/workshop.sh): the runtime is the one ./workshop",
        "# installs once (scripts/runtime.py), one named with -Dotp_DIR=<prefix>/lib/cmake/otp, or",
        "# else the repository's common/.",
    ]
    common = os.path.abspath(src / rel)
    outside = re.compile(r'"\$\{CMAKE_CURRENT_SOURCE_DIR\}/(\.\./[^"]*)"')
    for line in lines:
        line = line.replace(f"add_subdirectory({rel} common)", f'add_subdirectory("{common}" common)')
        line = outside.sub(lambda m: '"' + os.path.normpath(src / m.group(1)) + '"', line)
        out.append(line)
    write_lines(d / "CMakeLists.txt", out)

    script = d / "workshop"
    script.write_text(
        f"""#!/usr/bin/env bash
# The workshop copy of {name}: ./workshop (build, test, the next exercise), ./workshop --all,
# ./workshop watch, ./workshop list, ./workshop --solution <id>, ./workshop --fill <id>,
# ./workshop --reset <id>.
cd "$(dirname "$0")"
case "${{1:-}}" in
  -h | --help) exec bash "{SELF}" --copy-help ;;
  watch) shift; exec bash "{SELF}" watch . "$@" ;;
  list) exec bash "{SELF}" list . ;;
  --solution | --reset | --fill) exec bash "{SELF}" "$1" "${{2:-}}" . ;;
  *) exec bash "{SELF}" test . "$@" ;;
esac
"""
    )
    script.chmod(0o755)


def list_exercises(d):
    for n, r in enumerate(current(d), 1):
        print(f"{n:2d}. {r.id:<22} {r.file}:{r.line + 1}  {r.hint}")


def build(d):
    """Configures (the first time) and builds the copy: quiet unless it fails."""
    log = d / "build" / "workshop-build.log"
    (d / "build").mkdir(parents=True, exist_ok=True)
    extra = os.environ.get("WORKSHOP_CMAKE_ARGS", "").split()
    # The runtime the copy's CMakeLists.txt finds: installed once, kept up to date with common/
    # (seconds when nothing changed), unless the configure step names one of its own.
    if not any(a.startswith("-Dotp_DIR=") for a in extra) and runtime.ensure() is None:
        progress("the copy uses the runtime installed before, or else builds common/ itself")
    if not (d / "build" / "CMakeCache.txt").is_file():
        progress(f"building {shown(d)} for the first time (its own files: about a minute) ...")
        args = ["cmake", "-S", str(d), "-B", str(d / "build"), "-DCMAKE_BUILD_TYPE=Debug"]
        if shutil.which("ninja"):
            args += ["-G", "Ninja"]
        if shutil.which("ccache"):
            args += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
        args += extra
        with open(log, "w") as out:
            configured = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT).returncode == 0
        if not configured:
            sys.stdout.write(log.read_text(errors="replace"))
            print("the copy does not configure (above)")
            return False
    else:
        progress(f"building {shown(d)} ...")
    args = ["cmake", "--build", str(d / "build"), "-j", os.environ.get("WORKSHOP_JOBS") or "2"]
    # The copy precompiles the runtime's headers (otp_program.cmake): ccache caches such files
    # only with this sloppiness.
    env = dict(os.environ)
    env["CCACHE_SLOPPINESS"] = ",".join(
        s for s in [env.get("CCACHE_SLOPPINESS", ""), "pch_defines,time_macros"] if s
    )
    with open(log, "w") as out:
        built = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, env=env).returncode == 0
    if not built:
        errors = [line for line in read_lines(log) if re.search(r"error|Error", line)]
        for line in errors[:40]:
            print(line)
        print(f"the copy does not build: fix the errors above (the whole log: {log})")
        return False
    return True


@dataclass
class Outcome:
    """What the tests of a run said, from their reports."""

    failed: list  # the tests that failed for a reason of their own, in order
    stops: list  # for every test stopped by a stub: the ids of the stubs


def report(path):
    """The tests of one GoogleTest report: (name, status, the workshop property, the ids). A
    test that failed with no workshop property (a program without the listener) failed."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return []
    tests = []
    for suite in data.get("testsuites", []):
        for t in suite.get("testsuite", []):
            ids = [i for i in t.get("workshop_stops_at", "").split(", ") if i]
            state = t.get("workshop") or ("failed" if t.get("failures") else None)
            tests.append((f"{suite['name']}.{t['name']}", t.get("status"), state, ids))
    return tests


def run_program(program, out, all_tests, outcome):
    """Runs one test program, again for the tests it has not run when it ended early (with
    --all). Returns its last exit status."""
    log = out / f"{program.name}.log"
    log.write_text("")
    started, runs = [], 0
    env = dict(os.environ, OTP_WORKSHOP_HITS=str(out / "hits"))
    env["OTP_WORKSHOP_FIRST"] = "0" if all_tests else "1"
    while True:
        runs += 1
        result = out / f"{program.name}.{runs}.json"
        args = [str(program), f"--gtest_output=json:{result}"]
        if started:
            args.append("--gtest_filter=-" + ":".join(started))
        with open(log, "a") as output:
            # In a process group of its own, so that nothing it started (a console, a
            # redis-server) outlives it when it ends early.
            child = subprocess.Popen(
                args, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
            try:
                rc = child.wait()
            finally:
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except OSError:
                    pass
        rc = 128 - rc if rc < 0 else rc
        tests = report(result)
        before = len(started)
        for name, status, state, ids in tests:
            if state is None:
                continue
            started.append(name)
            if state == "failed":
                outcome.failed.append(name)
            elif state == "exercise":
                outcome.stops.append(ids)
            elif state == "running":
                # A program that ended in the middle of a test (a crash) fails that test.
                with open(log, "a") as output:
                    output.write(
                        f"[  FAILED  ] {name}: the test program ended (exit status {rc})\n"
                    )
                outcome.failed.append(name)
        # Every test it was to run has ended: the program ran to its end.
        ended = ("passed", "failed", "exercise")
        complete = bool(tests) and all(t[2] in ended for t in tests if t[1] == "RUN")
        # Ended before its last test (a crash, or the watchdog of a test stopped by a stub): with
        # --all, again for the tests it has not run yet.
        if rc == 0 or not all_tests or complete or len(started) == before:
            return rc


def run_tests(d, all_tests):
    """Builds, runs the tests, prints the exercises not done (the next one; every one with
    --all), the progress line, and any test that fails for another reason. 0 once everything
    is done."""
    name = (d / ".workshop" / "name").read_text().strip()
    if not build(d):
        return 1
    out = d / "build" / "workshop"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / "hits").write_text("")
    programs = [
        p
        for p in (d / "build").iterdir()
        if p.name.endswith("_tests")
        and p.is_file()
        and not p.is_symlink()
        and os.access(p, os.X_OK)
    ]
    programs.sort(key=lambda p: (len(str(p)), str(p).encode()))
    progress(f"running the tests of {name} ...")
    outcome = Outcome([], [])
    for program in programs:
        rc = run_program(program, out, all_tests, outcome)
        if rc != 0 and not all_tests:
            break

    # Tests that failed for a reason of their own: as GoogleTest printed them.
    if outcome.failed:
        want = {f"[ RUN      ] {t}" for t in outcome.failed}
        show = False
        for log in sorted(out.glob("*.log"), key=lambda p: p.name.encode()):
            for line in read_lines(log):
                if line.startswith("[ RUN      ] "):
                    show = line in want
                if show:
                    print(line)
                if line.startswith("[  FAILED  ] ") or line.startswith("[       OK ] "):
                    show = False

    total = done = shown_count = 0
    now = current(d)
    for r in now:
        total += 1
        if not r.stub:
            done += 1
        elif all_tests or shown_count == 0:
            waiting = sum(1 for ids in outcome.stops if r.id in ids) if all_tests else 0
            line = f"{r.file}:{r.line + 1}: exercise {r.id} not done: {r.hint}"
            if waiting > 0:
                one = waiting == 1
                line += f" ({waiting} test{'' if one else 's'} wait{'s' if one else ''} on it)"
            print(line)
            shown_count += 1
    # An exercise whose markers were deleted is not done, whatever its code.
    here = {r.id for r in now}
    for rid, file, _, _ in manifest(d):
        if rid in here:
            continue
        total += 1
        print(
            f"{file}: exercise {rid}: its markers are gone; "
            f'put back "// exercise: {rid} — ..." and '
            f'"// end exercise" around its code (the solution: .workshop/solutions/{rid})'
        )
    print(f"{done} of {total} exercises done in {name}")
    failed = len(outcome.failed)
    if failed > 0:
        tests = "test" if failed == 1 else "tests"
        print(f"{failed} {tests} failed outside the exercises not done (above)")
        return 1
    if done != total:
        return 1
    print("every exercise is done and every test passes")
    return 0


def clear_screen():
    if subprocess.run(["clear"], stderr=subprocess.DEVNULL).returncode != 0:
        print("\033[H\033[2J", end="", flush=True)


def watch(d, all_tests):
    name = (d / ".workshop" / "name").read_text().strip()
    watched = [str(d / "src"), str(d / "tests"), str(d / "CMakeLists.txt")]
    if shutil.which("inotifywait"):
        while True:
            clear_screen()
            print(f"{time.strftime('%H:%M:%S')} building and testing {name}...", flush=True)
            run_tests(d, all_tests)
            print(f"(watching {d}: save a file to test again, Ctrl-C to stop)", flush=True)
            events = ["-e", "close_write,move,create,delete"]
            skip = ["--exclude", "/(build|\\.workshop)/"]
            subprocess.run(["inotifywait", "-qq", "-r", *events, *skip, *watched])
    elif shutil.which("entr"):
        flag = ["--all"] if all_tests else []
        while True:
            files = subprocess.run(["find", *watched, "-type", "f"], capture_output=True).stdout
            again = ["bash", str(SELF), "test", str(d), *flag]
            subprocess.run(["entr", "-c", "-d", "-p", *again], input=files)
    else:
        die("watch needs inotifywait (inotify-tools) or entr: bash scripts/deps.sh installs them")


def no_exercise(d, rid):
    """Ends with one line that names the exercises of the copy."""
    name = (d / ".workshop" / "name").read_text().strip()
    ids = ", ".join(row[0] for row in manifest(d))
    if rid:
        die(f"no exercise {rid} in {name}; its exercises: {ids}")
    die(f"name one of the exercises of {name}: {ids}")


def put_region(d, rid, mode):
    """Replaces what is between the markers of <id> in the copy <d>: with the reference solution
    (mode fill), or with the stub (mode reset)."""
    r = next((r for r in current(d) if r.id == rid), None)
    if r is None:
        no_exercise(d, rid)
    lines = read_lines(d / r.file)
    end = next((i for i in range(r.line, len(lines)) if END.match(lines[i])), len(lines))
    if mode == "fill":
        body = read_lines(d / ".workshop" / "solutions" / rid)
    else:
        body = [stub(indent_of(lines[r.line - 1]), rid)]
    lines[r.line : end] = body
    write_lines(d / r.file, lines)
    if mode == "fill":
        print(f"{r.file}:{r.line + 1}: exercise {rid}: the reference solution is in")
    else:
        print(f"{r.file}:{r.line + 1}: exercise {rid}: the stub is back ({r.hint})")


def solution_file(d, rid):
    ids = [row[0] for row in manifest(d)]
    f = d / ".workshop" / "solutions" / rid
    if rid not in ids or not f.is_file():
        no_exercise(d, rid)
    return f


COPY_HELP = """The workshop copy of a stage or lab (docs/workshop.md), in its folder:

  ./workshop                  builds, runs the tests, prints the next exercise not done and how
                              many are done; exit status 0 once all are done and every test
                              passes
  ./workshop --all            the same, with every exercise not done
  ./workshop watch [--all]    the same at every change of a file, on a clear screen
  ./workshop list             the exercises, in the order of the course
  ./workshop --solution <id>  prints the reference solution of one exercise
  ./workshop --fill <id>      puts the reference solution in place of the stub (or your code)
  ./workshop --reset <id>     puts the stub back in place of your code

The tests' own output (the [ EXERCISE ] lines included) is in build/workshop/*_tests.log.
"""


def needed(args, i, message):
    if len(args) <= i or not args[i]:
        print(f"workshop.sh: {message}", file=sys.stderr)
        raise Exit(1)
    return args[i]


def main(argv):
    all_tests = "--all" in argv
    force = "--force" in argv
    args = [a for a in argv if a not in ("--all", "--force")]
    command = args[0] if args else ""

    def arg(i, default=""):
        return args[i] if len(args) > i and args[i] else default

    if command in ("", "-h", "--help"):
        print(__doc__, end="")
    elif command == "test":
        return run_tests(copy_dir(arg(1, ".")), all_tests)
    elif command == "watch":
        watch(copy_dir(arg(1, ".")), all_tests)
    elif command == "list":
        if (Path(arg(1, ".")) / ".workshop" / "exercises.tsv").is_file():
            list_exercises(copy_dir(arg(1, ".")))
        else:
            src = source_dir(needed(args, 1, "list <stage-or-lab>"))
            for r in source_regions(src):
                print(r.tsv())
    elif command == "--copy-help":
        print(COPY_HELP, end="")
    elif command == "--solution":
        d = copy_dir(arg(2, "."))
        f = solution_file(d, arg(1))
        sys.stdout.flush()
        sys.stdout.buffer.write(f.read_bytes())
    elif command in ("--fill", "--reset"):
        d = copy_dir(arg(2, "."))
        rid = arg(1)
        solution_file(d, rid)
        put_region(d, rid, "fill" if command == "--fill" else "reset")
    elif command == "--source":
        print(source_dir(needed(args, 1, "--source <stage-or-lab>")))
    elif command.startswith("-"):
        die(f"unknown option {command} (scripts/workshop.sh --help)")
    else:
        generate(command, arg(1), force)
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    try:
        sys.exit(main(sys.argv[1:]))
    except Exit as e:
        sys.exit(e.status)
    except KeyboardInterrupt:
        sys.exit(130)
