#!/usr/bin/env bash
# The anchor workloads (shared/anchors/WORKLOADS.md) on our runtime (library otp).
#
# Usage: common/bench/run.sh [workload ...]   (default: all but growth)
#   workloads: spawn ring pingpong counting fanin call call_par restart
#              restart_batched registry table hangten skynet
#              growth  (not an anchor workload: spawn with n = 1000, 100000, 1000000,
#                       ring with n = 1000, 100000, 1000000 and m = 1000000*SCALE, and
#                       skynet with leaves = 10000, 100000, 1000000, to show how the
#                       cost grows with the number of processes; at n = 1000 a spawn
#                       region lasts about 1 ms, the polling resolution, so that row
#                       is only indicative)
#              redis   (not an anchor workload: a redis-server of its own on a
#                       free loopback port, driven by redis-benchmark GET and SET at
#                       -c 1 -P 1, -c 50 -P 1 and -c 1 -P 16 (-n 100000*SCALE, and
#                       1000000*SCALE pipelined); needs redis-server and redis-tools
#                       (scripts/deps.sh); then our client, bench_redis, in the
#                       same settings on the same server (the only program built))
#              http    (not an anchor workload: `hang_ten serve` from stage 05, built as
#                       build/release/05_one_last_thing/hang_ten (the only program built),
#                       against nginx, driven by wrk -t2 -c64 -d10s --latency with
#                       common/bench/http/validate.lua:
#                       - http.validate: a fresh `hang_ten serve --listen 127.0.0.1:<free
#                         port>` (memory stash); 10000*SCALE sessions u0, u1, ... are
#                         created first (POST /sessions, curl --parallel, 64 at a time,
#                         a progress line on stderr), then wrk posts their valid tokens
#                         round-robin to /sessions/<login>/validate for 10 s*SCALE
#                         (at least 1 s; at least 100 sessions)
#                       - http.return200: nginx of its own (nginx -c <generated conf> -p
#                         <temp dir>, never the system's), `location / { return 200
#                         "{\"valid\":true}"; }`, access_log off, worker_processes =
#                         nproc, as many as the service's scheduler threads (one per
#                         hardware thread, its default); the same script and requests
#                       - http.validate.redis: http.validate with --stash redis://... on a
#                         redis-server of its own
#                       - http.sessions100k: the VmRSS of a fresh `hang_ten serve` (memory
#                         stash) once 100000*SCALE sessions are live (at least 1000; the
#                         name stays), and the bytes per session: (RSS after - RSS
#                         before creating them) / sessions
#                       Any answer but 200 (or a socket error) during a wrk run fails it.
#                       INFO lines give ours/nginx for req/s and p99 and whether the
#                       targets are met (req/s >= 0.5 of nginx's; p99 <= 2x nginx's).
#                       Needs wrk and nginx (apt-get install wrk nginx-light; not in
#                       scripts/deps.sh), curl and redis-server (scripts/deps.sh))
#   Programs: bench_spawn, bench_ring, bench_pingpong, bench_counting (counting,
#   fanin), bench_call (call, call_par), bench_restart (restart, and
#   restart_batched with batch=100), bench_registry, bench_table, bench_hangten
#   (built from 04_kill_children/bench: stage 04's session tree), bench_skynet. A workload
#   whose program has not been built is skipped, with one line on stderr.
# Environment:
#   SCALE=0.1      multiply every size parameter (default 1; the same sizes and
#                  minimums as the anchors' run.sh; the ring size stays 1000,
#                  restart_batched keeps batch=100, registry and table readers=2,
#                  skynet's leaves are the power of ten at or below 1000000*SCALE,
#                  at least 1000)
#   RUNS=3         repetitions per workload (default 1); with RUNS>1 a
#                  median/min/max summary is printed at the end
#   THREADS=N      scheduler threads, passed as threads=N (default: nproc)
#   TIMEOUT=600    per-run wall-clock limit in seconds
#   LOG_DIR=dir    keep raw per-run output there (default: a temp dir, removed)
#   HANGTEN_BENCH_DIR=dir  the bench_* programs (set by scripts/main.sh, which
#                  has built them); when unset, the programs of the workloads asked
#                  for are built with the `release` preset (those targets only) and
#                  build/release/bench is used
#   BUILD=0|1      skip or force the build (default: build unless HANGTEN_BENCH_DIR is set)
#   WRK_THREADS=2 WRK_CONNECTIONS=64   wrk's -t and -c for http
#   HANGTEN_SERVE=path  the hang_ten program for http (default: <the bench_*
#                  programs' folder>/../05_one_last_thing/hang_ten)
# Output: one line per figure, tagged like the anchors' run.sh, e.g.
#   [ours] RESULT ring ns_per_hop 85.2 ns
#   [ours] PEAK_RSS ring 61234 KiB          (from /usr/bin/time -v)
#   [redis-benchmark] RESULT redis.get.c50.P1 req_per_s 81234.5 req/s
#                                           (redis: workload redis.<command>.c<clients>.P<depth>)
#   [ours] RESULT http.validate p99_ms 1.234 ms
#   [nginx] RESULT http.return200 req_per_s 54321.0 req/s
# The workload field is the name given here (restart_batched stays
# restart_batched whatever name bench_restart prints).
# Lines starting with "#" are commands, INFO and ERROR lines.
# Exit status: 0 when every run passed (skipped workloads do not count), 1 when
# one failed, 2 for a bad workload.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SCALE=${SCALE:-1}
RUNS=${RUNS:-1}
THREADS=${THREADS:-$(nproc)}
TIMEOUT=${TIMEOUT:-600}
ALL="spawn ring pingpong counting fanin call call_par restart restart_batched registry table hangten skynet"
KNOWN="$ALL growth redis http"

