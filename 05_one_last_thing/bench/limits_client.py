#!/usr/bin/python3
"""Clients for limits.sh: many idle keep-alive connections, or slow-header ones, to a service on
127.0.0.1:PORT, while one kept connection times GET /healthz every 20 ms.

  limits_client.py idle PORT N HOLD_SECONDS   N connections, each makes one GET /healthz and then
                                              stays open; after HOLD_SECONDS, each that got a 200
                                              asks again (still held?)
  limits_client.py slow PORT N SECONDS        N connections that send a request head one byte
                                              every 500 ms and never finish it

Prints one line of figures per phase. Standard library only (Debian's /usr/bin/python3).
"""
import resource
import selectors
import socket
import statistics
import sys
import threading
import time

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Probe(threading.Thread):
    """GET /healthz on one keep-alive connection, opened before the others, every 20 ms."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(10)
        self.samples = []
        self.failures = 0
        self.stop = False

    def run(self):
        while not self.stop:
            start = time.perf_counter()
            try:
                self.sock.sendall(REQUEST)
                data = b""
                while not data.endswith(b'"ok"}'):
                    chunk = self.sock.recv(4096)
                    if not chunk:
                        raise ConnectionError("closed")
                    data += chunk
                if not data.startswith(b"HTTP/1.1 200"):
                    raise ConnectionError(data[:40])
                self.samples.append((time.perf_counter() - start) * 1000)
            except Exception:
                self.failures += 1
                return
            time.sleep(0.02)

    def report(self):
        self.stop = True
        self.join()
        s = sorted(self.samples)
        if not s:
            return "healthz: no answer"
        p99 = s[min(len(s) - 1, int(len(s) * 0.99))]
        return (f"healthz on a kept connection: {len(s)} answers, {self.failures} failures, "
                f"p50 {statistics.median(s):.2f} ms, p99 {p99:.2f} ms, max {s[-1]:.2f} ms")


def idle(port, n, hold):
    probe = Probe(port)
    probe.start()
    start = time.perf_counter()
    socks, refused_connect = [], 0
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            refused_connect += 1
            continue
        s.setblocking(False)
        socks.append(s)
        try:
            s.send(REQUEST)
        except OSError:
            pass
    opened = time.perf_counter() - start
    sel = selectors.DefaultSelector()
    state = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        state[s] = b""
    held, refused, other, closed_after_503 = 0, 0, 0, 0
    pending = set(socks)
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            try:
                chunk = s.recv(4096)
            except OSError:
                chunk = b""
            if chunk:
                state[s] += chunk
                if state[s].startswith(b"HTTP/1.1 200") and state[s].endswith(b'"ok"}'):
                    held += 1
                    pending.discard(s)
                    sel.unregister(s)
                continue
            # closed by the service
            sel.unregister(s)
            pending.discard(s)
            if state[s].startswith(b"HTTP/1.1 503"):
                refused += 1
                closed_after_503 += 1
            else:
                other += 1
    other += len(pending)
    answered = time.perf_counter() - start
    print(f"idle: {n} connections opened in {opened:.1f} s, answered in {answered:.1f} s: "
          f"{held} held (200, kept open), {refused} refused (503, then closed), "
          f"{other} other, {refused_connect} connect errors")
    sys.stdout.flush()
    time.sleep(hold)
    # Still held? Each asks again on its connection.
    alive = [s for s in socks if state[s].startswith(b"HTTP/1.1 200")]
    still = 0
    for s in alive:
        s.setblocking(True)
        s.settimeout(10)
        try:
            s.sendall(REQUEST)
            data = b""
            while not data.endswith(b'"ok"}'):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            still += data.startswith(b"HTTP/1.1 200")
        except OSError:
            pass
    print(f"idle: after {hold} s, {still} of the {len(alive)} held connections answer again")
    print(probe.report())
    for s in socks:
        s.close()


def slow(port, n, seconds):
    probe = Probe(port)
    probe.start()
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setblocking(False)
        socks.append(s)
    start = time.perf_counter()
    sent = {s: 0 for s in socks}
    got = {s: b"" for s in socks}
    cut = {}
    while time.perf_counter() - start < seconds and len(cut) < n:
        for s in socks:
            if s in cut:
                continue
            try:
                chunk = s.recv(4096)
                if chunk:
                    got[s] += chunk
                else:
                    cut[s] = time.perf_counter() - start
                    continue
            except BlockingIOError:
                pass
            except OSError:
                cut[s] = time.perf_counter() - start
                continue
            if sent[s] < len(head):
                try:
                    s.send(head[sent[s]:sent[s] + 1])
                    sent[s] += 1
                except OSError:
                    pass
        time.sleep(0.5)
    times = sorted(cut.values())
    with408 = sum(1 for s in cut if got[s].startswith(b"HTTP/1.1 408"))
    if times:
        print(f"slow: {n} slow-header connections (one byte each 500 ms): {len(cut)} cut, "
              f"{with408} of them with 408; cut after {times[0]:.1f} s to {times[-1]:.1f} s "
              f"(median {statistics.median(times):.1f} s); {n - len(cut)} still open after "
              f"{seconds} s")
    else:
        print(f"slow: {n} slow-header connections: none cut within {seconds} s")
    print(probe.report())
    for s in socks:
        s.close()


def main():
    raise_nofile()
    mode, port, n, t = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    if mode == "idle":
        idle(port, n, t)
    elif mode == "slow":
        slow(port, n, t)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
