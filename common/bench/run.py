#!/usr/bin/env python3
# The benchmark driver behind common/bench/run.sh: builds the bench_* programs it needs, runs the
# workloads (ours, redis-benchmark, wrk against hang_ten serve and nginx), prints their tagged
# RESULT / PEAK_RSS lines and, with RUNS>1, a median/min/max summary. Standard library only.
"""The anchor workloads (shared/anchors/WORKLOADS.md) on our runtime (library otp).

Usage: common/bench/run.sh [workload ...]   (default: all but growth)
  (run.sh runs this program, common/bench/run.py, with python3)
  workloads: spawn ring pingpong counting fanin call call_par restart
             restart_batched registry table hangten skynet
             growth  (not an anchor workload: spawn with n = 1000, 100000, 1000000,
                      ring with n = 1000, 100000, 1000000 and m = 1000000*SCALE, and
                      skynet with leaves = 10000, 100000, 1000000, to show how the
                      cost grows with the number of processes; at n = 1000 a spawn
                      region lasts about 1 ms, the polling resolution, so that row
                      is only indicative)
             redis   (not an anchor workload: a redis-server of its own on a
                      free loopback port, driven by redis-benchmark GET and SET at
                      -c 1 -P 1, -c 50 -P 1 and -c 1 -P 16 (-n 100000*SCALE, and
                      1000000*SCALE pipelined); needs redis-server and redis-tools
                      (scripts/deps.sh); then our client, bench_redis, in the
                      same settings on the same server (the only program built))
             http    (not an anchor workload: `hang_ten serve` from stage 05, built as
                      build/release/05_one_last_thing/hang_ten (the only program built),
                      against nginx, driven by wrk -t2 -c64 -d10s --latency with
                      common/bench/http/validate.lua:
                      - http.validate: a fresh `hang_ten serve --listen 127.0.0.1:<free
                        port>` (memory stash); 10000*SCALE sessions u0, u1, ... are
                        created first (POST /sessions, curl --parallel, 64 at a time,
                        a progress line on stderr), then wrk posts their valid tokens
                        round-robin to /sessions/<login>/validate for 10 s*SCALE
                        (at least 1 s; at least 100 sessions)
                      - http.return200: nginx of its own (nginx -c <generated conf> -p
                        <temp dir>, never the system's), `location / { return 200
                        "{\\"valid\\":true}"; }`, access_log off, worker_processes =
                        nproc, as many as the service's scheduler threads (one per
                        hardware thread, its default); the same script and requests
                      - http.validate.redis: http.validate with --stash redis://... on a
                        redis-server of its own
                      - http.sessions100k: the VmRSS of a fresh `hang_ten serve` (memory
                        stash) once 100000*SCALE sessions are live (at least 1000; the
                        name stays), and the bytes per session: (RSS after - RSS
                        before creating them) / sessions
                      Any answer but 200 (or a socket error) during a wrk run fails it.
                      INFO lines give ours/nginx for req/s and p99 and whether the
                      targets are met (req/s >= 0.5 of nginx's; p99 <= 2x nginx's).
                      Needs wrk and nginx (apt-get install wrk nginx-light; not in
                      scripts/deps.sh), curl and redis-server (scripts/deps.sh))
  Programs: bench_spawn, bench_ring, bench_pingpong, bench_counting (counting,
  fanin), bench_call (call, call_par), bench_restart (restart, and
  restart_batched with batch=100), bench_registry, bench_table, bench_hangten
  (built from 04_kill_children/bench: stage 04's session tree), bench_skynet. A workload
  whose program has not been built is skipped, with one line on stderr.
  The servers it starts (redis-server, nginx, hang_ten serve) are stopped on every
  exit, Ctrl-C included.
Environment:
  SCALE=0.1      multiply every size parameter (default 1; the same sizes and
                 minimums as the anchors' run.sh; the ring size stays 1000,
                 restart_batched keeps batch=100, registry and table readers=2,
                 skynet's leaves are the power of ten at or below 1000000*SCALE,
                 at least 1000)
  RUNS=3         repetitions per workload (default 1); with RUNS>1 a
                 median/min/max summary is printed at the end
  THREADS=N      scheduler threads, passed as threads=N (default: nproc)
  TIMEOUT=600    per-run wall-clock limit in seconds (coreutils timeout's syntax)
  LOG_DIR=dir    keep raw per-run output there (default: a temp dir, removed)
  HANGTEN_BENCH_DIR=dir  the bench_* programs (set by scripts/main.sh, which
                 has built them); when unset, the programs of the workloads asked
                 for are built with the `release` preset (those targets only) and
                 build/release/bench is used
  BUILD=0|1      skip or force the build (default: build unless HANGTEN_BENCH_DIR is set)
  WRK_THREADS=2 WRK_CONNECTIONS=64   wrk's -t and -c for http
  HANGTEN_SERVE=path  the hang_ten program for http (default: <the bench_*
                 programs' folder>/../05_one_last_thing/hang_ten)
Output: one line per figure, tagged like the anchors' run.sh, e.g.
  [ours] RESULT ring ns_per_hop 85.2 ns
  [ours] PEAK_RSS ring 61234 KiB          (from /usr/bin/time -v)
  [redis-benchmark] RESULT redis.get.c50.P1 req_per_s 81234.5 req/s
                                          (redis: workload redis.<command>.c<clients>.P<depth>)
  [ours] RESULT http.validate p99_ms 1.234 ms
  [nginx] RESULT http.return200 req_per_s 54321.0 req/s
The workload field is the name given here (restart_batched stays
restart_batched whatever name bench_restart prints).
Lines starting with "#" are commands, INFO and ERROR lines. The summary lines
(RUNS>1, or growth) read: SUMMARY [impl] workload metric median min max unit (n=runs).
All figures also go to <LOG_DIR>/all-results.txt.
Exit status: 0 when every run passed (skipped workloads do not count), 1 when
one failed (or the build did), 2 for a bad workload, RUNS or SCALE; 130 after
Ctrl-C or SIGTERM, 129 after SIGHUP, 141 when stdout was closed (run.sh | head).
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Callable, Iterable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ALL = ("spawn ring pingpong counting fanin call call_par restart restart_batched registry table "
       "hangten skynet").split()
KNOWN = ALL + ["growth", "redis", "http"]
GROWTH_N = (1000, 100000, 1000000)
GROWTH_LEAVES = (10000, 100000, 1000000)
REDIS_SETTINGS = ((1, 1), (50, 1), (1, 16))  # (clients, pipeline depth)


class UsageError(Exception):
    """A bad command line or environment: exit status 2."""


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP arrived: clean up and exit with `status`."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def nproc() -> int:
    return len(os.sched_getaffinity(0))


def say(line: str = "") -> None:
    """A line on stdout (line-buffered: it interleaves with stderr as it comes)."""
    print(line)


def warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def indented(lines: Iterable[str]) -> None:
    """Another program's output, quoted under a FAILED or ERROR line."""
    for line in lines:
        say("#   " + line)