case "${1:-}" in -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;; esac
WORKLOADS=${*:-$ALL}
for w in $WORKLOADS; do
  case " $KNOWN " in *" $w "*) ;; *) echo "unknown workload: $w (known: $KNOWN)" >&2; exit 2 ;; esac
done
case "$RUNS" in ''|*[!0-9]*|0) echo "RUNS must be a positive integer" >&2; exit 2 ;; esac

# ------------------------------------------------------------------ build ---
# prog WORKLOAD -> the program that runs it
prog() {
  case "$1" in
    counting|fanin) echo bench_counting ;;
    call|call_par) echo bench_call ;;
    restart|restart_batched) echo bench_restart ;;
    growth) echo "bench_spawn bench_ring bench_skynet" ;;
    redis) echo bench_redis ;;                  # our client's program
    http) echo hang_ten_05_one_last_thing ;;    # the service (a target, not a bench_ program)
    *) echo "bench_$1" ;;
  esac
}

if [ -n "${HANGTEN_BENCH_DIR:-}" ]; then
  BENCH=$HANGTEN_BENCH_DIR
  BUILD=${BUILD:-0}
else
  BENCH=$REPO/build/release/bench
  BUILD=${BUILD:-1}
fi
# Only the programs of the workloads asked for are built, not the whole preset.
TARGETS=""
for w in $WORKLOADS; do
  for t in $(prog "$w"); do
    case " $TARGETS " in *" --target $t "*) ;; *) TARGETS="$TARGETS --target $t" ;; esac
  done
done
if [ "$BUILD" = 1 ]; then
  ( cd "$REPO" && cmake --preset release >/dev/null && cmake --build --preset release -j2 ${TARGETS:-} >/dev/null ) || {
    echo "build failed:" >&2
    ( cd "$REPO" && cmake --build --preset release -j2 ${TARGETS:-} ) >&2
    exit 1
  }
fi
[ -x /usr/bin/time ] || { echo "missing /usr/bin/time (apt-get install time)" >&2; exit 1; }

# ------------------------------------------------------------- parameters ---
# sz DEFAULT MIN -> DEFAULT*SCALE rounded, at least MIN (as in the anchors' run.sh)
sz() { awk -v d="$1" -v m="$2" -v s="$SCALE" 'BEGIN { v = int(d * s + 0.5); if (v < m) v = m; print v }'; }
N_SPAWN=$(sz 1000000 1000)
N_RING=1000              # the ring size stays 1000 at any SCALE
M_RING=$(sz 10000000 1000)
R_PP=$(sz 1000000 1000)
C_CNT=$(sz 10000000 1000)
K_CALL=$(sz 1000000 1000)
X_RST=$(sz 100000 100)
N_REG=$(sz 100000 100); L_REG=$(sz 1000000 1000)
N_TAB=$(sz 1000000 1000); L_TAB=$(sz 1000000 1000)
U_HT=$(sz 100000 10)
# skynet needs a power of ten: 10^6 at SCALE 1, 10^5 at 0.1, at least 10^3
L_SKY=$(awk -v s="$SCALE" 'BEGIN { l = 1000000 * s; p = 1000; while (p * 10 <= l + 0.5) p *= 10; print p }')
M_GROWTH=$(sz 1000000 1000)
GROWTH_N="1000 100000 1000000"
GROWTH_LEAVES="10000 100000 1000000"
N_REDIS=$(sz 100000 1000)
N_REDIS_PIPELINED=$(sz 1000000 10000)
N_HTTP=$(sz 10000 100)        # sessions that wrk validates round-robin
N_HTTP_RSS=$(sz 100000 1000)  # live sessions for the RSS figure
D_HTTP=$(sz 10 1)             # seconds per wrk run

