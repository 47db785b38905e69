#!/usr/bin/env bash
# Our runtime next to the anchors (BEAM and CAF 0.17) on the same workloads.
#
# Usage: common/bench/compare.sh [workload ...]   (default: all of them)
#   workloads: spawn ring pingpong counting fanin call call_par restart
#              restart_batched registry table hangten skynet, and redis (only when named:
#              our Redis client against redis-benchmark on a redis-server of its own,
#              run by run.sh redis, which prints the ratios itself), and http (only
#              when named: `hang_ten serve` against nginx under wrk, run by run.sh
#              http, which prints the ratios and whether the targets are met)
#   Runs the anchors' run.sh and then our run.sh with the same SCALE, RUNS and
#   thread count, shows their output, and prints a table:
#     workload metric ours BEAM CAF ratio unit
#   where ratio = ours / best anchor (the smaller of BEAM and CAF: every metric,
#   peak_rss included, is lower-is-better). With RUNS>1 each figure is the median.
#   CAF has no restart, registry, table or hangten, so those rows compare with
#   the BEAM (hangten is the Elixir anchor).
#   Our restart and restart_batched are both compared with the anchors'
#   restart_batched (the BEAM's unbatched restart measures mostly the growth of
#   OTP's restart-history list, see WORKLOADS.md); the anchors' unbatched
#   restart is not run. Such rows name the anchor workload after the unit:
#     restart  us_per_restart  ...  us  (anchors: restart_batched)
#   A workload whose program we have not built shows "-" in the ours column.
#   Figures with a target (see TARGETS below) get one line each after the table:
#     target skynet ms_per_tree ours/best 0.18 <= 0.33: met
#   where the reference is the best anchor (best) or one of them (beam, caf).
# Environment:
#   SCALE, RUNS, TIMEOUT   passed to both run.sh scripts (see their --help)
#   LOG_DIR=dir  keep the raw per-run output: the anchors' in dir/anchors, ours
#                in dir/ours (both scripts write an all-results.txt)
#   THREADS=N    our scheduler threads and CAF_THREADS (default: nproc)
#   INSTALL=0|1  passed to the anchors' run.sh (apt-get install erlang, elixir,
#                libcaf-dev when they are missing; default 1)
#   ANCHORS=dir  the anchors (default: <repo>/../shared/anchors)
#   IMPL=beam|caf  restrict the anchors to one implementation
# Exit status: 0 when every run passed, 1 when one failed, 2 for a bad workload.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ANCHORS=${ANCHORS:-$REPO/../shared/anchors}
ALL="spawn ring pingpong counting fanin call call_par restart restart_batched registry table hangten skynet"
# workload:metric:reference:limit, reference = best | beam | caf: ours / reference <= limit.
TARGETS="skynet:ms_per_tree:best:0.33 skynet:peak_rss:beam:0.5"

case "${1:-}" in -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;; esac
WORKLOADS=${*:-$ALL}
# redis and http are compared by run.sh itself (with redis-benchmark, with nginx), not with the anchors.
OWN=
for w in $WORKLOADS; do
  case "$w" in redis|http) OWN="${OWN:+$OWN }$w"; continue ;; esac
  case " $ALL " in *" $w "*) ;; *) echo "unknown workload: $w (compare knows: $ALL redis http)" >&2; exit 2 ;; esac
done
WORKLOADS=$(for w in $WORKLOADS; do case "$w" in redis|http) ;; *) printf '%s ' "$w" ;; esac; done)
WORKLOADS=${WORKLOADS% }
# run_own: run.sh for each of them, its figures, ratios, targets and failures only.
run_own() {
  local w rc=0
  for w in $OWN; do
    "$HERE/run.sh" "$w" | grep -E 'RESULT|ratio|FAILED|ERROR'
    [ "${PIPESTATUS[0]}" = 0 ] || rc=1
  done
  return $rc
}
if [ -z "$WORKLOADS" ]; then  # redis or http alone
  run_own
  exit $?
fi
[ -x "$ANCHORS/run.sh" ] || {
  echo "no anchors at $ANCHORS: they live beside the repository, not in it (shared/anchors next to" >&2
  echo "the checkout's folder); point ANCHORS=dir at them, e.g. ANCHORS=/work/shared/anchors $0" >&2
  exit 1
}

# anchor_of WORKLOAD -> the anchors' workload that ours is compared with
anchor_of() {
  case "$1" in
    restart|restart_batched) echo restart_batched ;;
    *) echo "$1" ;;
  esac
}
ANCHOR_WORKLOADS=
for w in $WORKLOADS; do
  a=$(anchor_of "$w")
  case " $ANCHOR_WORKLOADS " in *" $a "*) ;; *) ANCHOR_WORKLOADS="${ANCHOR_WORKLOADS:+$ANCHOR_WORKLOADS }$a" ;; esac
done

export SCALE=${SCALE:-1} RUNS=${RUNS:-1} INSTALL=${INSTALL:-1}
THREADS=${THREADS:-$(nproc)}
export THREADS CAF_THREADS=$THREADS

RAW=$(mktemp)
trap 'rm -f "$RAW"' EXIT
status=0

