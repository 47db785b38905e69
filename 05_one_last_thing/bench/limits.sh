#!/usr/bin/env bash
# Limits under load (docs/hardening.md): `hang_ten serve` with 10,000 idle keep-alive connections,
# held under --max-connections and refused with 503 over it; slow-header clients cut by
# --read-timeout with 408; /healthz timed throughout on a connection of its own, and with wrk
# while the 10,000 are held. Prints the figures.
#
#   bash 05_one_last_thing/bench/limits.sh [path/to/hang_ten]   (default: the release build)
#
# Needs wrk and Debian's /usr/bin/python3 (05_one_last_thing/bench/limits_client.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
HANG_TEN=${1:-build/release/05_one_last_thing/hang_ten}
CLIENT=05_one_last_thing/bench/limits_client.py
PYTHON=/usr/bin/python3
[[ -x $HANG_TEN ]] || { echo "limits.sh: no $HANG_TEN (cmake --build --preset release --target hang_ten)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "limits.sh: needs wrk" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)"  # 10,000 sockets for the clients; the service raises its own
echo "# open files: $(ulimit -n) (hard limit $(ulimit -Hn)); $(nproc) cores"

LOG=$(mktemp -d)
trap 'kill $SERVE_PID 2>/dev/null || true; rm -rf "$LOG"' EXIT
SERVE_PID=
serve() {  # serve ARGS...: sets SERVE_PID and PORT
  "$HANG_TEN" serve --listen 127.0.0.1:0 "$@" </dev/null >"$LOG/serve.log" 2>&1 &
  SERVE_PID=$!
  for _ in $(seq 100); do
    PORT=$(sed -n 's|^HangTen serving http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$LOG/serve.log")
    [[ -n $PORT ]] && { echo "# hang_ten serve $* (port $PORT)"; return; }
    sleep 0.1
  done
  cat "$LOG/serve.log" >&2; exit 1
}
stop() {
  kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || echo "# hang_ten serve exited with $?"
  grep -v '^HangTen' "$LOG/serve.log" | sort | uniq -c | sort -rn | head -5 | sed 's/^/# serve said: /' || true
}

echo "== 1. 10,000 idle keep-alive connections under --max-connections 10100, wrk on /healthz meanwhile"
serve --max-connections 10100 --idle-timeout 5m --read-timeout 2s
"$PYTHON" "$CLIENT" idle "$PORT" 10000 15 >"$LOG/idle.out" &
CLIENT_PID=$!
until grep -q '^idle:' "$LOG/idle.out" 2>/dev/null; do sleep 0.2; done
cat "$LOG/idle.out"
echo "# connections open (service's gauge): $(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^http_connections_open/ {print $2}')"
wrk -t2 -c32 -d10s --latency "http://127.0.0.1:$PORT/healthz" | grep -E 'Requests/sec|Latency|50%|99%|Socket errors|Non-2xx' | sed 's/^/wrk: /'
wait "$CLIENT_PID"
tail -n +2 "$LOG/idle.out"
stop

echo "== 2. 10,000 idle keep-alive connections over --max-connections 5000"
serve --max-connections 5000 --idle-timeout 5m --read-timeout 2s
"$PYTHON" "$CLIENT" idle "$PORT" 10000 5
stop

echo "== 3. 500 slow-header clients, --read-timeout 2s"
serve --read-timeout 2s --idle-timeout 5m
"$PYTHON" "$CLIENT" slow "$PORT" 500 10
stop
