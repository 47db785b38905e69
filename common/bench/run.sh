#!/usr/bin/env bash
# The anchor workloads (shared/anchors/WORKLOADS.md) on our runtime (library otp).
#
# Usage: common/bench/run.sh [workload ...]   (default: all but growth)
#   workloads: spawn ring pingpong counting fanin call call_par restart
#              restart_batched registry table hangten
#              growth  (not an anchor workload: spawn with n = 1000, 100000, 1000000
#                       and ring with n = 1000, 100000, 1000000 and m = 1000000*SCALE,
#                       to show how the cost grows with the number of processes;
#                       at n = 1000 a spawn region lasts about 1 ms, the polling
#                       resolution, so that row is only indicative)
#              redis   (not an anchor workload: a redis-server of its own on a
#                       free loopback port, driven by redis-benchmark GET and SET at
#                       -c 1 -P 1, -c 50 -P 1 and -c 1 -P 16 (-n 100000*SCALE, and
#                       1000000*SCALE pipelined); needs redis-server and redis-tools
#                       (scripts/deps.sh); then our client, bench_redis, in the
#                       same settings on the same server (the only program built))
#   Programs: bench_spawn, bench_ring, bench_pingpong, bench_counting (counting,
#   fanin), bench_call (call, call_par), bench_restart (restart, and
#   restart_batched with batch=100), bench_registry, bench_table, bench_hangten
#   (built from 04_kill_children/bench: stage 04's session tree). A workload
#   whose program has not been built is skipped, with one line on stderr.
# Environment:
#   SCALE=0.1      multiply every size parameter (default 1; the same sizes and
#                  minimums as the anchors' run.sh; the ring size stays 1000,
#                  restart_batched keeps batch=100, registry and table readers=2)
#   RUNS=3         repetitions per workload (default 1); with RUNS>1 a
#                  median/min/max summary is printed at the end
#   THREADS=N      scheduler threads, passed as threads=N (default: nproc)
#   TIMEOUT=600    per-run wall-clock limit in seconds
#   LOG_DIR=dir    keep raw per-run output there (default: a temp dir, removed)
#   HANGTEN_BENCH_DIR=dir  the bench_* programs (set by scripts/main.sh, which
#                  has built them); when unset, the `release` preset is built and
#                  build/release/bench is used
#   BUILD=0|1      skip or force the build (default: build unless HANGTEN_BENCH_DIR is set)
# Output: one line per figure, tagged like the anchors' run.sh, e.g.
#   [ours] RESULT ring ns_per_hop 85.2 ns
#   [ours] PEAK_RSS ring 61234 KiB          (from /usr/bin/time -v)
#   [redis-benchmark] RESULT redis.get.c50.P1 req_per_s 81234.5 req/s
#                                           (redis: workload redis.<command>.c<clients>.P<depth>)
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
ALL="spawn ring pingpong counting fanin call call_par restart restart_batched registry table hangten"
KNOWN="$ALL growth redis"

case "${1:-}" in -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;; esac
WORKLOADS=${*:-$ALL}
for w in $WORKLOADS; do
  case " $KNOWN " in *" $w "*) ;; *) echo "unknown workload: $w (known: $KNOWN)" >&2; exit 2 ;; esac
done
case "$RUNS" in ''|*[!0-9]*|0) echo "RUNS must be a positive integer" >&2; exit 2 ;; esac

# ------------------------------------------------------------------ build ---
if [ -n "${HANGTEN_BENCH_DIR:-}" ]; then
  BENCH=$HANGTEN_BENCH_DIR
  BUILD=${BUILD:-0}
elif [ "$WORKLOADS" = redis ]; then
  BENCH=$REPO/build/release/bench
  BUILD=${BUILD:-1}
  TARGETS="--target bench_redis"  # our client's program only
else
  BENCH=$REPO/build/release/bench
  BUILD=${BUILD:-1}
fi
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
M_GROWTH=$(sz 1000000 1000)
GROWTH_N="1000 100000 1000000"
N_REDIS=$(sz 100000 1000)
N_REDIS_PIPELINED=$(sz 1000000 10000)

# prog WORKLOAD -> the program that runs it
prog() {
  case "$1" in
    counting|fanin) echo bench_counting ;;
    call|call_par) echo bench_call ;;
    restart|restart_batched) echo bench_restart ;;
    growth) echo "bench_spawn bench_ring" ;;
    *) echo "bench_$1" ;;
  esac
}

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
  esac
}

# --------------------------------------------------------------------- run ---
REDIS_PID=
REDIS_DIR=
cleanup() {
  if [ -n "$REDIS_PID" ]; then kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; fi
  if [ -n "$REDIS_DIR" ]; then rm -rf "$REDIS_DIR"; fi
  if [ -z "${LOG_DIR:-}" ]; then rm -rf "$LOGS"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
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

echo "# SCALE=$SCALE RUNS=$RUNS THREADS=$THREADS nproc=$(nproc) $(date -u +%FT%TZ)"
for w in $WORKLOADS; do
  if [ "$w" = redis ]; then
    run_redis
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
