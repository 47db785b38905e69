#!/usr/bin/env python3
# Tests of common/bench/run.py's parsing, sizes, statistics and output lines (the ctest test
# bench.RunPy): `python3 common/bench/run_test.py`. No benchmark, server or build is run.
import contextlib
import io
import os
import stat
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


class CommandLine(unittest.TestCase):
    def test_workloads(self):
        self.assertEqual(run.parse_workloads([]), run.ALL)
        self.assertEqual(run.parse_workloads(["ring", "redis"]), ["ring", "redis"])
        self.assertEqual(run.parse_workloads(["spawn ring"]), ["spawn", "ring"])
        with self.assertRaisesRegex(run.UsageError, "unknown workload: nope"):
            run.parse_workloads(["ring", "nope"])

    def test_runs_and_scale(self):
        for bad in ("0", "x", "-1", "1.5"):
            with self.assertRaisesRegex(run.UsageError, "RUNS must be a positive integer"):
                run.Config.from_env({"RUNS": bad})
        with self.assertRaisesRegex(run.UsageError, "SCALE"):
            run.Config.from_env({"SCALE": "abc"})
        self.assertEqual(run.Config.from_env({"RUNS": ""}).runs, 1)  # empty: the default
        self.assertEqual(run.Config.from_env({"RUNS": "3"}).runs, 3)

    def test_folders_and_build(self):
        c = run.Config.from_env({})
        self.assertTrue(c.build)
        self.assertEqual(c.bench, os.path.join(run.REPO, "build", "release", "bench"))
        self.assertEqual(c.serve, os.path.join(run.REPO, "build", "release", "05_one_last_thing",
                                               "hang_ten"))
        c = run.Config.from_env({"HANGTEN_BENCH_DIR": "/b/bench"})
        self.assertFalse(c.build)
        self.assertEqual(c.serve, "/b/05_one_last_thing/hang_ten")
        self.assertTrue(run.Config.from_env({"HANGTEN_BENCH_DIR": "/b", "BUILD": "1"}).build)

    def test_help_is_the_docstring(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(run.main(["--help"]), 0)
        self.assertIn("Usage: common/bench/run.sh [workload ...]", out.getvalue())


class Sizes(unittest.TestCase):
    def test_scale(self):
        s = run.Sizes.at(1)
        self.assertEqual((s.spawn, s.ring_n, s.ring_m, s.skynet),
                         (1000000, 1000, 10000000, 1000000))
        self.assertEqual((s.http_sessions, s.http_rss_sessions, s.http_seconds),
                         (10000, 100000, 10))
        s = run.Sizes.at(0.01)
        self.assertEqual((s.spawn, s.ring_m, s.restart, s.hangten, s.skynet), (10000, 100000, 1000,
                                                                               1000, 10000))
        s = run.Sizes.at(0.0001)  # the minimums
        self.assertEqual((s.spawn, s.restart, s.hangten, s.skynet, s.redis_pipelined,
                          s.http_sessions, s.http_seconds), (1000, 100, 10, 1000, 10000, 100, 1))
        self.assertEqual(run.skynet_leaves(0.5), 100000)
        self.assertEqual(run.scaled(10, 1, 0.05), 1)  # 0.5 + 0.5 rounds to 1

    def test_commands(self):
        s = run.Sizes.at(0.01)
        self.assertEqual(run.command("restart_batched", s, "/b", "2"),
                         ["/b/bench_restart", "x=1000", "batch=100", "threads=2"])
        self.assertEqual(run.command("registry", s, "/b", "4"),
                         ["/b/bench_registry", "n=1000", "l=10000", "readers=2", "threads=4"])
        self.assertEqual(run.programs("fanin"), ["bench_counting"])
        self.assertEqual(run.programs("http"), ["hang_ten_05_one_last_thing"])
        for w in run.ALL:
            self.assertEqual(os.path.basename(run.command(w, s, "/b", "1")[0]), run.programs(w)[0])


class Figures(unittest.TestCase):
    def test_lines(self):
        f = run.parse_result("RESULT  restart  us_per_restart 1.5 us", "ours", "restart_batched")
        self.assertEqual(f.line(), "[ours] RESULT restart_batched us_per_restart 1.5 us")
        self.assertEqual(run.Figure("ours", "ring", "peak_rss", "61234", "KiB").line(),
                         "[ours] PEAK_RSS ring 61234 KiB")
        self.assertIsNone(run.parse_result("INFO n=1", "ours"))

    def test_summary(self):
        with tempfile.TemporaryDirectory() as folder:
            r = run.Results(os.path.join(folder, "all-results.txt"))
            for n, v in (("1000000", "3"), ("1000", "1.5"), ("100000", "2")):
                r.add(run.Figure("ours", f"spawn@n={n}", "spawn_us_per_proc", v, "us"), show=False)
            for v in ("85.2", "86.1"):
                r.add(run.Figure("ours", "ring", "ns_per_hop", v, "ns"), show=False)
            for v in ("20000000.5", "10000000"):
                r.add(run.Figure("nginx", "http.return200", "req_per_s", v, "req/s"), show=False)
            for v in ("9", "10", "8"):
                r.add(run.Figure("ours", "ring", "peak_rss", v, "KiB"), show=False)
            self.assertEqual(r.summary(), [
                "SUMMARY [nginx] http.return200 req_per_s 1.5e+07 10000000 20000000.5 req/s (n=2)",
                "SUMMARY [ours] ring ns_per_hop 85.65 85.2 86.1 ns (n=2)",
                "SUMMARY [ours] ring peak_rss 9 8 10 KiB (n=3)",
                "SUMMARY [ours] spawn@n=1000 spawn_us_per_proc 1.5 1.5 1.5 us (n=1)",
                "SUMMARY [ours] spawn@n=100000 spawn_us_per_proc 2 2 2 us (n=1)",
                "SUMMARY [ours] spawn@n=1000000 spawn_us_per_proc 3 3 3 us (n=1)",
            ])
            self.assertEqual(r.mean("ours", "ring", "ns_per_hop"), 85.65)
            with open(r.path) as f:
                self.assertEqual(f.readline(),
                                 "[ours] RESULT spawn@n=1000000 spawn_us_per_proc 3 us\n")

    def test_version_order(self):
        lines = ["call_par x", "call x", "restart_batched x", "restart x", "a10 x", "a9 x"]
        self.assertEqual(sorted(lines, key=run.version_key),
                         ["a9 x", "a10 x", "call x", "call_par x", "restart x",
                          "restart_batched x"])


class Tools(unittest.TestCase):
    def test_wrk(self):
        ok = run.WrkRun.parse("Running 1s test\nWRK requests 34231 duration_us 1005916 req_per_s "
                              "34030.2 p50_ms 1.601 p99_ms 7.222\nWRK non200 0 connect 0 read 0 "
                              "write 0 timeout 0\n")
        self.assertEqual(ok.requests["req_per_s"], "34030.2")
        self.assertEqual(ok.requests["p99_ms"], "7.222")
        self.assertEqual(ok.error_count(), 0)
        bad = run.WrkRun.parse("WRK non200 12 connect 0 read 1 write 0 timeout 0\n")
        self.assertIsNone(bad.requests)
        self.assertEqual(bad.error_count(), 13)
        self.assertEqual(bad.errors_text, "non200 12 connect 0 read 1 write 0 timeout 0")
        self.assertIsNone(run.WrkRun.parse("unable to connect\n").errors)

    def test_redis_benchmark_csv(self):
        with tempfile.NamedTemporaryFile("w", suffix=".csv") as f:
            f.write('"test","rps","avg_latency_ms"\n"SET","29411.76","0.030"\n'
                    '"GET","29761.90","0.029"\n')
            f.flush()
            self.assertEqual(run.redis_benchmark_rows(f.name),
                             [("SET", 29411.76), ("GET", 29761.90)])

    def test_sessions(self):
        bodies = ('{"login":"u0","token":"abc","expires_at":1,"request_count":0}\n@status 201\n'
                  '{"login":"u1","token":"d\\"e","expires_at":1,"request_count":0}\n@status 201\n'
                  '{"error":"busy"}\n@status 503\n')
        self.assertEqual(run.session_tokens(bodies), [("u0", "abc"), ("u1", 'd"e')])
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "tokens.lua")
            run.write_tokens(path, run.session_tokens(bodies))
            with open(path) as f:
                self.assertEqual(f.read(), 'return {\n"u0","abc",\n"u1","d\\"e",\n}\n')
            run.placeholder_tokens(path, 2)
            with open(path) as f:
                self.assertEqual(f.read().splitlines()[2], '"u1","' + "0" * 42 + '1",')

    def test_curl_config(self):
        cfg = run.curl_config(4000, 5, 7)
        self.assertEqual(cfg.count("next\n"), 1)
        self.assertFalse(cfg.endswith("next\n"))
        self.assertIn('data = "{\\"login\\":\\"u6\\"}"\n', cfg)
        self.assertIn('write-out = "\\n@status %{response_code}\\n"\n', cfg)


