#!/usr/bin/env bash
# The pictures of the tutorial: docs/pictures/<stage>-<what>.svg, each a stage's supervision
# tree as its console's `tree dot` prints it, drawn by Graphviz.
#
#   scripts/docs-pictures.sh 01_master=build/dev/01_master/hang_ten 02_registry=... ...
#
# (the build target docs-pictures passes every stage's hang_ten). Each picture is one console
# session: the commands below are typed one at a time, `{eric}` in a command stands for the pid
# that `new eric` printed (the same for any login), and `tree dot` at the end gives the picture.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/docs/pictures"
command -v dot >/dev/null || { echo "docs-pictures needs Graphviz's dot (apt-get install graphviz)" >&2; exit 1; }
mkdir -p "$out"

declare -A binary
for arg in "$@"; do binary["${arg%%=*}"]="${arg#*=}"; done

# draw <stage> <what> <flags> <command>...
draw() {
  local stage="$1" what="$2" flags="$3" cmd line login dot_text=""
  local -A pid=()
  shift 3
  [[ -n "${binary[$stage]:-}" ]] || { echo "skipping $stage: no hang_ten given" >&2; return; }
  # shellcheck disable=SC2086  # the flags are words
  coproc HANG_TEN { "${binary[$stage]}" $flags 2>/dev/null; }
  for cmd in "$@"; do
    for login in "${!pid[@]}"; do cmd="${cmd//\{$login\}/${pid[$login]}}"; done
    echo "$cmd" >&"${HANG_TEN[1]}"
    read -r line <&"${HANG_TEN[0]}"
    if [[ "$cmd" == "new "* && "$line" == "{:ok, <"* ]]; then
      line="${line#"{:ok, "}"
      pid["${cmd#new }"]="${line%"}"}"
    fi
  done
  echo "tree dot" >&"${HANG_TEN[1]}"
  while read -r line <&"${HANG_TEN[0]}"; do
    dot_text+="$line"$'\n'
    [[ "$line" == "}" ]] && break
  done
  echo "quit" >&"${HANG_TEN[1]}"
  wait "$HANG_TEN_PID" || true
  [[ "$dot_text" == digraph* ]] || { echo "$stage: no tree from tree dot: $dot_text" >&2; exit 1; }
  printf '%s' "$dot_text" | dot -Tsvg -o "$out/$stage-$what.svg"
  echo "docs/pictures/$stage-$what.svg"
}

draw 01_master started "" 
draw 01_master two-users "" "new eric" "new jose"
draw 01_master after-boom "" "new eric" "new jose" "boom {eric}"

draw 02_registry two-users "" "new eric" "new jose"
draw 02_registry after-boom "" "new eric" "new jose" "boom eric"

draw 03_fault_tolerant two-users "" "new eric" "new jose"
draw 03_fault_tolerant after-boom "" "new eric" "new jose" "boom eric"

draw 04_kill_children two-users "" "new eric" "new jose"
draw 04_kill_children after-boom "" "new eric" "new jose" "boom eric"
# eric is idle for 2.5s and times out at 2s; jose made a request at 1s and lives until 3s.
draw 04_kill_children after-inactivity "--inactive-timeout 2s" "new eric" "new jose" "sleep 1s" "count jose" "sleep 1500ms"

# Served: the HTTP listener joins the tree, beside the sessions' supervisor.
draw 05_one_last_thing serving "" "new eric" "serve 127.0.0.1:0"
