#!/usr/bin/python3
"""The web observer of `hang_ten serve` with many sessions, measured through the real service.

  observer_page.py [--hang-ten build/release/05_one_last_thing/hang_ten] [--sessions 100000]
                   [--seconds 60] [--kills 100] [--clients 8]

Starts `hang_ten serve` on a free loopback port, opens --sessions sessions over HTTP
(POST /sessions on --clients keep-alive connections), measures the service's CPU for --seconds
with no page open, then opens /observer's WebSocket as the page does (the token from the
page's cookie, its Origin, the branches it opens by itself: the top two levels, and every small
branch) and measures, with the page open:
  * the size of the first update, and of the updates that answer the page's expand requests;
  * the size of the updates and the time between them while nothing changes, and the CPU;
  * the size of the updates after --kills Servers are killed from the page (the Servers of the
    sessions the page shows, as many rounds as it takes: their successors are shown too).
CPU is utime + stime from /proc/<pid>/stat. Prints one line per figure; stops the service (SIGTERM)
at the end. Standard library only (Debian's /usr/bin/python3). Build the service first:
cmake --preset release && cmake --build --preset release --target hang_ten_05_one_last_thing.
At 100,000 sessions every request of the page reads the whole runtime: the branches take minutes
to open and a kill takes seconds (docs/observer.md, "At scale"); --kills 50 keeps a run near 25
minutes.
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def open_sessions(port, total, clients):
    errors = []

    def client(first):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for i in range(first, total, clients):
            conn.request("POST", "/sessions", json.dumps({"login": f"user{i}"}),
                         {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status not in (200, 201):
                errors.append(response.status)
        conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


class WebSocket:
    """A client of the observer's WebSocket: text frames, masked as a client's must be."""

    def __init__(self, port, path, cookie):
        self.sock = socket.create_connection(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           f"Origin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
                           "Upgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("the WebSocket handshake failed: connection closed")
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if b" 101 " not in head.split(b"\r\n")[0] or accept.encode() not in head:
            raise RuntimeError(f"the WebSocket handshake failed: {head.decode(errors='replace')}")

    def _read(self, n, deadline):
        while len(self.buffer) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("the observer closed the WebSocket")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def receive(self, timeout):
        """The next text message (bytes), or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        message = b""
        while True:
            head = self._read(2, deadline)
            if head is None:
                return None
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(self._read(2, deadline + 10), "big")
            elif length == 127:
                length = int.from_bytes(self._read(8, deadline + 10), "big")
            payload = self._read(length, deadline + 10) if length else b""
            if opcode == 9:
                self._send(0xA, payload)
                continue
            if opcode == 8:
                raise RuntimeError("the observer closed the WebSocket")
            message += payload
            if head[0] & 0x80:
                return message

    def _send(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, request):
        self._send(0x1, json.dumps(request).encode())


class Page:
    """What the page keeps of the tree, and the branches it opens by itself (observer.js)."""

    def __init__(self, ws):
        self.ws = ws
        self.nodes = {}
        self.roots = []
        self.asked = set()
        self.expanded = set()

    def settled(self):
        """Whether every branch asked for is open (or gone)."""
        return all(self.nodes.get(pid, {"open": True})["open"] for pid in self.expanded)

    def apply(self, message):
        update = json.loads(message)
        tree = update.get("tree", {})
        if "roots" in tree:
            self.roots = tree["roots"]
        for pid in tree.get("removed", []):
            self.nodes.pop(pid, None)
        for node in tree.get("set", []):
            self.nodes[node["pid"]] = node
        return update

    def open_branches(self):
        """Asks to expand what observer.js would; how many it asked."""
        asked = 0

        def visit(pid, depth):
            nonlocal asked
            node = self.nodes.get(pid)
            if node is None:
                return
            small = node["children"] <= 10 and depth < 8
            if node["children"] > 0 and not node["open"] and pid not in self.asked and (
                    depth < 2 or small):
                self.ws.send({"op": "expand", "pid": pid})
                self.expanded.add(pid)
                asked += 1
            if node["children"] > 0:
                self.asked.add(pid)
            if node["open"]:
                for child in node["shown"]:
                    visit(child, depth + 1)

        for root in self.roots:
            visit(root, 0)
        return asked

    def shown_servers(self):
        return [n["pid"] for n in self.nodes.values() if n.get("name", "").endswith("_server")]