def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def tail(path: str, n: int = 20) -> list[str]:
    return read_text(path).splitlines()[-n:]


# ------------------------------------------------------------------------------- settings ---
@dataclasses.dataclass(frozen=True)
class Config:
    """What the environment asks for."""
    scale_text: str  # as given: the header line shows it so
    scale: float
    runs: int
    threads: str
    timeout: str  # passed to coreutils timeout
    log_dir: str  # "" when not kept
    bench: str  # the bench_* programs' folder
    build: bool
    serve: str  # hang_ten, for http
    wrk_threads: str
    wrk_connections: str

    @staticmethod
    def from_env(env: dict[str, str]) -> "Config":
        def get(name: str, default: str) -> str:
            return env.get(name) or default  # unset or empty: the default, as ${NAME:-default}

        scale_text = get("SCALE", "1")
        try:
            scale = float(scale_text)
        except ValueError:
            raise UsageError("SCALE must be a number") from None
        runs_text = get("RUNS", "1")
        if not runs_text.isascii() or not runs_text.isdigit() or int(runs_text) == 0:
            raise UsageError("RUNS must be a positive integer")
        if env.get("HANGTEN_BENCH_DIR"):
            bench, build = env["HANGTEN_BENCH_DIR"], get("BUILD", "0")
        else:
            bench, build = os.path.join(REPO, "build", "release", "bench"), get("BUILD", "1")
        serve = get("HANGTEN_SERVE",
                    os.path.join(os.path.dirname(bench.rstrip("/") or "/"), "05_one_last_thing",
                                 "hang_ten"))
        return Config(scale_text=scale_text, scale=scale, runs=int(runs_text),
                      threads=get("THREADS", str(nproc())), timeout=get("TIMEOUT", "600"),
                      log_dir=env.get("LOG_DIR", ""), bench=bench, build=build == "1",
                      serve=serve, wrk_threads=get("WRK_THREADS", "2"),
                      wrk_connections=get("WRK_CONNECTIONS", "64"))


def scaled(default: int, minimum: int, scale: float) -> int:
    """DEFAULT*SCALE rounded, at least MINIMUM (as in the anchors' run.sh)."""
    return max(int(default * scale + 0.5), minimum)


def skynet_leaves(scale: float) -> int:
    """The power of ten at or below 1000000*SCALE, at least 1000."""
    limit, leaves = 1000000 * scale, 1000
    while leaves * 10 <= limit + 0.5:
        leaves *= 10
    return leaves


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Every size parameter at the given SCALE."""
    spawn: int
    ring_n: int
    ring_m: int
    pingpong: int
    counting: int
    call: int
    restart: int
    registry_n: int
    registry_l: int
    table_n: int
    table_l: int
    hangten: int
    skynet: int
    growth_m: int
    redis: int
    redis_pipelined: int
    http_sessions: int  # sessions that wrk validates round-robin
    http_rss_sessions: int  # live sessions for the RSS figure
    http_seconds: int  # per wrk run

    @staticmethod
    def at(scale: float) -> "Sizes":
        def sz(default: int, minimum: int) -> int:
            return scaled(default, minimum, scale)

        return Sizes(spawn=sz(1000000, 1000), ring_n=1000, ring_m=sz(10000000, 1000),
                     pingpong=sz(1000000, 1000), counting=sz(10000000, 1000),
                     call=sz(1000000, 1000), restart=sz(100000, 100), registry_n=sz(100000, 100),
                     registry_l=sz(1000000, 1000), table_n=sz(1000000, 1000),
                     table_l=sz(1000000, 1000), hangten=sz(100000, 10),
                     skynet=skynet_leaves(scale), growth_m=sz(1000000, 1000),
                     redis=sz(100000, 1000), redis_pipelined=sz(1000000, 10000),
                     http_sessions=sz(10000, 100), http_rss_sessions=sz(100000, 1000),
                     http_seconds=sz(10, 1))


def programs(workload: str) -> list[str]:
    """The build targets a workload runs (for http the service, which is no bench_ program)."""
    return {
        "counting": ["bench_counting"], "fanin": ["bench_counting"],
        "call": ["bench_call"], "call_par": ["bench_call"],
        "restart": ["bench_restart"], "restart_batched": ["bench_restart"],
        "growth": ["bench_spawn", "bench_ring", "bench_skynet"],
        "redis": ["bench_redis"],  # our client's program
        "http": ["hang_ten_05_one_last_thing"],
    }.get(workload, ["bench_" + workload])


def command(workload: str, s: Sizes, bench: str, threads: str) -> list[str]:
    """An anchor workload's command line."""
    args = {
        "spawn": ("bench_spawn", f"n={s.spawn}"),
        "ring": ("bench_ring", f"n={s.ring_n}", f"m={s.ring_m}"),
        "pingpong": ("bench_pingpong", f"r={s.pingpong}"),
        "counting": ("bench_counting", f"c={s.counting}", "p=1"),
        "fanin": ("bench_counting", f"c={s.counting}", "p=2"),
        "call": ("bench_call", f"k={s.call}", "clients=1"),
        "call_par": ("bench_call", f"k={s.call}", "clients=2"),
        "restart": ("bench_restart", f"x={s.restart}"),
        "restart_batched": ("bench_restart", f"x={s.restart}", "batch=100"),
        "registry": ("bench_registry", f"n={s.registry_n}", f"l={s.registry_l}", "readers=2"),
        "table": ("bench_table", f"n={s.table_n}", f"l={s.table_l}", "readers=2"),
        "hangten": ("bench_hangten", f"u={s.hangten}"),
        "skynet": ("bench_skynet", f"leaves={s.skynet}"),
    }[workload]
    return [os.path.join(bench, args[0]), *args[1:], f"threads={threads}"]


