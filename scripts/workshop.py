#!/usr/bin/env python3
"""Workshop mode (docs/workshop.md): a stage or a lab with its exercises taken out.

  scripts/workshop.sh <stage-or-lab> [dir]   writes a copy of the stage or lab (03_fault_tolerant,
                                             05_redis_pool, ...) into dir (workshop/<name>),
                                             every exercise region's code replaced by its stub
  scripts/workshop.sh test [dir] [--all]     builds the copy, runs its tests, and prints the
                                             next exercise not done (--all: every one) and how
                                             many are done; exit status 0 once all are done
  scripts/workshop.sh watch [dir] [--all]    the same at every change of a file, on a clear screen
  scripts/workshop.sh list <stage-or-lab|dir>  the exercises, in the order of the course
  scripts/workshop.sh --solution <id> [dir]  prints the reference solution of one exercise
  scripts/workshop.sh --fill <id> [dir]      puts the reference solution in place of the stub
  scripts/workshop.sh --reset <id> [dir]     puts the stub back

An exercise is a region of a stage's or lab's src/ (see docs/workshop.md):

  // exercise: <id> — <a one-line hint>
  ...the solution...
  // end exercise

The copy keeps the two marker lines and puts `otp::workshop::todo("<id>");` between them
(otp/workshop.hpp): it compiles and throws, and the copy's tests report the exercise by name.
An exercise is done once its stub is gone from between its markers and the tests pass.
The order of the course: the files of src/ from the tests and main.cpp down the include graph
(the supervisor before the processes it starts), and in each file from the top down.

The copy builds alone, like the stage: cmake -S <dir> -B <dir>/build. It uses the
repository's common/, or an installed runtime when configured with -Dotp_DIR=... (the
variable WORKSHOP_CMAKE_ARGS adds arguments to the configure step of test and watch).
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
        if f in seen:
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


def generate(name, target, force):
    src = source_dir(name)
    name = src.name
    d = Path(target) if target else ROOT / "workshop" / name
    if d.exists():
        if not force:
            die(f"{d} exists: an attendee's work may be in it (remove it, or pass --force)")
        # Everything but the build tree, which stays to make the next build quick.
        for entry in d.iterdir():
            if entry.name == "build":
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    found = source_regions(src)
    if not found:
        die(f"{name} has no exercise regions (// exercise: <id> — <hint> ... // end exercise)")
    for r in found:
        if ".." in Path(r.file).parts:
            die(f"{r.file}:{r.line}: exercise {r.id} is outside {name} (a copy has its src/ only)")

    d.mkdir(parents=True, exist_ok=True)
    top = {"build", ".workshop"}
    shutil.copytree(
        src,
        d,
        symlinks=True,
        dirs_exist_ok=True,
        ignore=lambda where, names: [
            n for n in names if Path(where) == src and (n in top or n.startswith("build-"))
        ],
    )
    d = Path(os.path.abspath(d))
    solutions = d / ".workshop" / "solutions"
    solutions.mkdir(parents=True, exist_ok=True)
    write_lines(d / ".workshop" / "exercises.tsv", [r.tsv() for r in found])
    write_lines(d / ".workshop" / "name", [name])

    # The regions: the solution is kept aside, the stub takes its place.
    for f in dict.fromkeys(r.file for r in found):
        lines = read_lines(d / f)
        for r in sorted((r for r in found if r.file == f), key=lambda r: -r.line):
            end = next(i for i in range(r.line, len(lines)) if END.match(lines[i]))
            write_lines(solutions / r.id, lines[r.line : end])
            lines[r.line : end] = [stub(indent_of(lines[r.line - 1]), r.id)]
        write_lines(d / f, lines)

    # The runtime: the repository's common/ (the stage's relative path made absolute), or an
    # installed one named with -Dotp_DIR.
    cml = d / "CMakeLists.txt"
    lines = read_lines(cml)
    subdirectory = re.compile(r"^\s*add_subdirectory\(([^ )]+) common\)")
    rel = next((m.group(1) for line in lines if (m := subdirectory.match(line))), None)
    if rel is None:
        die(f"{name}/CMakeLists.txt has no add_subdirectory(<path> common)")
    common = os.path.abspath(src / rel)
    relative, absolute = f"add_subdirectory({rel} common)", f'add_subdirectory("{common}" common)'
    out, done = [], False
    for line in lines:
        if not done and line.startswith("if(NOT TARGET otp::otp)"):
            out += [
                f"# A workshop copy of {name} (scripts/workshop.sh): "
                "the runtime is the repository's",
                "# common/, or an installed one (-Dotp_DIR=<prefix>/lib/cmake/otp).",
                "if(NOT TARGET otp::otp AND otp_DIR)",
                "  find_package(otp 0.1 CONFIG REQUIRED)",
                "endif()",
            ]
            done = True
        out.append(line.replace(relative, absolute, 1))
    write_lines(cml, out)

    script = d / "workshop"
    script.write_text(
        f"""#!/usr/bin/env bash
