"""What /metrics scrapers cost the validations: wrk's validate p99 while eight clients scrape
/metrics (each every --interval; 0: as fast as it can), beside the same eight scraping /healthz
(the same client load on an endpoint that reads nothing).

  /usr/bin/python3 05_one_last_thing/bench/metrics_scrapers.py \\
      [--hang-ten build/release/05_one_last_thing/hang_ten] [--sessions 10000] [--seconds 10]
      [--interval 0.1]

Starts `hang_ten serve` on a free loopback port, opens --sessions sessions, then runs
`wrk -t2 -c64 --latency -s common/bench/http/validate.lua` three times: alone, beside eight
/healthz scrapers, beside eight /metrics scrapers. Prints one line each (p50, p99, requests a
second, scrapes a second). Needs wrk (apt-get install wrk).
"""

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_sessions(port, n):
    """POST /sessions for u0 .. u<n-1> on one kept connection: their (login, token) pairs."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    pairs = []
    for i in range(n):
        conn.request("POST", "/sessions", json.dumps({"login": f"u{i}"}),
                     {"Content-Type": "application/json"})
        reply = conn.getresponse()
        body = reply.read()
        if reply.status != 201:
            sys.exit(f"metrics_scrapers: POST /sessions answered {reply.status}: {body!r}")
        pairs.append((f"u{i}", json.loads(body)["token"]))
        if (i + 1) % 2000 == 0:
            print(f"metrics_scrapers: {i + 1}/{n} sessions", file=sys.stderr)
    conn.close()
    return pairs


def scrape(port, path, stop, counts, index, interval):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.wait(interval):
        conn.request("GET", path)
        reply = conn.getresponse()
        reply.read()
        if reply.status != 200:
            sys.exit(f"metrics_scrapers: GET {path} answered {reply.status}")
        counts[index] += 1
    conn.close()


def wrk(port, tokens, seconds, interval, scrapers_path=None):
    stop = threading.Event()
    counts = [0] * 8
    threads = []
    if scrapers_path:
        threads = [threading.Thread(target=scrape, args=(port, scrapers_path, stop, counts, i, interval))
                   for i in range(8)]
        for t in threads:
            t.start()
    out = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "-s",
         os.path.join(ROOT, "common/bench/http/validate.lua"), f"http://127.0.0.1:{port}", "--",
         tokens, "2"], capture_output=True, text=True, check=True).stdout
    stop.set()
    for t in threads:
        t.join()
    line = re.search(r"WRK requests (\d+) duration_us (\d+) req_per_s ([0-9.]+) p50_ms ([0-9.]+) "
                     r"p99_ms ([0-9.]+)", out)
    errors = re.search(r"WRK non200 (\d+)", out)
    if not line:
        sys.exit(f"metrics_scrapers: no WRK line from wrk:\n{out}")
    return {"req_per_s": float(line.group(3)), "p50_ms": float(line.group(4)),
            "p99_ms": float(line.group(5)), "non200": int(errors.group(1)) if errors else -1,
            "scrapes_per_s": sum(counts) / seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hang-ten", default=os.path.join(
        ROOT, "build/release/05_one_last_thing/hang_ten"))
    parser.add_argument("--sessions", type=int, default=10000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.1)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("metrics_scrapers: wrk is not installed (apt-get install wrk)")
    port = free_port()
    # Its output to a file: a pipe nobody reads would fill with the stop's log and hold it.
    log = tempfile.TemporaryFile("w+")
    service = subprocess.Popen([args.hang_ten, "serve", "--listen", f"127.0.0.1:{port}"],
                               stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            log.seek(0)
            if "serving" in log.read():
                break
            if time.monotonic() > deadline or service.poll() is not None:
                sys.exit("metrics_scrapers: hang_ten serve did not start")
            time.sleep(0.05)
        pairs = open_sessions(port, args.sessions)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write("return {" + ",".join(f'"{l}","{t}"' for l, t in pairs) + "}\n")
            tokens = f.name
        for label, path in (("alone", None), ("8 scraping /healthz", "/healthz"),
                            ("8 scraping /metrics", "/metrics")):
            r = wrk(port, tokens, args.seconds, args.interval, path)
            print(f"validate, {label:20}: p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
                  f"{r['req_per_s']:.0f} req/s, non-200 {r['non200']}; "
                  f"scrapes {r['scrapes_per_s']:.0f}/s", flush=True)
        os.unlink(tokens)
    finally:
        service.terminate()
        service.wait(timeout=30)


if __name__ == "__main__":
    main()