# -------------------------------------------------------------------------------- figures ---
@dataclasses.dataclass(frozen=True)
class Figure:
    """One RESULT or PEAK_RSS line."""
    impl: str  # ours, redis-benchmark, nginx
    workload: str
    metric: str  # peak_rss for a PEAK_RSS line
    value: str  # as the program printed it
    unit: str

    def line(self) -> str:
        if self.metric == "peak_rss":
            return f"[{self.impl}] PEAK_RSS {self.workload} {self.value} {self.unit}"
        return " ".join(filter(None, (f"[{self.impl}] RESULT", self.workload, self.metric,
                                      self.value, self.unit)))


def number(text: str) -> float:
    """A figure's value as a number (0 when it is none, as awk would have it)."""
    try:
        return float(text)
    except ValueError:
        return 0.0


def parse_result(line: str, impl: str, workload: Optional[str] = None) -> Optional[Figure]:
    """`RESULT <workload> <metric> <value> <unit...>`, the workload replaced when given."""
    fields = line.split()
    if len(fields) < 4 or fields[0] != "RESULT":
        return None
    return Figure(impl, workload or fields[1], fields[2], fields[3], " ".join(fields[4:]))


def awk_number(x: float) -> str:
    """A computed figure as the earlier awk summary printed it: integers plainly, else %.6g."""
    return str(int(x)) if x == int(x) else f"{x:.6g}"


def version_key(text: str) -> list:
    """A sort key ordering lines as GNU `sort -V` does (digit runs by value; in the text
    between them, letters before other characters)."""
    key: list = []
    for i, part in enumerate(re.split(r"(\d+)", text)):
        if i % 2:
            key.append(int(part))
        else:
            key.append(tuple(-1 if c == "~" else ord(c) if c.isalpha() else ord(c) + 256
                             for c in part))
    return key


