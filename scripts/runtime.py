#!/usr/bin/env python3
"""The runtime, installed once for the stages, the labs, the workshop copies and the
applications of scripts/new_app.py.

  python3 scripts/runtime.py             builds common/'s libraries and installs them with their
                                         headers and otpConfig.cmake into build/runtime/prefix;
                                         prints the prefix. Where the dev build is (build/dev,
                                         scripts/test.sh), its libraries are built there and
                                         installed from it: seconds. Otherwise they are built
                                         in build/runtime (Debug, no tests, benchmarks or labs):
                                         minutes the first time. Later runs bring the install up
                                         to date with common/, in seconds when it has not
                                         changed
  python3 scripts/runtime.py --prefix    prints the prefix, building nothing
  python3 scripts/runtime.py --help      this text

A stage or lab built alone (cmake -S 03_fault_tolerant -B build/03) finds that prefix with
find_package(otp) and builds only its own files; without it, it builds common/ itself.
./workshop runs this before it builds a copy. The build's log is build/runtime/build.log;
OTP_RUNTIME_JOBS sets the number of parallel compile jobs (the number of cores otherwise).
"""
# Python 3.11, the standard library only. workshop.py and new_app.py import it.

import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "runtime"
PREFIX = BUILD / "prefix"
DEV = ROOT / "build" / "dev"
CONFIG = PREFIX / "lib" / "cmake" / "otp" / "otpConfig.cmake"

# What the first build takes on a small machine (docs/workshop.md has the measured times).
FIRST_BUILD = "a few minutes on 2 cores"


def progress(message):
    print(message, file=sys.stderr, flush=True)


def installed():
    return CONFIG.is_file()


def shown(path):
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def dev_build():
    """build/dev, configured by scripts/test.sh (the dev preset), where its libraries can be built
    and installed from; None where there is none, or where it is a sanitizer's build."""
    cache = DEV / "CMakeCache.txt"
    if not cache.is_file():
        return None
    text = cache.read_text(errors="replace")
    if "-fsanitize" in text or not re.search(r"^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$", text, re.M):
        return None
    home = re.search(r"^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$", text, re.M).group(1)
    return DEV if Path(home).resolve() == ROOT else None


def libraries():
    """The runtime's compiled libraries: the otp_library() calls of common/CMakeLists.txt that
    have sources (the header-only otp_testing has nothing to build)."""
    text = (ROOT / "common" / "CMakeLists.txt").read_text()
    return re.findall(r"^otp_library\((\w+)\s+SOURCES\b", text, re.M)


def _run(args, log):
    with open(log, "a") as out:
        out.write("$ " + " ".join(args) + "\n")
        out.flush()
        return subprocess.run(args, stdout=out, stderr=subprocess.STDOUT).returncode == 0


def ensure():
    """Builds and installs the runtime when it is not there, brings it up to date otherwise.
    Returns the prefix, or None (with the reason on stderr) when the build fails."""
    BUILD.mkdir(parents=True, exist_ok=True)
    log = BUILD / "build.log"
    # One build at a time: two copies started together wait for the same install.
    with open(BUILD / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        first, started = not installed(), time.monotonic()
        if first and dev_build() is not None:
            progress(f"installing the runtime once, from {shown(DEV)}, into {shown(PREFIX)}")
        elif first:
            progress(
                f"building the runtime once ({FIRST_BUILD}; later runs take seconds): "
                f"common/ into {shown(PREFIX)}"
            )
        log.write_text("")
        jobs = os.environ.get("OTP_RUNTIME_JOBS") or str(os.cpu_count() or 2)
        source = dev_build()
        if source is not None:
            targets = ["--target", *libraries()]
            built = _run(["cmake", "--build", str(source), "-j", jobs, *targets], log)
        else:
            source = BUILD
            if not (BUILD / "CMakeCache.txt").is_file():
                args = ["cmake", "-S", str(ROOT / "common"), "-B", str(BUILD)]
                args += ["-DCMAKE_BUILD_TYPE=Debug", "-DOTP_BUILD_TESTS=OFF"]
                args += ["-DOTP_BUILD_BENCH=OFF", "-DOTP_BUILD_LABS=OFF"]
                if shutil.which("ninja"):
                    args += ["-G", "Ninja"]
                if shutil.which("ccache"):
                    args += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
                if not _run(args, log):
                    progress(f"the runtime does not configure: {log}")
                    return None
            built = _run(["cmake", "--build", str(BUILD), "-j", jobs], log)
        if not built:
            progress(f"the runtime does not build: {log}")
            return None
        if not _run(["cmake", "--install", str(source), "--prefix", str(PREFIX)], log):
            progress(f"the runtime does not install: {log}")
            return None
        if first:
            progress(f"the runtime is installed ({time.monotonic() - started:.0f} s)")
    return PREFIX


def main(argv):
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__, end="")
        return 0
    if argv and argv[0] == "--prefix":
        print(PREFIX)
        return 0
    if argv:
        print(f"runtime.py: unknown argument {argv[0]} (--help)", file=sys.stderr)
        return 2
    prefix = ensure()
    if prefix is None:
        return 1
    print(prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