# cmd WORKLOAD -> command line
cmd() {
  case "$1" in
    spawn)    echo "$BENCH/bench_spawn n=$N_SPAWN threads=$THREADS" ;;
    ring)     echo "$BENCH/bench_ring n=$N_RING m=$M_RING threads=$THREADS" ;;
    pingpong) echo "$BENCH/bench_pingpong r=$R_PP threads=$THREADS" ;;
    counting) echo "$BENCH/bench_counting c=$C_CNT p=1 threads=$THREADS" ;;
    fanin)    echo "$BENCH/bench_counting c=$C_CNT p=2 threads=$THREADS" ;;
    call)     echo "$BENCH/bench_call k=$K_CALL clients=1 threads=$THREADS" ;;
    call_par) echo "$BENCH/bench_call k=$K_CALL clients=2 threads=$THREADS" ;;
    restart)  echo "$BENCH/bench_restart x=$X_RST threads=$THREADS" ;;
    restart_batched) echo "$BENCH/bench_restart x=$X_RST batch=100 threads=$THREADS" ;;
    registry) echo "$BENCH/bench_registry n=$N_REG l=$L_REG readers=2 threads=$THREADS" ;;
    table)    echo "$BENCH/bench_table n=$N_TAB l=$L_TAB readers=2 threads=$THREADS" ;;
    hangten)  echo "$BENCH/bench_hangten u=$U_HT threads=$THREADS" ;;
    skynet)   echo "$BENCH/bench_skynet leaves=$L_SKY threads=$THREADS" ;;
  esac
}