class Results:
    """Every figure of this invocation, in memory and in all-results.txt."""

    def __init__(self, path: str):
        self.path = path
        self.figures: list[Figure] = []
        open(path, "w").close()

    def add(self, figure: Figure, show: bool = True) -> None:
        if show:
            say(figure.line())
        self.figures.append(figure)
        with open(self.path, "a") as f:
            f.write(figure.line() + "\n")

    def mean(self, impl: str, workload: str, metric: str) -> Optional[float]:
        values = [number(f.value) for f in self.figures
                  if (f.impl, f.workload, f.metric) == (impl, workload, metric)]
        return statistics.fmean(values) if values else None

    def summary(self) -> list[str]:
        """SUMMARY [impl] workload metric median min max unit (n=runs), in `sort -V` order."""
        groups: dict[tuple[str, str, str], list[str]] = {}
        units: dict[tuple[str, str, str], str] = {}
        for f in self.figures:
            key = (f"[{f.impl}]", f.workload, f.metric)
            groups.setdefault(key, []).append(f.value)
            units[key] = (f.unit.split() or [""])[0]
        lines = []
        for key, values in groups.items():
            ordered = sorted(values, key=number)
            n = len(ordered)
            median = (ordered[n // 2] if n % 2
                      else awk_number(statistics.median(number(v) for v in ordered)))
            lines.append(f"SUMMARY {' '.join(key)} {median} {ordered[0]} {ordered[-1]} "
                         f"{units[key]} (n={n})")
        return sorted(lines, key=lambda line: (version_key(line), line))


# ------------------------------------------------------------------------------ processes ---
def exit_status(returncode: int) -> int:
    """A child's status as a shell reports it (killed by signal N: 128+N)."""
    return 128 - returncode if returncode < 0 else returncode


class Processes:
    """The servers and temporary folders of this invocation, stopped and removed on every exit
    (`close`). Every child runs in a session of its own, so that Ctrl-C reaches only us and we
    stop them, each the way it wants."""

    def __init__(self) -> None:
        self.servers: list[tuple[subprocess.Popen, signal.Signals]] = []
        self.folders: list[str] = []

    def start(self, argv: list[str], log: str, stop_signal: signal.Signals,
              append: bool = False) -> subprocess.Popen:
        with open(log, "ab" if append else "wb") as out:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.servers.append((proc, stop_signal))
        return proc

    def stop(self, proc: Optional[subprocess.Popen], sig: Optional[signal.Signals] = None,
             grace: float = 30) -> Optional[int]:
        """Sends the server its stop signal (or `sig`), waits up to `grace` s, then SIGKILL."""
        if proc is None:
            return None
        entry = next((e for e in self.servers if e[0] is proc), None)
        if proc.poll() is None:
            proc.send_signal(sig or (entry[1] if entry else signal.SIGTERM))
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
        status = exit_status(proc.wait())
        if entry:  # forgotten only once it is gone: an interrupted stop is finished by close()
            self.servers.remove(entry)
        return status

    def folder(self) -> str:
        path = tempfile.mkdtemp(prefix="hangten-bench-")
        self.folders.append(path)
        return path

    def remove(self, path: Optional[str]) -> None:
        if path:
            shutil.rmtree(path, ignore_errors=True)
            if path in self.folders:
                self.folders.remove(path)

    def close(self) -> None:
        for proc, _ in list(self.servers):
            self.stop(proc)
        for path in list(self.folders):
            self.remove(path)


def run_limited(argv: list[str], timeout: str, out: str, append: bool = False,
                err: Optional[str] = None) -> int:
    """`timeout TIMEOUT argv`, stdout (and stderr, unless `err`) to the file `out`; its exit
    status (124: timed out). Run in a session of its own, and killed with everything it
    started if we are interrupted."""
    with open(out, "ab" if append else "wb") as stdout, \
            (open(err, "ab") if err else contextlib.nullcontext(subprocess.STDOUT)) as stderr:
        proc = subprocess.Popen(["timeout", timeout, *argv], stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=stderr, start_new_session=True)
        try:
            return exit_status(proc.wait())
        except BaseException:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            raise


def wait_until(ready: Callable[[], bool], alive: Callable[[], bool], tries: int,
               pause: float = 0.02) -> bool:
    """Polls `ready` up to `tries` times while `alive`."""
    for _ in range(tries):
        if not alive():
            return False
        if ready():
            return True
        time.sleep(pause)
    return False


def free_port_guess() -> int:
    return random.randrange(20000, 60000)


def port_taken(port: int) -> bool:
    """Something answers on 127.0.0.1:PORT."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def tool(name: str) -> Optional[str]:
    """A program on PATH, or in /usr/sbin (nginx, for a user whose PATH lacks it)."""
    found = shutil.which(name)
    if found:
        return found
    sbin = os.path.join("/usr/sbin", name)
    return sbin if os.access(sbin, os.X_OK) else None


# -------------------------------------------------------------------------------- context ---
@dataclasses.dataclass
class Bench:
    """One invocation: its settings, where its logs go, its figures and its children."""
    config: Config
    sizes: Sizes
    logs: str
    results: Results
    procs: Processes
    failed: bool = False

    def log(self, name: str) -> str:
        return os.path.join(self.logs, name)


# ------------------------------------------------------------------ anchor workloads, growth ---
def run_program(b: Bench, name: str, key: str, argv: list[str]) -> None:
    """Runs a bench_* program RUNS times and prints its tagged lines. NAME names the log files;
    KEY replaces the workload field of the RESULT lines in all-results.txt (growth:
    spawn@n=1000) and, when it equals NAME, on stdout too."""
    for run in range(1, b.config.runs + 1):
        out, times = b.log(f"ours-{name}-{run}.out"), b.log(f"ours-{name}-{run}.time")
        say(f"# [ours] {name} run {run}: {' '.join(argv)}")
        rc = run_limited(["/usr/bin/time", "-v", "-o", times, *argv], b.config.timeout, out)
        lines = read_text(out).splitlines()
        for line in lines:
            if line.startswith(("INFO ", "ERROR ")):
                say("# [ours] " + line)
        for line in lines:
            figure = parse_result(line, "ours", key) if line.startswith("RESULT ") else None
            if figure:
                if name != key:
                    say("[ours] " + line)
                b.results.add(figure, show=name == key)
        for line in read_text(times).splitlines():
            if "Maximum resident set size" in line and ": " in line:
                b.results.add(Figure("ours", key, "peak_rss", line.split(": ")[1].strip(), "KiB"))
        if rc != 0:
            b.failed = True
            say(f"[ours] FAILED {name} rc={rc} (124 = timeout)")
            indented(tail(out))


def run_anchor(b: Bench, workload: str) -> None:
    run_program(b, workload, workload,
                command(workload, b.sizes, b.config.bench, b.config.threads))


def run_growth(b: Bench) -> None:
    bench, threads = b.config.bench, b.config.threads
    for n in GROWTH_N:
        say(f"# [ours] INFO growth spawn n={n}")
        run_program(b, f"growth-spawn-{n}", f"spawn@n={n}",
                    [os.path.join(bench, "bench_spawn"), f"n={n}", f"threads={threads}"])
    for n in GROWTH_N:
        say(f"# [ours] INFO growth ring n={n} m={b.sizes.growth_m}")
        run_program(b, f"growth-ring-{n}", f"ring@n={n}",
                    [os.path.join(bench, "bench_ring"), f"n={n}", f"m={b.sizes.growth_m}",
                     f"threads={threads}"])
    for leaves in GROWTH_LEAVES:
        say(f"# [ours] INFO growth skynet leaves={leaves}")
        run_program(b, f"growth-skynet-{leaves}", f"skynet@leaves={leaves}",
                    [os.path.join(bench, "bench_skynet"), f"leaves={leaves}",
                     f"threads={threads}"])


# ---------------------------------------------------------------------------------- redis ---
@dataclasses.dataclass
class RedisServer:
    proc: subprocess.Popen
    port: int
    folder: str


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_version() -> str:
    """`redis-server --version`'s third word, e.g. v=7.0.15."""
    text = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    words = text.split()
    return words[2] if len(words) > 2 else ""


def redis_start(b: Bench) -> Optional[RedisServer]:
    """A redis-server of our own on a free loopback port (never the machine's 6379), no
    persistence. A port someone else holds makes redis exit at once, and another is tried;
    "ready" is read from our server's own log."""
    folder = b.procs.folder()
    log = os.path.join(folder, "redis.log")
    for _ in range(10):
        port = free_port_guess()
        if os.path.exists(log):
            os.remove(log)
        proc = b.procs.start(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", folder,
                              "--logfile", log, "--daemonize", "no"],
                             os.devnull, signal.SIGTERM)
        if wait_until(lambda: "Ready to accept connections" in read_text(log)
                      and redis_ping(port), lambda: proc.poll() is None, 500):
            return RedisServer(proc, port, folder)
        b.procs.stop(proc)
    say("# [redis-benchmark] ERROR redis: redis-server did not start; its log:")
    indented(read_text(log).splitlines())
    b.procs.remove(folder)
    return None


@contextlib.contextmanager
def redis_server(b: Bench, who: str, what: str):
    """A redis-server of our own for the `with` block (None, and the run marked failed, when
    it does not start); its INFO line names `what` it serves, and it is stopped on the way out,
    whatever happens inside."""
    server = redis_start(b)
    if server is None:
        b.failed = True
        yield None
        return
    try:
        say(f"# [{who}] INFO {what}redis-server {redis_version()} on 127.0.0.1:{server.port}")
        yield server
    finally:
        b.procs.stop(server.proc)
        b.procs.remove(server.folder)