@unittest.skipUnless(os.access("/usr/bin/time", os.X_OK), "no /usr/bin/time (apt-get install time)")
class Programs(unittest.TestCase):
    """run_program with a stand-in for a bench_* program."""

    def run_fake(self, script: str, name: str, key: str) -> tuple[str, run.Bench]:
        folder = self.enterContext(tempfile.TemporaryDirectory())
        program = os.path.join(folder, "bench_fake")
        with open(program, "w") as f:
            f.write("#!/bin/sh\n" + script)
        os.chmod(program, os.stat(program).st_mode | stat.S_IXUSR)
        config = run.Config.from_env({"HANGTEN_BENCH_DIR": folder})
        b = run.Bench(config, run.Sizes.at(1), folder,
                      run.Results(os.path.join(folder, "all-results.txt")), run.Processes())
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            run.run_program(b, name, key, [program, "n=1"])
        return out.getvalue(), b

    def test_lines(self):
        out, b = self.run_fake("echo 'INFO fake n=1'; echo 'RESULT restart us 1.5 us'\n",
                               "restart_batched", "restart_batched")
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("# [ours] restart_batched run 1: "))
        self.assertEqual(lines[1], "# [ours] INFO fake n=1")
        self.assertEqual(lines[2], "[ours] RESULT restart_batched us 1.5 us")
        self.assertRegex(lines[3], r"^\[ours\] PEAK_RSS restart_batched [0-9]+ KiB$")
        self.assertEqual(len(lines), 4)
        self.assertFalse(b.failed)

    def test_growth_key_and_failure(self):
        out, b = self.run_fake("echo 'RESULT spawn us 2 us'; echo oops; exit 3\n",
                               "growth-spawn-1000", "spawn@n=1000")
        lines = out.splitlines()
        self.assertEqual(lines[1], "[ours] RESULT spawn us 2 us")
        self.assertRegex(lines[2], r"^\[ours\] PEAK_RSS spawn@n=1000 [0-9]+ KiB$")
        self.assertEqual(lines[3], "[ours] FAILED growth-spawn-1000 rc=3 (124 = timeout)")
        self.assertEqual(lines[-1], "#   oops")
        self.assertTrue(b.failed)
        self.assertEqual(b.results.figures[0].workload, "spawn@n=1000")