# --------------------------------------------------------------------- run ---
REDIS_PID=
REDIS_DIR=
SERVE_PID=   # http: hang_ten serve
NGINX_PID=
HTTP_TMP=    # http: curl configs, tokens, nginx's prefix
cleanup() {
  if [ -n "$SERVE_PID" ]; then kill -KILL "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; fi
  # nginx: SIGTERM, not SIGKILL, so that its master stops its workers.
  if [ -n "$NGINX_PID" ]; then kill -TERM "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; fi
  if [ -n "$REDIS_PID" ]; then kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; fi
  if [ -n "$REDIS_DIR" ]; then rm -rf "$REDIS_DIR"; fi
  if [ -n "$HTTP_TMP" ]; then rm -rf "$HTTP_TMP"; fi
  if [ -z "${LOG_DIR:-}" ]; then rm -rf "$LOGS"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'exit 141' PIPE  # output closed (run.sh ... | head): still clean up
if [ -n "${LOG_DIR:-}" ]; then mkdir -p "$LOG_DIR"; LOGS=$LOG_DIR; else LOGS=$(mktemp -d); fi
SUMMARY="$LOGS/all-results.txt"
: >"$SUMMARY"
status=0

# run_one NAME KEY COMMAND...: runs the command RUNS times and prints its tagged lines.
# NAME names the log files; KEY replaces the workload field of the RESULT lines in the
# summary file (growth: spawn@n=1000) and, when it equals NAME, on stdout too.
run_one() {
  local name=$1 key=$2; shift 2
  local run out tv rc rss
  for run in $(seq 1 "$RUNS"); do
    out="$LOGS/ours-$name-$run.out"; tv="$LOGS/ours-$name-$run.time"
    echo "# [ours] $name run $run: $*"
    timeout "$TIMEOUT" /usr/bin/time -v -o "$tv" "$@" >"$out" 2>&1
    rc=$?
    grep -E '^(INFO|ERROR) ' "$out" | sed "s/^/# [ours] /"
    if [ "$name" = "$key" ]; then
      grep -E '^RESULT ' "$out" | awk -v k="$key" '{ $2 = k; print "[ours] " $0 }'
    else
      grep -E '^RESULT ' "$out" | sed "s/^/[ours] /"
    fi
    grep -E '^RESULT ' "$out" | awk -v k="$key" '{ $2 = k; print "[ours] " $0 }' >>"$SUMMARY"
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv" 2>/dev/null)
    if [ -n "$rss" ]; then
      echo "[ours] PEAK_RSS $key $rss KiB"
      echo "[ours] PEAK_RSS $key $rss KiB" >>"$SUMMARY"
    fi
    if [ $rc -ne 0 ]; then
      status=1
      echo "[ours] FAILED $name rc=$rc (124 = timeout)"; tail -n 20 "$out" | sed 's/^/#   /'
    fi
  done
}

# redis_start: a redis-server of our own on a free loopback port (never the machine's 6379),
# no persistence; sets REDIS_PID, REDIS_DIR and REDIS_PORT. A port someone else holds makes
# redis exit at once, and another is tried; "ready" is read from our server's own log.
redis_start() {
  local attempt i
  REDIS_DIR=$(mktemp -d)
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    REDIS_PORT=$((20000 + RANDOM % 40000))
    rm -f "$REDIS_DIR/redis.log"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" --daemonize no &
    REDIS_PID=$!
    for i in $(seq 1 500); do
      kill -0 "$REDIS_PID" 2>/dev/null || break
      if grep -q "Ready to accept connections" "$REDIS_DIR/redis.log" 2>/dev/null &&
         [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; then
        return 0
      fi
      sleep 0.02
    done
    kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=
  done
  echo "# [redis-benchmark] ERROR redis: redis-server did not start; its log:"
  sed 's/^/#   /' "$REDIS_DIR/redis.log" 2>/dev/null
  return 1
}

redis_stop() {
  if [ -n "$REDIS_PID" ]; then kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; fi
  REDIS_PID=
  rm -rf "$REDIS_DIR"; REDIS_DIR=
}

# run_redis: GET and SET at three (clients, pipeline depth) settings, RUNS times each.
run_redis() {
  local tool config c p n run out rc
  for tool in redis-server redis-cli redis-benchmark; do
    command -v "$tool" >/dev/null || {
      echo "run.sh: skipping redis: no $tool (bash scripts/deps.sh installs redis-server and redis-tools)" >&2
      return 0
    }
  done
  redis_start || { status=1; redis_stop; return; }
  echo "# [redis-benchmark] INFO redis-server $(redis-server --version | awk '{print $3}') on 127.0.0.1:$REDIS_PORT"
  for config in "1 1" "50 1" "1 16"; do
    set -- $config; c=$1; p=$2
    if [ "$p" -gt 1 ]; then n=$N_REDIS_PIPELINED; else n=$N_REDIS; fi
    for run in $(seq 1 "$RUNS"); do
      out="$LOGS/redis-benchmark-c$c-P$p-$run.csv"
      echo "# [redis-benchmark] redis run $run: redis-benchmark -c $c -P $p -n $n -t get,set --csv"
      timeout "$TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c "$c" -P "$p" -n "$n" \
        -t get,set --csv >"$out" 2>&1
      rc=$?
      # CSV: "test","rps",... then one row per command, e.g. "GET","81234.55",...
      awk -F'"' -v c="$c" -v p="$p" '$2 == "GET" || $2 == "SET" {
          printf "[redis-benchmark] RESULT redis.%s.c%s.P%s req_per_s %.1f req/s\n", tolower($2), c, p, $4
        }' "$out" | tee -a "$SUMMARY"
      if [ $rc -ne 0 ] || ! grep -q '^"GET"' "$out"; then
        status=1
        echo "[redis-benchmark] FAILED redis -c $c -P $p rc=$rc (124 = timeout)"; tail -n 20 "$out" | sed 's/^/#   /'
      fi
    done
  done
  # ---- our client ------------------------------------------------------------------------------
  # The same settings with the runtime's own client (otp::redis::Connection, bench_redis): 50
  # caller processes share one connection where redis-benchmark opens 50. Each RESULT line is
  # followed by the ratio of our figure to redis-benchmark's mean for the same setting.
  if [ ! -x "$BENCH/bench_redis" ]; then
    echo "run.sh: skipping our redis client: no $BENCH/bench_redis (not built)" >&2
  else
    for run in $(seq 1 "$RUNS"); do
      out="$LOGS/bench_redis-$run.txt"
      echo "# [ours] redis run $run: bench_redis port=$REDIS_PORT n=$N_REDIS n_pipelined=$N_REDIS_PIPELINED threads=$THREADS"
      timeout "$TIMEOUT" "$BENCH/bench_redis" port="$REDIS_PORT" n="$N_REDIS" \
        n_pipelined="$N_REDIS_PIPELINED" threads="$THREADS" >"$out" 2>&1
      rc=$?
      grep '^RESULT' "$out" | while read -r _ workload metric value unit; do
        echo "[ours] RESULT $workload $metric $value $unit" | tee -a "$SUMMARY"
        awk -v w="$workload" -v ours="$value" '$1 == "[redis-benchmark]" && $3 == w { s += $5; k++ }
          END { if (k) printf "# [ours] INFO %s ratio %.2f of redis-benchmark (%.1f req/s)\n", w, ours / (s / k), s / k }' "$SUMMARY"
      done
      if [ $rc -ne 0 ]; then
        status=1
        echo "[ours] FAILED redis rc=$rc (124 = timeout)"; grep -v '^RESULT' "$out" | tail -n 20 | sed 's/^/#   /'
      fi
    done
  fi
  redis_stop
}

# ------------------------------------------------------------------- http ---
HANGTEN_SERVE=${HANGTEN_SERVE:-$(dirname "$BENCH")/05_one_last_thing/hang_ten}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
NGINX_WORKERS=$(nproc)  # as many as the service's scheduler threads (one per hardware thread)

# port_taken PORT: something answers on 127.0.0.1:PORT.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# serve_start NAME [ARGS...]: `hang_ten serve --listen 127.0.0.1:0 ARGS` (it picks a free port);
# sets SERVE_PID and SERVE_PORT once it printed its URL. Its output goes to $LOGS/hang_ten-NAME.log.
serve_start() {
  local name=$1; shift
  SERVE_LOG="$LOGS/hang_ten-$name.log"
  echo "# [ours] $name: $HANGTEN_SERVE serve --listen 127.0.0.1:0${*:+ $*}"
  "$HANGTEN_SERVE" serve --listen 127.0.0.1:0 "$@" </dev/null >"$SERVE_LOG" 2>&1 &
  SERVE_PID=$!
  SERVE_PORT=
  for _ in $(seq 1 1500); do  # 30 s
    kill -0 "$SERVE_PID" 2>/dev/null || break
    # "HangTen serving http://127.0.0.1:40123 (memory stash); SIGINT or SIGTERM stops it"
    SERVE_PORT=$(sed -n 's|^HangTen serving http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$SERVE_LOG" | head -n 1)
    [ -n "$SERVE_PORT" ] && return 0
    sleep 0.02
  done
  echo "# [ours] ERROR http: hang_ten serve did not start; it printed:"
  tail -n 20 "$SERVE_LOG" | sed 's/^/#   /'
  kill -KILL "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null
  SERVE_PID=
  return 1
}

# serve_stop: SIGTERM, then its exit status, which must be 0 (SIGKILL after 120 s).
serve_stop() {
  local rc
  [ -n "$SERVE_PID" ] || return 0
  kill -TERM "$SERVE_PID" 2>/dev/null
  for _ in $(seq 1 1200); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVE_PID" 2>/dev/null
  wait "$SERVE_PID"; rc=$?
  SERVE_PID=
  if [ $rc -ne 0 ]; then
    echo "# [ours] ERROR http: hang_ten serve exited with status $rc on SIGTERM (137: killed after 120 s); it printed:"
    tail -n 20 "$SERVE_LOG" | sed 's/^/#   /'
    return 1
  fi
}

# create_sessions PORT N [TOKENS]: POST /sessions {"login":"u<i>"} for i = 0 .. N-1, 64 at a
# time (curl --parallel, in chunks of 10000, a progress line on stderr after each). Every answer
# must be 201. With TOKENS, writes there the Lua file that validate.lua reads:
# return {"u0","<token>","u1","<token>",...}.
create_sessions() {
  local port=$1 n=$2 tokens=${3:-} chunk=10000 from to created pairs
  local cfg="$HTTP_TMP/curl.cfg" bodies="$HTTP_TMP/bodies.txt" codes="$HTTP_TMP/codes.txt"
  : >"$bodies"; : >"$codes"
  for ((from = 0; from < n; from += chunk)); do
    to=$((from + chunk < n ? from + chunk : n))
    # One request per block, the blocks separated by "next", which resets the per-request options
    # (a "next" after the last block would add a request without a URL). Each answer's body and
    # then its status ("@status 201", on a line of its own) go to stdout; a transfer that fails
    # has status 000. (Not to stderr: -s mutes it, and -S brings back the progress meter.)
    awk -v from="$from" -v to="$to" -v url="http://127.0.0.1:$port/sessions" 'BEGIN {
      for (i = from; i < to; i++) {
        if (i > from) printf "next\n"
        printf "url = \"%s\"\n", url
        printf "data = \"{\\\"login\\\":\\\"u%d\\\"}\"\n", i
        printf "header = \"Content-Type: application/json\"\n"
        printf "max-time = 60\n"
        printf "write-out = \"\\n@status %%{response_code}\\n\"\n"
      }
    }' >"$cfg"
    timeout "$TIMEOUT" curl -s --parallel --parallel-max 64 -K "$cfg" >>"$bodies" 2>>"$HTTP_TMP/curl.err"
    echo "run.sh: http: POST /sessions $to/$n on 127.0.0.1:$port" >&2
  done
  grep -o '@status [0-9]*' "$bodies" >"$codes"
  created=$(grep -c '^@status 201$' "$codes")
  if [ "$created" -ne "$n" ]; then
    echo "# [ours] ERROR http: $created of $n POST /sessions answered 201; the others (000: no answer):"
    grep -v '^@status 201$' "$codes" | sort | uniq -c | sort -rn | head -n 10 | sed 's/^/#   /'
    return 1
  fi
  [ -n "$tokens" ] || return 0
  # Each answer is one JSON object: {"login":"u7","token":"...","expires_at":...,"request_count":0}.
  grep -o '{[^{}]*}' "$bodies" | awk '
    function field(s, name,    v) {
      if (!match(s, "\"" name "\" *: *\"[^\"]*\"")) return ""
      v = substr(s, RSTART, RLENGTH)
      sub("^\"" name "\" *: *\"", "", v); sub("\"$", "", v)
      return v
    }
    function lua(s) { gsub(/\\/, "\\\\", s); return "\"" s "\"" }
    BEGIN { print "return {" }
    { l = field($0, "login"); t = field($0, "token"); if (l != "" && t != "") print lua(l) "," lua(t) "," }
    END { print "}" }' >"$tokens"
  pairs=$(grep -c '^"' "$tokens")
  if [ "$pairs" -ne "$n" ]; then
    echo "# [ours] ERROR http: $pairs tokens read from $n answers to POST /sessions; the first answers:"
    head -c 600 "$bodies" | sed 's/^/#   /'; echo
    return 1
  fi
}

# placeholder_tokens N FILE: tokens for nginx when the service could not give real ones (nginx
# answers whatever is sent); 43 characters, the length of 32 bytes in unpadded base64url.
placeholder_tokens() {
  awk -v n="$1" 'BEGIN { print "return {"; for (i = 0; i < n; i++) printf "\"u%d\",\"%043d\",\n", i, i; print "}" }' >"$2"
}

# run_wrk TAG WORKLOAD PORT TOKENS: wrk with validate.lua, RUNS times; prints the RESULT lines.
# A run with a non-200 answer or a socket error is FAILED.
run_wrk() {
  local tag=$1 workload=$2 port=$3 tokens=$4 run out rc line
  for run in $(seq 1 "$RUNS"); do
    out="$LOGS/wrk-$workload-$run.txt"
    echo "# [$tag] $workload run $run: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${D_HTTP}s --latency" \
      "-s common/bench/http/validate.lua http://127.0.0.1:$port -- <tokens of $N_HTTP sessions> $WRK_THREADS"
    timeout "$TIMEOUT" wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${D_HTTP}s" --latency \
      -s "$HERE/http/validate.lua" "http://127.0.0.1:$port" -- "$tokens" "$WRK_THREADS" >"$out" 2>&1
    rc=$?
    # WRK requests <n> duration_us <us> req_per_s <v> p50_ms <v> p99_ms <v>
    line=$(grep '^WRK requests ' "$out" | tail -n 1)
    if [ -n "$line" ]; then
      set -- $line
      echo "# [$tag] INFO $workload requests $3 in $(awk -v us="$5" 'BEGIN { printf "%.2f", us / 1e6 }') s"
      { echo "[$tag] RESULT $workload req_per_s $7 req/s"
        echo "[$tag] RESULT $workload p50_ms $9 ms"
        echo "[$tag] RESULT $workload p99_ms ${11} ms"; } | tee -a "$SUMMARY"
    fi
    # WRK non200 <n> connect <n> read <n> write <n> timeout <n>
    line=$(grep '^WRK non200 ' "$out" | tail -n 1)
    if [ $rc -ne 0 ] || [ -z "$line" ] || [ "$(echo "$line" | awk '{ print $3 + $5 + $7 + $9 + $11 }')" != 0 ]; then
      status=1
      echo "[$tag] FAILED $workload rc=$rc (124 = timeout)${line:+; errors: ${line#WRK }}"
      grep -v '^WRK ' "$out" | tail -n 20 | sed 's/^/#   /'
    fi
  done
}

# nginx_start: nginx of our own on a free loopback port, as a child (daemon off), everything
# under $HTTP_TMP/nginx; sets NGINX_PID and NGINX_PORT.
nginx_start() {
  local dir="$HTTP_TMP/nginx" temps m
  mkdir -p "$dir"
  # Every temp path under the prefix (nginx creates them at start), for the modules built in.
  temps="client_body_temp_path $dir/client_body;"
  for m in proxy fastcgi uwsgi scgi; do
    nginx -V 2>&1 | grep -q -- "--without-http_${m}_module" || temps="$temps ${m}_temp_path $dir/$m;"
  done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    NGINX_PORT=$((20000 + RANDOM % 40000))
    port_taken "$NGINX_PORT" && continue
    cat >"$dir/nginx.conf" <<EOF
# Generated by common/bench/run.sh http: the fixed answer that wrk's requests are compared with.
worker_processes $NGINX_WORKERS;
pid $dir/nginx.pid;
lock_file $dir/nginx.lock;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  $temps
  keepalive_requests 1000000;  # wrk's connections stay open, as with the service
  server {
    listen 127.0.0.1:$NGINX_PORT;
    default_type application/json;
    location / { return 200 "{\"valid\":true}"; }
  }
}
EOF
    rm -f "$dir/nginx.pid" "$dir/error.log"
    nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' </dev/null >>"$dir/stdout.log" 2>&1 &
    NGINX_PID=$!
    for _ in $(seq 1 500); do
      kill -0 "$NGINX_PID" 2>/dev/null || break
      if [ -s "$dir/nginx.pid" ] &&
         [ "$(curl -s --max-time 2 "http://127.0.0.1:$NGINX_PORT/ready" 2>/dev/null)" = '{"valid":true}' ]; then
        return 0
      fi
      sleep 0.02
    done
    kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null
    NGINX_PID=
  done
  echo "# [nginx] ERROR http: nginx did not start; its log:"
  cat "$dir/stdout.log" "$dir/error.log" 2>/dev/null | tail -n 20 | sed 's/^/#   /'
  return 1
}

# nginx_stop: SIGTERM to the master, which stops its workers before it exits (after SIGKILL the
# workers would live on).
nginx_stop() {
  if [ -n "$NGINX_PID" ]; then kill -TERM "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; fi
  NGINX_PID=
}

# mean IMPL WORKLOAD METRIC: the mean of that figure over the runs so far ("" when none).
mean() {
  awk -v i="[$1]" -v w="$2" -v m="$3" '$1 == i && $2 == "RESULT" && $3 == w && $4 == m { s += $5; k++ }
    END { if (k) printf "%.3f", s / k }' "$SUMMARY"
}

# vm_rss_kib PID: the process's resident set size now.
vm_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# run_http: the service and nginx under wrk, the Redis stash, and the RSS of 100000 sessions.
run_http() {
  local tool tokens ours nginx before after
  for tool in wrk nginx; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
      echo "run.sh: skipping http: no $tool; install wrk and nginx with: apt-get install wrk nginx-light" \
        "(to keep the install from starting the system nginx on port 80, first run:" \
        "printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d," \
        "and remove that file afterwards)" >&2
      return 0
    }
  done
  command -v nginx >/dev/null || PATH=$PATH:/usr/sbin
  command -v curl >/dev/null || {
    echo "run.sh: skipping http: no curl (bash scripts/deps.sh installs it)" >&2
    return 0
  }
  HTTP_TMP=$(mktemp -d)
  tokens="$HTTP_TMP/tokens.lua"
  echo "# [ours] INFO http: hang_ten serve runs $(nproc) scheduler threads (one per hardware thread);" \
    "nginx worker_processes $NGINX_WORKERS; wrk -t$WRK_THREADS -c$WRK_CONNECTIONS on the same $(nproc) cores"

  # ---- ours, memory stash ----------------------------------------------------------------------
  if [ ! -x "$HANGTEN_SERVE" ]; then
    echo "run.sh: skipping http.validate (ours): no $HANGTEN_SERVE (not built: stage 05's hang_ten)" >&2
  elif serve_start validate; then
    if create_sessions "$SERVE_PORT" "$N_HTTP" "$tokens"; then
      run_wrk ours http.validate "$SERVE_PORT" "$tokens"
    else
      status=1
    fi
    serve_stop || status=1
  else
    status=1
  fi

  # ---- nginx ----------------------------------------------------------------------------------
  [ -s "$tokens" ] || placeholder_tokens "$N_HTTP" "$tokens"
  if nginx_start; then
    echo "# [nginx] INFO $(nginx -v 2>&1 | sed 's/^nginx version: //') on 127.0.0.1:$NGINX_PORT"
    run_wrk nginx http.return200 "$NGINX_PORT" "$tokens"
    nginx_stop
  else
    status=1
  fi
  ours=$(mean ours http.validate req_per_s); nginx=$(mean nginx http.return200 req_per_s)
  if [ -n "$ours" ] && [ -n "$nginx" ]; then
    awk -v o="$ours" -v n="$nginx" 'BEGIN { r = o / n
      printf "# [ours] INFO http.validate req_per_s ratio %.2f of nginx (%.1f / %.1f req/s); target >= 0.5: %s\n",
        r, o, n, (r >= 0.5 ? "met" : "NOT met") }'
  fi
  ours=$(mean ours http.validate p99_ms); nginx=$(mean nginx http.return200 p99_ms)
  if [ -n "$ours" ] && [ -n "$nginx" ]; then
    awk -v o="$ours" -v n="$nginx" 'BEGIN { r = n > 0 ? o / n : 0
      printf "# [ours] INFO http.validate p99_ms ratio %.2f of nginx (%.3f / %.3f ms); target <= 2: %s\n",
        r, o, n, (r <= 2 ? "met" : "NOT met") }'
  fi

  if [ -x "$HANGTEN_SERVE" ]; then
    # ---- ours, Redis stash --------------------------------------------------------------------
    if ! command -v redis-server >/dev/null; then
      echo "run.sh: skipping http.validate.redis: no redis-server (bash scripts/deps.sh installs it)" >&2
    elif redis_start; then
      echo "# [ours] INFO http.validate.redis: redis-server $(redis-server --version | awk '{print $3}') on 127.0.0.1:$REDIS_PORT"
      if serve_start validate.redis --stash "redis://127.0.0.1:$REDIS_PORT"; then
        if create_sessions "$SERVE_PORT" "$N_HTTP" "$HTTP_TMP/tokens-redis.lua"; then
          run_wrk ours http.validate.redis "$SERVE_PORT" "$HTTP_TMP/tokens-redis.lua"
        else
          status=1
        fi
        serve_stop || status=1
      else
        status=1
      fi
      redis_stop
    else
      status=1; redis_stop
    fi

    # ---- ours, RSS with 100000 live sessions --------------------------------------------------
    if serve_start sessions100k; then
      sleep 0.5
      before=$(vm_rss_kib "$SERVE_PID")
      if create_sessions "$SERVE_PORT" "$N_HTTP_RSS"; then
        sleep 1
        after=$(vm_rss_kib "$SERVE_PID")
        echo "# [ours] INFO http.sessions100k: $N_HTTP_RSS live sessions; VmRSS $before KiB before creating them, $after KiB after"
        { echo "[ours] RESULT http.sessions100k rss_kib $after KiB"
          awk -v a="$after" -v b="$before" -v n="$N_HTTP_RSS" \
            'BEGIN { printf "[ours] RESULT http.sessions100k bytes_per_session %.0f B\n", (a - b) * 1024 / n }'
        } | tee -a "$SUMMARY"
      else
        status=1
      fi
      serve_stop || status=1
    else
      status=1
    fi
  fi
  rm -rf "$HTTP_TMP"; HTTP_TMP=
}