def redis_benchmark_rows(path: str) -> list[tuple[str, float]]:
    """redis-benchmark --csv: "test","rps",... then one row per command, "GET","81234.55",..."""
    rows = []
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        for row in csv.reader(f):
            if len(row) > 1 and row[0] in ("GET", "SET"):
                rows.append((row[0], number(row[1])))
    return rows


def run_redis(b: Bench) -> None:
    """GET and SET with redis-benchmark at three (clients, pipeline depth) settings, then our
    client (bench_redis) in the same settings, RUNS times each, on one redis-server."""
    for name in ("redis-server", "redis-benchmark"):
        if not shutil.which(name):
            warn(f"run.sh: skipping redis: no {name} "
                 "(bash scripts/deps.sh installs redis-server and redis-tools)")
            return
    with redis_server(b, "redis-benchmark", "") as server:
        if server is not None:
            run_redis_benchmark(b, server.port)
            run_redis_client(b, server.port)


def run_redis_benchmark(b: Bench, port: int) -> None:
    for clients, depth in REDIS_SETTINGS:
        n = b.sizes.redis_pipelined if depth > 1 else b.sizes.redis
        for run in range(1, b.config.runs + 1):
            out = b.log(f"redis-benchmark-c{clients}-P{depth}-{run}.csv")
            say(f"# [redis-benchmark] redis run {run}: redis-benchmark -c {clients} -P {depth} "
                f"-n {n} -t get,set --csv")
            rc = run_limited(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port),
                              "-c", str(clients), "-P", str(depth), "-n", str(n),
                              "-t", "get,set", "--csv"], b.config.timeout, out)
            rows = redis_benchmark_rows(out)
            for test, rps in rows:
                b.results.add(Figure("redis-benchmark",
                                     f"redis.{test.lower()}.c{clients}.P{depth}",
                                     "req_per_s", f"{rps:.1f}", "req/s"))
            if rc != 0 or not any(test == "GET" for test, _ in rows):
                b.failed = True
                say(f"[redis-benchmark] FAILED redis -c {clients} -P {depth} rc={rc} "
                    "(124 = timeout)")
                indented(tail(out))


def run_redis_client(b: Bench, port: int) -> None:
    """The same settings with the runtime's own client (otp::redis::Connection, bench_redis):
    50 caller processes share one connection where redis-benchmark opens 50. Each RESULT line
    is followed by the ratio of our figure to redis-benchmark's mean for the same setting."""
    program = os.path.join(b.config.bench, "bench_redis")
    if not os.access(program, os.X_OK):
        warn(f"run.sh: skipping our redis client: no {program} (not built)")
        return
    s = b.sizes
    for run in range(1, b.config.runs + 1):
        out = b.log(f"bench_redis-{run}.txt")
        say(f"# [ours] redis run {run}: bench_redis port={port} n={s.redis} "
            f"n_pipelined={s.redis_pipelined} threads={b.config.threads}")
        rc = run_limited([program, f"port={port}", f"n={s.redis}",
                          f"n_pipelined={s.redis_pipelined}", f"threads={b.config.threads}"],
                         b.config.timeout, out)
        lines = read_text(out).splitlines()
        for line in lines:
            figure = parse_result(line, "ours")
            if figure is None:
                continue
            b.results.add(figure)
            theirs = [number(f.value) for f in b.results.figures
                      if f.impl == "redis-benchmark" and f.workload == figure.workload]
            if theirs:
                mean = statistics.fmean(theirs)
                say(f"# [ours] INFO {figure.workload} ratio {number(figure.value) / mean:.2f} "
                    f"of redis-benchmark ({mean:.1f} req/s)")
        if rc != 0:
            b.failed = True
            say(f"[ours] FAILED redis rc={rc} (124 = timeout)")
            indented([line for line in lines if not line.startswith("RESULT")][-20:])


# ----------------------------------------------------------------------------------- http ---
@dataclasses.dataclass
class Service:
    """A `hang_ten serve` of ours."""
    proc: subprocess.Popen
    port: int
    log: str


def serve_start(b: Bench, name: str, *args: str) -> Optional[Service]:
    """`hang_ten serve --listen 127.0.0.1:0 ARGS` (it picks a free port), once it printed its
    URL. Its output goes to <logs>/hang_ten-NAME.log."""
    log = b.log(f"hang_ten-{name}.log")
    say(f"# [ours] {name}: {' '.join([b.config.serve, 'serve', '--listen', '127.0.0.1:0', *args])}")
    proc = b.procs.start([b.config.serve, "serve", "--listen", "127.0.0.1:0", *args], log,
                         signal.SIGKILL)
    # "HangTen serving http://127.0.0.1:40123 (memory stash); SIGINT or SIGTERM stops it"
    pattern = re.compile(r"^HangTen serving http://127\.0\.0\.1:([0-9]+)", re.MULTILINE)
    port: list[int] = []

    def ready() -> bool:
        found = pattern.search(read_text(log))
        if found:
            port.append(int(found.group(1)))
        return bool(found)

    if wait_until(ready, lambda: proc.poll() is None, 1500):  # 30 s
        return Service(proc, port[0], log)
    say("# [ours] ERROR http: hang_ten serve did not start; it printed:")
    indented(tail(log))
    b.procs.stop(proc)
    return None


def serve_stop(b: Bench, service: Service) -> bool:
    """SIGTERM, then its exit status, which must be 0 (SIGKILL after 120 s)."""
    rc = b.procs.stop(service.proc, signal.SIGTERM, grace=120)
    if rc == 0:
        return True
    say(f"# [ours] ERROR http: hang_ten serve exited with status {rc} on SIGTERM "
        "(137: killed after 120 s); it printed:")
    indented(tail(service.log))
    return False


def curl_config(port: int, first: int, end: int) -> str:
    """curl -K blocks, one request per block, separated by "next", which resets the
    per-request options (a "next" after the last block would add a request without a URL).
    Each answer's body and then its status ("@status 201", on a line of its own) go to stdout;
    a transfer that fails has status 000."""
    blocks = []
    for i in range(first, end):
        blocks.append(f'url = "http://127.0.0.1:{port}/sessions"\n'
                      f'data = "{{\\"login\\":\\"u{i}\\"}}"\n'
                      'header = "Content-Type: application/json"\n'
                      'max-time = 60\n'
                      'write-out = "\\n@status %{response_code}\\n"\n')
    return "next\n".join(blocks)