# The tagged lines of both scripts go to the terminal and to $RAW.
# shellcheck disable=SC2086  # word splitting of the workload list is intended
LOG_DIR=${LOG_DIR:+$LOG_DIR/anchors} "$ANCHORS/run.sh" $ANCHOR_WORKLOADS | tee -a "$RAW" || status=1
# shellcheck disable=SC2086
LOG_DIR=${LOG_DIR:+$LOG_DIR/ours} "$HERE/run.sh" $WORKLOADS | tee -a "$RAW" || status=1

echo
echo "# SCALE=$SCALE RUNS=$RUNS THREADS=$THREADS; figures are medians over RUNS; ratio = ours / best anchor (lower is better)"
MAP=
for w in $WORKLOADS; do MAP="$MAP $w=$(anchor_of "$w")"; done
awk -v order="$WORKLOADS" -v map="$MAP" -v targets="$TARGETS" '
  function median(list,    n, a, i, j, t) {
    n = split(substr(list, 2), a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function show(x) { return x == "" ? "-" : x }
  # Our figures and those of the anchors are kept apart (side "ours" / "anchor"),
  # since a row of ours may be compared with an anchor workload of another name.
  $1 ~ /^\[(ours|beam|caf)\]$/ && ($2 == "RESULT" || $2 == "PEAK_RSS") {
    impl = substr($1, 2, length($1) - 2)
    side = impl == "ours" ? "ours" : "anchor"
    if ($2 == "RESULT") { w = $3; m = $4; v = $5; u = $6 } else { w = $3; m = "peak_rss"; v = $4; u = "KiB" }
    k = side SUBSEP w SUBSEP m
    if (!(k in unit)) { unit[k] = u; metrics[side, w] = metrics[side, w] " " m }
    vals[k, impl] = vals[k, impl] " " v
  }
  function cell(side, w, m, impl,    k) {
    k = side SUBSEP w SUBSEP m
    return (k SUBSEP impl) in vals ? median(vals[k, impl]) : ""
  }
  END {
    n = split(map, pairs, " ")
    for (i = 1; i <= n; i++) { split(pairs[i], kv, "="); anchor[kv[1]] = kv[2] }
    printf "%-16s %-22s %12s %12s %12s %8s  %s\n", "workload", "metric", "ours", "BEAM", "CAF", "ratio", "unit"
    nw = split(order, ws, " ")
    for (i = 1; i <= nw; i++) {
      w = ws[i]; a = anchor[w]
      # The rows: our metrics, then any metric only the anchors report.
      list = metrics["ours", w]
      nm = split(substr(metrics["anchor", a], 2), ms, " ")
      for (j = 1; j <= nm; j++) if (index(list " ", " " ms[j] " ") == 0) list = list " " ms[j]
      nm = split(substr(list, 2), ms, " ")
      for (j = 1; j <= nm; j++) {
        m = ms[j]
        o = cell("ours", w, m, "ours")
        b = cell("anchor", a, m, "beam")
        c = cell("anchor", a, m, "caf")
        ou = unit["ours", w, m]; au = unit["anchor", a, m]
        best = ""
        if (b != "") best = b
        if (c != "" && (best == "" || c + 0 < best + 0)) best = c
        ratio = (o != "" && best != "" && best + 0 > 0 && ou == au) ? sprintf("%.2f", o / best) : "-"
        u = ou != "" ? ou : au
        if (ou != "" && au != "" && ou != au) u = ou " (anchors in " au ")"
        if (a != w && (b != "" || c != "")) u = u "  (anchors: " a ")"
        printf "%-16s %-22s %12s %12s %12s %8s  %s\n", w, m, show(o), show(b), show(c), ratio, u
      }
      if (nm == 0) printf "%-16s %-22s %12s %12s %12s %8s\n", w, "(no figures)", "-", "-", "-", "-"
    }
    nt = split(targets, ts, " ")
    for (i = 1; i <= nt; i++) {
      split(ts[i], t, ":"); w = t[1]; m = t[2]; ref = t[3]; limit = t[4]
      if (index(" " order " ", " " w " ") == 0) continue
      a = anchor[w]; o = cell("ours", w, m, "ours")
      b = cell("anchor", a, m, "beam"); c = cell("anchor", a, m, "caf")
      r = ref == "beam" ? b : ref == "caf" ? c : (b == "" ? c : (c == "" || b + 0 < c + 0) ? b : c)
      if (o == "" || r == "" || r + 0 <= 0) { printf "target %s %s ours/%s - <= %s: not measured\n", w, m, ref, limit; continue }
      printf "target %s %s ours/%s %.2f <= %s: %s\n", w, m, ref, o / r, limit, (o / r <= limit + 0 ? "met" : "NOT met")
    }
  }' "$RAW"

# redis: its anchor is redis-benchmark, not the BEAM or CAF; run.sh redis runs both and says the
# ratio of each configuration (ours / redis-benchmark's requests per second: higher is better).
# http: its anchor is nginx; run.sh http says ours / nginx for req/s and p99, and the targets.
if [ -n "$OWN" ]; then
  echo
  run_own || status=1
fi
exit $status