# The workshop copy of {name}: ./workshop (build, test, the next exercise), ./workshop --all,
# ./workshop watch, ./workshop --solution <id>, ./workshop --reset <id>.
cd "$(dirname "$0")"
case "${{1:-}}" in
  watch) shift; exec bash "{SELF}" watch . "$@" ;;
  --solution | --reset | --fill) exec bash "{SELF}" "$1" "$2" . ;;
  *) exec bash "{SELF}" test . "$@" ;;
esac
"""
    )
    script.chmod(0o755)

    print(f"wrote {d}: {name} with {len(found)} exercises")
    list_exercises(d)
    print(f"next: cd {d} && ./workshop   (or: scripts/workshop.sh test {d})")


def list_exercises(d):
    for n, r in enumerate(current(d), 1):
        print(f"{n:2d}. {r.id:<22} {r.file}:{r.line + 1}  {r.hint}")


def build(d):
    """Configures (the first time) and builds the copy: quiet unless it fails."""
    log = d / "build" / "workshop-build.log"
    (d / "build").mkdir(parents=True, exist_ok=True)
    if not (d / "build" / "CMakeCache.txt").is_file():
        progress(f"building {shown(d)} (the first build takes a few minutes) ...")
        args = ["cmake", "-S", str(d), "-B", str(d / "build"), "-DCMAKE_BUILD_TYPE=Debug"]
        if shutil.which("ninja"):
            args += ["-G", "Ninja"]
        if shutil.which("ccache"):
            args += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
        args += os.environ.get("WORKSHOP_CMAKE_ARGS", "").split()
        with open(log, "w") as out:
            configured = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT).returncode == 0
        if not configured:
            sys.stdout.write(log.read_text(errors="replace"))
            print("the copy does not configure (above)")
            return False
    else:
        progress(f"building {shown(d)} ...")
    args = ["cmake", "--build", str(d / "build"), "-j", os.environ.get("WORKSHOP_JOBS") or "2"]
    with open(log, "w") as out:
        built = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT).returncode == 0
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


def put_region(d, rid, mode):
    """Replaces what is between the markers of <id> in the copy <d>: with the reference solution
    (mode fill), or with the stub (mode reset)."""
    r = next((r for r in current(d) if r.id == rid), None)
    if r is None:
        die(f"no exercise {rid} in {d} (scripts/workshop.sh list {d})")
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
    f = d / ".workshop" / "solutions" / rid
    if not f.is_file():
        die(f"no exercise {rid} in {d} (scripts/workshop.sh list {d})")
    return f


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
    elif command == "--solution":
        d = copy_dir(arg(2, "."))
        sys.stdout.flush()
        sys.stdout.buffer.write(solution_file(d, needed(args, 1, "--solution <id>")).read_bytes())
    elif command in ("--fill", "--reset"):
        d = copy_dir(arg(2, "."))
        rid = needed(args, 1, f"{command} <id>")
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