def lua_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def session_tokens(bodies: str) -> list[tuple[str, str]]:
    """(login, token) of each answer to POST /sessions, one JSON object each:
    {"login":"u7","token":"...","expires_at":...,"request_count":0}."""
    pairs = []
    for text in re.findall(r"\{[^{}]*\}", bodies):
        try:
            answer = json.loads(text)
        except ValueError:
            continue
        login, token = answer.get("login"), answer.get("token")
        if isinstance(login, str) and isinstance(token, str) and login and token:
            pairs.append((login, token))
    return pairs


def write_tokens(path: str, pairs: Iterable[tuple[str, str]]) -> None:
    """The Lua file that validate.lua reads: return {"u0","<token>","u1","<token>",...}."""
    with open(path, "w") as f:
        f.write("return {\n")
        for login, token in pairs:
            f.write(f"{lua_string(login)},{lua_string(token)},\n")
        f.write("}\n")


def placeholder_tokens(path: str, n: int) -> None:
    """Tokens for nginx when the service could not give real ones (nginx answers whatever is
    sent); 43 characters, the length of 32 bytes in unpadded base64url."""
    write_tokens(path, ((f"u{i}", f"{i:043d}") for i in range(n)))


def create_sessions(b: Bench, tmp: str, port: int, n: int,
                    tokens: Optional[str] = None) -> bool:
    """POST /sessions {"login":"u<i>"} for i = 0 .. N-1, 64 at a time (curl --parallel, in
    chunks of 10000, a progress line on stderr after each). Every answer must be 201. With
    TOKENS, writes there the Lua file that validate.lua reads."""
    chunk = 10000
    cfg, bodies = os.path.join(tmp, "curl.cfg"), os.path.join(tmp, "bodies.txt")
    open(bodies, "w").close()
    for first in range(0, n, chunk):
        end = min(first + chunk, n)
        with open(cfg, "w") as f:
            f.write(curl_config(port, first, end))
        run_limited(["curl", "-s", "--parallel", "--parallel-max", "64", "-K", cfg],
                    b.config.timeout, bodies, append=True, err=os.path.join(tmp, "curl.err"))
        warn(f"run.sh: http: POST /sessions {end}/{n} on 127.0.0.1:{port}")
    text = read_text(bodies)
    codes = re.findall(r"@status [0-9]*", text)
    created = codes.count("@status 201")
    if created != n:
        say(f"# [ours] ERROR http: {created} of {n} POST /sessions answered 201; "
            "the others (000: no answer):")
        others = Counter(code for code in codes if code != "@status 201")
        ranked = sorted(((count, code) for code, count in others.items()), reverse=True)
        indented(f"{count:7d} {code}" for count, code in ranked[:10])
        return False
    if tokens is None:
        return True
    pairs = session_tokens(text)
    write_tokens(tokens, pairs)
    if len(pairs) != n:
        say(f"# [ours] ERROR http: {len(pairs)} tokens read from {n} answers to POST /sessions; "
            "the first answers:")
        indented(text[:600].splitlines())
        return False
    return True


@dataclasses.dataclass(frozen=True)
class WrkRun:
    """validate.lua's two lines:
    WRK requests <n> duration_us <us> req_per_s <v> p50_ms <v> p99_ms <v>
    WRK non200 <n> connect <n> read <n> write <n> timeout <n>"""
    requests: Optional[dict[str, str]]
    errors: Optional[dict[str, str]]
    errors_text: str  # the errors line less "WRK "

    @staticmethod
    def parse(text: str) -> "WrkRun":
        def last(prefix: str) -> str:
            lines = [line for line in text.splitlines() if line.startswith(prefix)]
            return lines[-1] if lines else ""

        def fields(line: str) -> Optional[dict[str, str]]:
            words = line.split()[1:]
            return dict(zip(words[0::2], words[1::2])) if words else None

        errors = last("WRK non200 ")
        return WrkRun(fields(last("WRK requests ")), fields(errors), errors[len("WRK "):])

    def error_count(self) -> float:
        return sum(number(v) for v in (self.errors or {}).values())


def run_wrk(b: Bench, tag: str, workload: str, port: int, tokens: str) -> None:
    """wrk with validate.lua, RUNS times; prints the RESULT lines. A run with a non-200 answer
    or a socket error is FAILED."""
    c = b.config
    for run in range(1, c.runs + 1):
        out = b.log(f"wrk-{workload}-{run}.txt")
        say(f"# [{tag}] {workload} run {run}: wrk -t{c.wrk_threads} -c{c.wrk_connections} "
            f"-d{b.sizes.http_seconds}s --latency -s common/bench/http/validate.lua "
            f"http://127.0.0.1:{port} -- <tokens of {b.sizes.http_sessions} sessions> "
            f"{c.wrk_threads}")
        rc = run_limited(["wrk", f"-t{c.wrk_threads}", f"-c{c.wrk_connections}",
                          f"-d{b.sizes.http_seconds}s", "--latency",
                          "-s", os.path.join(HERE, "http", "validate.lua"),
                          f"http://127.0.0.1:{port}", "--", tokens, c.wrk_threads],
                         c.timeout, out)
        text = read_text(out)
        wrk = WrkRun.parse(text)
        if wrk.requests:
            r = wrk.requests
            say(f"# [{tag}] INFO {workload} requests {r.get('requests', '')} in "
                f"{number(r.get('duration_us', '0')) / 1e6:.2f} s")
            for metric, unit in (("req_per_s", "req/s"), ("p50_ms", "ms"), ("p99_ms", "ms")):
                b.results.add(Figure(tag, workload, metric, r.get(metric, ""), unit))
        if rc != 0 or wrk.errors is None or wrk.error_count() != 0:
            b.failed = True
            errors = f"; errors: {wrk.errors_text}" if wrk.errors is not None else ""
            say(f"[{tag}] FAILED {workload} rc={rc} (124 = timeout){errors}")
            indented([line for line in text.splitlines() if not line.startswith("WRK ")][-20:])