@unittest.skipUnless(run.shutil.which("redis-server"), "no redis-server (bash scripts/deps.sh)")
class RedisFrame(unittest.TestCase):
    """redis_server: a server of our own for the block, stopped and removed on every way out."""

    def bench(self) -> run.Bench:
        folder = self.enterContext(tempfile.TemporaryDirectory())
        return run.Bench(run.Config.from_env({"HANGTEN_BENCH_DIR": folder}), run.Sizes.at(1),
                         folder, run.Results(os.path.join(folder, "all-results.txt")),
                         run.Processes())

    def test_stopped_even_when_the_block_fails(self):
        b = self.bench()
        out = io.StringIO()
        with contextlib.redirect_stdout(out), self.assertRaises(RuntimeError):
            with run.redis_server(b, "ours", "x: ") as server:
                self.assertIsNotNone(server)
                self.assertTrue(run.redis_ping(server.port))
                raise RuntimeError("the workload failed")
        self.assertIsNotNone(server.proc.poll())  # stopped
        self.assertFalse(os.path.exists(server.folder))
        self.assertFalse(run.redis_ping(server.port))
        self.assertRegex(out.getvalue(), r"# \[ours\] INFO x: redis-server \S+ on 127\.0\.0\.1:")
        self.assertFalse(b.failed)


if __name__ == "__main__":
    unittest.main()
