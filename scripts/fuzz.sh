#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/: libFuzzer, AddressSanitizer, UndefinedBehaviorSanitizer, with
# Debian's clang) and runs them, each on its own copy of its seed corpus.
#
#   bash scripts/fuzz.sh                       every target for 60 s, two at a time
#   bash scripts/fuzz.sh --seconds 600 service one target for 10 minutes
#   bash scripts/fuzz.sh --runs 10000000 resp  one target for ten million executions
#   bash scripts/fuzz.sh --runs 10000000 etf   the ETF decoder, which runs only when named
#   bash scripts/fuzz.sh --jobs 1              one target at a time (default: 2)
#
# Targets: resp, console, service, observer, run by default, and etf and handshake, run when
# named (fuzz/CMakeLists.txt says what each one checks). The corpus
# grows in build/fuzz/corpus/<target> (seeded from fuzz/corpus/<target>) and is reused by the
# next run; the log of each run is build/fuzz/<target>.log. A finding (a crash, a sanitizer
# report, a broken property) stops the target, leaves the input in build/fuzz/findings/ and
# makes the script fail (status 1); reproduce it with build/fuzz/fuzz_<target> <that file>.
# A target stopped with SIGINT before its end is reported as stopped, with its count (status 3).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

all=(resp console service observer)
named_only=(etf handshake)
seconds=60
runs=""
jobs=2
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (--help lists them)" >&2; exit 2 ;;
    *)
      if [[ ! " ${all[*]} ${named_only[*]} " == *" $1 "* ]]; then
        echo "fuzz.sh: no target $1 (targets: ${all[*]} ${named_only[*]})" >&2
        exit 2
      fi
      targets+=("$1"); shift ;;
  esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")
if ! [[ "$seconds" =~ ^[0-9]+$ && ( -z "$runs" || "$runs" =~ ^[0-9]+$ ) && "$jobs" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: --seconds, --runs and --jobs take a whole number" >&2
  exit 2
fi

bash scripts/deps.sh
clangxx=$(command -v clang++ || command -v clang++-14)
out=build/fuzz
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
CXX="$clangxx" cmake -S fuzz -B "$out" -G Ninja "${launcher[@]}" >/dev/null
cmake --build "$out" -j2 --target "${targets[@]/#/fuzz_}"
mkdir -p "$out/findings"

# run_target <target>: one target's run; its last line says how it went, its status is 1 on a
# finding.
run_target() {
  local t="$1"
  local corpus="$out/corpus/$t"
  mkdir -p "$corpus"
  cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  local limit=(-max_total_time="$seconds")
  local what="${seconds} s"
  if [[ -n "$runs" ]]; then
    limit=(-runs="$runs")
    what="$runs executions"
  fi
  # The observer's inputs are a few page messages: no mutation is spent on longer ones.
  local options=()
  [[ $t == observer ]] && options=(-max_len=512)
  echo "fuzz $t: $what (log: $out/$t.log)"
  local status=0 pid last execs rate
  "$out/fuzz_$t" "${limit[@]}" "${options[@]}" -print_final_stats=1 \
    -artifact_prefix="$out/findings/$t-" \
    "$corpus" >"$out/$t.log" 2>&1 &
  pid=$!
  # A line every 30 s, so that a long run shows it is alive.
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
      last=$(grep -a -o '^#[0-9]*.*exec/s: [0-9]*' "$out/$t.log" | tail -1 || true)
      [[ -n "$last" ]] && echo "  $t: ${last%% cov:*} executions, ${last##*exec/s: } exec/s"
    fi
  done
  wait "$pid" || status=$?
  execs=$(grep -a 'stat::number_of_executed_units' "$out/$t.log" | awk '{print $2}' || true)
  rate=$(grep -a 'stat::average_exec_per_sec' "$out/$t.log" | awk '{print $2}' || true)
  # libFuzzer ends with 72 when it is stopped (SIGINT, kill -INT <pid>): no finding, not done.
  if [[ $status -eq 72 ]] && ! grep -a -q -E 'ERROR|Test unit written' "$out/$t.log"; then
    echo "fuzz $t: stopped after ${execs:-?} executions (${rate:-?}/s), no finding"
    return 2
  fi
  if [[ $status -ne 0 ]]; then
    echo "fuzz $t: FINDING after ${execs:-?} executions (exit $status):"
    grep -a -E 'ERROR|SUMMARY|Test unit written' "$out/$t.log" | head -5 | sed 's/^/  /'
    return 1
  fi
  echo "fuzz $t: ${execs:-?} executions (${rate:-?}/s), no finding; corpus $(ls "$corpus" | wc -l) inputs"
}

# The targets run --jobs at a time; each one's status is kept in $out/<target>.status.
running=0
for t in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  rm -f "$out/$t.status"
  (
    status=0
    run_target "$t" || status=$?
    echo "$status" >"$out/$t.status"
  ) &
  running=$((running + 1))
done
wait

failed=()
stopped=()
for t in "${targets[@]}"; do
  case "$(cat "$out/$t.status" 2>/dev/null)" in
    0) ;;
    2) stopped+=("$t") ;;
    *) failed+=("$t") ;;
  esac
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: findings in ${failed[*]} (inputs in $out/findings/)" >&2
  exit 1
fi
if [[ ${#stopped[@]} -gt 0 ]]; then
  echo "fuzz.sh: stopped before the end: ${stopped[*]}" >&2
  exit 3
fi