def kib(n):
    return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n} B"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--hang-ten", default=os.path.join(
        root, "build", "release", "05_one_last_thing", "hang_ten"))
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the service is stopped on the way out

    service = subprocess.Popen(
        [args.hang_ten, "serve", "--listen", "127.0.0.1:0", "--max-connections", "1000",
         "--inactive-timeout", "120m", "--absolute-timeout", "240m"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = service.stdout.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)", line).group(1))
        pid = service.pid

        start = time.monotonic()
        errors = open_sessions(port, args.sessions, args.clients)
        took = time.monotonic() - start
        print(f"sessions: {args.sessions} opened in {took:.1f} s ({args.sessions / took:.0f}/s), "
              f"{len(errors)} errors; resident {rss_mib(pid):.0f} MiB")

        time.sleep(5)  # what the creation left behind settles
        before = cpu_seconds(pid)
        time.sleep(args.seconds)
        idle = cpu_seconds(pid) - before
        print(f"cpu without a page: {idle:.2f} s in {args.seconds:.0f} s "
              f"({100 * idle / args.seconds:.1f}% of a core)")

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/observer", headers={"Host": f"127.0.0.1:{port}"})
        reply = conn.getresponse()
        html = reply.read().decode()
        cookie = reply.getheader("Set-Cookie", "").split(";", 1)[0]  # the page's token
        conn.close()
        prefix = re.search(r'prefix: "([^"]*)"', html).group(1)
        ws = WebSocket(port, f"{prefix}/ws", cookie)
        page = Page(ws)
        hello = ws.receive(30)
        first_at = time.monotonic()
        first = ws.receive(120)
        print(f"first update: {kib(len(first))} ({time.monotonic() - first_at:.2f} s after "
              f"the hello, {len(hello)} B)")
        page.apply(first)
        ws.send({"op": "table", "sort": "pid", "descending": False, "filter": "", "limit": 200})
        opened = []
        opening = time.monotonic()
        before = cpu_seconds(pid)
        page.open_branches()
        while not page.settled():  # each expand is answered with an update, one at a time
            message = ws.receive(300)
            if message is None:
                raise RuntimeError("an expand was not answered")
            page.apply(message)
            opened.append(len(message))
            page.open_branches()
        print(f"opening the branches: {len(page.expanded)} expands answered by {len(opened)} "
              f"updates in {time.monotonic() - opening:.1f} s ({cpu_seconds(pid) - before:.1f} s "
              f"of CPU), {kib(sum(opened))} in all, the largest {kib(max(opened, default=0))}; "
              f"{len(page.nodes)} processes shown")

        sizes, times = [], []
        before = cpu_seconds(pid)
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            message = ws.receive(end - time.monotonic())
            if message is None:
                break
            page.apply(message)
            sizes.append(len(message))
            times.append(time.monotonic())
        busy = cpu_seconds(pid) - before
        gaps = [b - a for a, b in zip(times, times[1:])]
        print(f"nothing changed: {len(sizes)} updates in {args.seconds:.0f} s, median "
              f"{statistics.median(sizes) if sizes else 0:.0f} B, every "
              f"{statistics.median(gaps) if gaps else 0:.2f} s (min {min(gaps, default=0):.2f}, "
              f"max {max(gaps, default=0):.2f})")
        print(f"cpu with the page open: {busy:.2f} s in {args.seconds:.0f} s "
              f"({100 * busy / args.seconds:.1f}% of a core)")

        killed = 0
        kill_sizes = []
        while killed < args.kills:
            # Rounds of 20, within the page's message limit (20 a second, bursts of 40).
            servers = page.shown_servers()[:min(20, args.kills - killed)]
            if not servers:
                break
            round_start = time.monotonic()
            for server in servers:
                ws.send({"op": "kill", "pid": server, "reason": "kill"})
            answers = 0
            while answers < len(servers):  # each kill is answered; updates come between
                message = ws.receive(300)
                if message is None:
                    raise RuntimeError("a kill was not answered")
                update = page.apply(message)
                if "killed" in update or "error" in update:
                    answers += 1
                else:
                    kill_sizes.append(len(message))
            killed += len(servers)
            print(f"killed {len(servers)} Servers from the page in "
                  f"{time.monotonic() - round_start:.1f} s")
            for _ in range(3):  # the successors appear within the next updates
                message = ws.receive(60)
                if message is None:
                    break
                page.apply(message)
                kill_sizes.append(len(message))
        print(f"after killing {killed} Servers: {len(kill_sizes)} updates, the largest "
              f"{kib(max(kill_sizes, default=0))}, then "
              f"{', '.join(kib(s) for s in kill_sizes[-3:])}")
        print(f"resident at the end: {rss_mib(pid):.0f} MiB")
    finally:
        service.terminate()
        try:
            service.wait(timeout=120)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()


if __name__ == "__main__":
    main()