NGINX_CONF = """\
# Generated by common/bench/run.sh http: the fixed answer that wrk's requests are compared with.
worker_processes {workers};
pid {dir}/nginx.pid;
lock_file {dir}/nginx.lock;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  {temps}
  keepalive_requests 1000000;  # wrk's connections stay open, as with the service
  server {{
    listen 127.0.0.1:{port};
    default_type application/json;
    location / {{ return 200 "{{\\"valid\\":true}}"; }}
  }}
}}
"""


def http_get(port: int, path: str) -> str:
    """The body of GET http://127.0.0.1:PORT/PATH ("" on any failure; no proxy)."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", path)
            return conn.getresponse().read().decode("utf-8", "replace")
        finally:
            conn.close()
    except (OSError, http.client.HTTPException):
        return ""


@dataclasses.dataclass
class Nginx:
    proc: subprocess.Popen
    port: int


def nginx_start(b: Bench, nginx: str, tmp: str) -> Optional[Nginx]:
    """nginx of our own on a free loopback port, as a child (daemon off), everything under
    <tmp>/nginx. Stopped with SIGTERM to the master, which stops its workers before it exits
    (after SIGKILL the workers would live on)."""
    folder = os.path.join(tmp, "nginx")
    os.makedirs(folder, exist_ok=True)
    # Every temp path under the prefix (nginx creates them at start), for the modules built in.
    built = subprocess.run([nginx, "-V"], capture_output=True, text=True)
    temps = f"client_body_temp_path {folder}/client_body;"
    for module in ("proxy", "fastcgi", "uwsgi", "scgi"):
        if f"--without-http_{module}_module" not in built.stdout + built.stderr:
            temps += f" {module}_temp_path {folder}/{module};"
    conf, pid_file = os.path.join(folder, "nginx.conf"), os.path.join(folder, "nginx.pid")
    error_log, stdout_log = os.path.join(folder, "error.log"), os.path.join(folder, "stdout.log")
    for _ in range(10):
        port = free_port_guess()
        if port_taken(port):
            continue
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(workers=nproc(), dir=folder, temps=temps, port=port))
        for path in (pid_file, error_log):
            if os.path.exists(path):
                os.remove(path)
        proc = b.procs.start([nginx, "-p", folder, "-c", conf, "-e", error_log,
                              "-g", "daemon off;"], stdout_log, signal.SIGTERM, append=True)
        def ready() -> bool:
            return (os.path.exists(pid_file) and os.path.getsize(pid_file) > 0
                    and http_get(port, "/ready") == '{"valid":true}')

        if wait_until(ready, lambda: proc.poll() is None, 500):
            return Nginx(proc, port)
        b.procs.stop(proc)
    say("# [nginx] ERROR http: nginx did not start; its log:")
    indented((read_text(stdout_log) + read_text(error_log)).splitlines()[-20:])
    return None


def nginx_version(nginx: str) -> str:
    out = subprocess.run([nginx, "-v"], capture_output=True, text=True)
    return (out.stdout + out.stderr).strip().removeprefix("nginx version: ")


def vm_rss_kib(pid: int) -> str:
    """The process's resident set size now."""
    for line in read_text(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return line.split()[1]
    return ""


def run_http(b: Bench) -> None:
    """The service and nginx under wrk, the Redis stash, and the RSS of 100000 sessions."""
    for name in ("wrk", "nginx"):
        if not tool(name):
            warn(f"run.sh: skipping http: no {name}; install wrk and nginx with: apt-get install "
                 "wrk nginx-light (to keep the install from starting the system nginx on port "
                 "80, first run: printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d && "
                 "chmod +x /usr/sbin/policy-rc.d, and remove that file afterwards)")
            return
    if not shutil.which("curl"):
        warn("run.sh: skipping http: no curl (bash scripts/deps.sh installs it)")
        return
    tmp = b.procs.folder()
    try:
        say(f"# [ours] INFO http: hang_ten serve runs {nproc()} scheduler threads (one per "
            f"hardware thread); nginx worker_processes {nproc()}; wrk -t{b.config.wrk_threads} "
            f"-c{b.config.wrk_connections} on the same {nproc()} cores")
        tokens = os.path.join(tmp, "tokens.lua")
        serve = b.config.serve
        if not os.access(serve, os.X_OK):
            warn(f"run.sh: skipping http.validate (ours): no {serve} "
                 "(not built: stage 05's hang_ten)")
        else:
            http_validate(b, tmp, "validate", tokens)
        http_nginx(b, tmp, tokens)
        http_ratios(b)
        if os.access(serve, os.X_OK):
            http_validate_redis(b, tmp)
            http_sessions_rss(b, tmp)
    finally:
        b.procs.remove(tmp)


def http_validate(b: Bench, tmp: str, name: str, tokens: str, *args: str) -> None:
    """http.validate (or .redis, with ARGS): a fresh service, its sessions, wrk."""
    service = serve_start(b, name, *args)
    if service is None:
        b.failed = True
        return
    try:
        if create_sessions(b, tmp, service.port, b.sizes.http_sessions, tokens):
            run_wrk(b, "ours", f"http.{name}", service.port, tokens)
        else:
            b.failed = True
    finally:
        if not serve_stop(b, service):
            b.failed = True


def http_nginx(b: Bench, tmp: str, tokens: str) -> None:
    """http.return200: the same requests to nginx's fixed answer."""
    if not (os.path.exists(tokens) and os.path.getsize(tokens) > 0):
        placeholder_tokens(tokens, b.sizes.http_sessions)
    nginx = tool("nginx") or "nginx"
    server = nginx_start(b, nginx, tmp)
    if server is None:
        b.failed = True
        return
    try:
        say(f"# [nginx] INFO {nginx_version(nginx)} on 127.0.0.1:{server.port}")
        run_wrk(b, "nginx", "http.return200", server.port, tokens)
    finally:
        b.procs.stop(server.proc)


def http_ratios(b: Bench) -> None:
    """ours/nginx for req/s and p99 (the means over the runs, to 3 decimals), and the targets."""
    def mean3(impl: str, workload: str, metric: str) -> Optional[float]:
        m = b.results.mean(impl, workload, metric)
        return None if m is None else float(f"{m:.3f}")

    ours, theirs = (mean3("ours", "http.validate", "req_per_s"),
                    mean3("nginx", "http.return200", "req_per_s"))
    if ours is not None and theirs is not None:
        r = ours / theirs if theirs else float("inf")
        say(f"# [ours] INFO http.validate req_per_s ratio {r:.2f} of nginx ({ours:.1f} / "
            f"{theirs:.1f} req/s); target >= 0.5: {'met' if r >= 0.5 else 'NOT met'}")
    ours, theirs = (mean3("ours", "http.validate", "p99_ms"),
                    mean3("nginx", "http.return200", "p99_ms"))
    if ours is not None and theirs is not None:
        r = ours / theirs if theirs > 0 else 0
        say(f"# [ours] INFO http.validate p99_ms ratio {r:.2f} of nginx ({ours:.3f} / "
            f"{theirs:.3f} ms); target <= 2: {'met' if r <= 2 else 'NOT met'}")


def http_validate_redis(b: Bench, tmp: str) -> None:
    """http.validate.redis: the service with its stash on a redis-server of our own."""
    if not shutil.which("redis-server"):
        warn("run.sh: skipping http.validate.redis: no redis-server "
             "(bash scripts/deps.sh installs it)")
        return
    with redis_server(b, "ours", "http.validate.redis: ") as server:
        if server is not None:
            http_validate(b, tmp, "validate.redis", os.path.join(tmp, "tokens-redis.lua"),
                          "--stash", f"redis://127.0.0.1:{server.port}")


def http_sessions_rss(b: Bench, tmp: str) -> None:
    """http.sessions100k: the VmRSS of a fresh service with N live sessions, and per session."""
    service = serve_start(b, "sessions100k")
    if service is None:
        b.failed = True
        return
    n = b.sizes.http_rss_sessions
    try:
        time.sleep(0.5)
        before = vm_rss_kib(service.proc.pid)
        if create_sessions(b, tmp, service.port, n):
            time.sleep(1)
            after = vm_rss_kib(service.proc.pid)
            say(f"# [ours] INFO http.sessions100k: {n} live sessions; VmRSS {before} KiB before "
                f"creating them, {after} KiB after")
            b.results.add(Figure("ours", "http.sessions100k", "rss_kib", after, "KiB"))
            per_session = (number(after) - number(before)) * 1024 / n
            b.results.add(Figure("ours", "http.sessions100k", "bytes_per_session",
                                 f"{per_session:.0f}", "B"))
        else:
            b.failed = True
    finally:
        if not serve_stop(b, service):
            b.failed = True


# ---------------------------------------------------------------------------------- main ---
def parse_workloads(args: list[str]) -> list[str]:
    workloads = " ".join(args).split() or list(ALL)
    for w in workloads:
        if w not in KNOWN:
            raise UsageError(f"unknown workload: {w} (known: {' '.join(KNOWN)})")
    return workloads


def build(workloads: list[str]) -> bool:
    """Only the programs of the workloads asked for, not the whole preset."""
    targets: list[str] = []
    for w in workloads:
        for t in programs(w):
            if t not in targets:
                targets.append(t)
    build_cmd = ["cmake", "--build", "--preset", "release", "-j2",
                 *[arg for t in targets for arg in ("--target", t)]]
    ok = (subprocess.run(["cmake", "--preset", "release"], cwd=REPO,
                         stdout=subprocess.DEVNULL).returncode == 0
          and subprocess.run(build_cmd, cwd=REPO, stdout=subprocess.DEVNULL).returncode == 0)
    if not ok:
        warn("build failed:")
        subprocess.run(build_cmd, cwd=REPO, stdout=sys.stderr)
    return ok


def run_workloads(b: Bench, workloads: list[str]) -> None:
    say(f"# SCALE={b.config.scale_text} RUNS={b.config.runs} THREADS={b.config.threads} "
        f"nproc={nproc()} {datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    for w in workloads:
        if w == "redis":
            run_redis(b)
            continue
        if w == "http":
            run_http(b)
            continue
        missing = [path for path in (os.path.join(b.config.bench, p) for p in programs(w))
                   if not os.access(path, os.X_OK)]
        if missing:
            warn(f"run.sh: skipping {w}: no program {' '.join(missing)} "
                 "(not built, or not written yet)")
        elif w == "growth":
            run_growth(b)
        else:
            run_anchor(b, w)
    # Median/min/max of every figure (for growth, keyed by workload@n).
    if b.config.runs > 1 or "growth" in workloads:
        say("# summary: impl workload metric median min max unit (n runs)")
        for line in b.results.summary():
            say(line)


def on_signal(signum: int, _frame) -> None:
    raise Interrupted(129 if signum == signal.SIGHUP else 130)


def main(args: list[str]) -> int:
    if args[:1] in (["-h"], ["--help"]):
        say(__doc__.rstrip("\n"))
        return 0
    try:
        workloads = parse_workloads(args)
        config = Config.from_env(dict(os.environ))
    except UsageError as e:
        warn(str(e))
        return 2
    if config.build and not build(workloads):
        return 1
    if not os.access("/usr/bin/time", os.X_OK):
        warn("missing /usr/bin/time (apt-get install time)")
        return 1

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    procs = Processes()
    status = 0
    try:
        if config.log_dir:
            os.makedirs(config.log_dir, exist_ok=True)
            logs = config.log_dir
        else:
            logs = procs.folder()
        b = Bench(config, Sizes.at(config.scale), logs,
                  Results(os.path.join(logs, "all-results.txt")), procs)
        run_workloads(b, workloads)
        status = 1 if b.failed else 0
    except KeyboardInterrupt:
        status = 130
    except Interrupted as e:
        status = e.status
    except BrokenPipeError:  # output closed (run.sh ... | head): still clean up
        status = 141
        # Nothing more reaches stdout; keep the interpreter from failing on its final flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C does not cut the cleanup short
        procs.close()
    return status


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # during the build
        sys.exit(130)
    except BrokenPipeError:  # run.sh --help | head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