echo "# SCALE=$SCALE RUNS=$RUNS THREADS=$THREADS nproc=$(nproc) $(date -u +%FT%TZ)"
for w in $WORKLOADS; do
  if [ "$w" = redis ]; then
    run_redis
    continue
  fi
  if [ "$w" = http ]; then
    run_http
    continue
  fi
  missing=
  for p in $(prog "$w"); do [ -x "$BENCH/$p" ] || missing="$missing $BENCH/$p"; done
  if [ -n "$missing" ]; then
    echo "run.sh: skipping $w: no program$missing (not built, or not written yet)" >&2
    continue
  fi
  if [ "$w" = growth ]; then
    for n in $GROWTH_N; do
      echo "# [ours] INFO growth spawn n=$n"
      run_one "growth-spawn-$n" "spawn@n=$n" "$BENCH/bench_spawn" "n=$n" "threads=$THREADS"
    done
    for n in $GROWTH_N; do
      echo "# [ours] INFO growth ring n=$n m=$M_GROWTH"
      run_one "growth-ring-$n" "ring@n=$n" "$BENCH/bench_ring" "n=$n" "m=$M_GROWTH" "threads=$THREADS"
    done
    for l in $GROWTH_LEAVES; do
      echo "# [ours] INFO growth skynet leaves=$l"
      run_one "growth-skynet-$l" "skynet@leaves=$l" "$BENCH/bench_skynet" "leaves=$l" "threads=$THREADS"
    done
  else
    # shellcheck disable=SC2046  # the command line is split into words on purpose
    run_one "$w" "$w" $(cmd "$w")
  fi
done

# Summary: median/min/max of every figure (for growth, keyed by workload@n).
if [ "$RUNS" -gt 1 ] || [[ " $WORKLOADS " == *" growth "* ]]; then
  echo "# summary: impl workload metric median min max unit (n runs)"
  awk '
    $2 == "RESULT"   { k = $1 " " $3 " " $4; u[k] = $6; v[k] = v[k] " " $5 }
    $2 == "PEAK_RSS" { k = $1 " " $3 " peak_rss"; u[k] = "KiB"; v[k] = v[k] " " $4 }
    END {
      for (k in v) {
        n = split(substr(v[k], 2), a, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        med = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        printf "SUMMARY %s %s %s %s %s (n=%d)\n", k, med, a[1], a[n], u[k], n
      }
    }' "$SUMMARY" | sort -V
fi
exit $status
