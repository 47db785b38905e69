#!/usr/bin/env bash
# Our runtime next to the anchors (BEAM and CAF 0.17) on the same workloads.
#
# Usage: common/bench/compare.sh [workload ...]   (default: spawn ring pingpong counting fanin)
#   Runs the anchors' run.sh and then our run.sh with the same SCALE, RUNS and
#   thread count, shows their output, and prints a table:
#     workload metric ours BEAM CAF ratio
#   where ratio = ours / best anchor (the smaller of BEAM and CAF: every metric,
#   peak_rss included, is lower-is-better). With RUNS>1 each figure is the median.
# Environment:
#   SCALE, RUNS, TIMEOUT, LOG_DIR   passed to both run.sh scripts (see their --help)
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
ALL="spawn ring pingpong counting fanin"

case "${1:-}" in -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;; esac
WORKLOADS=${*:-$ALL}
for w in $WORKLOADS; do
  case " $ALL " in *" $w "*) ;; *) echo "unknown workload: $w (compare knows: $ALL)" >&2; exit 2 ;; esac
done
[ -x "$ANCHORS/run.sh" ] || { echo "no anchors at $ANCHORS (set ANCHORS=dir)" >&2; exit 1; }

export SCALE=${SCALE:-1} RUNS=${RUNS:-1} INSTALL=${INSTALL:-1}
THREADS=${THREADS:-$(nproc)}
export THREADS CAF_THREADS=$THREADS

RAW=$(mktemp)
trap 'rm -f "$RAW"' EXIT
status=0

# The tagged lines of both scripts go to the terminal and to $RAW.
# shellcheck disable=SC2086  # word splitting of the workload list is intended
"$ANCHORS/run.sh" $WORKLOADS | tee -a "$RAW" || status=1
# shellcheck disable=SC2086
"$HERE/run.sh" $WORKLOADS | tee -a "$RAW" || status=1

echo
echo "# SCALE=$SCALE RUNS=$RUNS THREADS=$THREADS; figures are medians over RUNS; ratio = ours / best anchor (lower is better)"
awk -v order="$WORKLOADS" '
  function median(list,    n, a, i, j, t) {
    n = split(substr(list, 2), a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function show(x) { return x == "" ? "-" : x }
  $1 ~ /^\[(ours|beam|caf)\]$/ && ($2 == "RESULT" || $2 == "PEAK_RSS") {
    impl = substr($1, 2, length($1) - 2)
    if ($2 == "RESULT") { w = $3; m = $4; v = $5; u = $6 } else { w = $3; m = "peak_rss"; v = $4; u = "KiB" }
    k = w SUBSEP m
    if (!(k in unit)) { unit[k] = u; keys[w] = keys[w] " " m }
    vals[k, impl] = vals[k, impl] " " v
  }
  END {
    printf "%-10s %-22s %12s %12s %12s %8s  %s\n", "workload", "metric", "ours", "BEAM", "CAF", "ratio", "unit"
    nw = split(order, ws, " ")
    for (i = 1; i <= nw; i++) {
      w = ws[i]
      nm = split(substr(keys[w], 2), ms, " ")
      for (j = 1; j <= nm; j++) {
        m = ms[j]; k = w SUBSEP m
        o = (k SUBSEP "ours") in vals ? median(vals[k, "ours"]) : ""
        b = (k SUBSEP "beam") in vals ? median(vals[k, "beam"]) : ""
        c = (k SUBSEP "caf") in vals ? median(vals[k, "caf"]) : ""
        best = ""
        if (b != "") best = b
        if (c != "" && (best == "" || c + 0 < best + 0)) best = c
        ratio = (o != "" && best != "" && best + 0 > 0) ? sprintf("%.2f", o / best) : "-"
        printf "%-10s %-22s %12s %12s %12s %8s  %s\n", w, m, show(o), show(b), show(c), ratio, unit[k]
      }
    }
  }' "$RAW"
exit $status
