#!/usr/bin/env bash
# The tests of workshop mode (ctest label `workshop`, docs/workshop.md).
#
#   scripts/workshop-check.sh <stage-or-lab> <work dir> [otp_DIR]
#       writes the workshop copy of the stage or lab into <work dir>, builds it (against the
#       installed runtime at otp_DIR when given) and checks that
#       * docs/workshop.md lists the stage's exercises in their order;
#       * its tests fail with exactly the exercises the stage lists, each reported by name,
#         and with no other failure; without --all only the first is shown;
#       * with the first exercise's reference solution put back, exactly that one is done;
#       * with every solution put back, src/ is the stage's again (whose tests are the labels
#         `stage` and `lab`), and --reset puts a stub back.
#   scripts/workshop-check.sh --generator <work dir>
#       checks the generator on a changed copy of stage 01: a region added and one removed are
#       picked up with no other edit, and a broken marker is an error that names its line.
#   scripts/workshop-check.sh --errors <work dir>
#       checks that a copy refused writes nothing: lab 06, which has no exercises, is one line
#       that says so, with no folder left behind and an existing copy untouched under --force;
#       and that an unknown exercise id in a copy is one line that names the copy's exercises.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ws="$root/scripts/workshop.sh"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_not_done <output> <ids...>: the exercises the output names as not done are these.
expect_not_done() {
  local output="$1"
  shift
  local got want
  got="$(sed -n -E 's/^[^ ]+:[0-9]+: exercise ([^ ]+) not done: .*/\1/p' <<<"$output" | sort)"
  want="$(printf '%s\n' "$@" | sed '/^$/d' | sort)"
  [[ "$got" == "$want" ]] || fail "not done: expected [$(tr '\n' ' ' <<<"$want")], the run listed [$(tr '\n' ' ' <<<"$got")]:
$output"
}

check_copy() {
  local name="$1" dir="$2"
  local ids=() id
  while IFS= read -r id; do ids+=("$id"); done < <(bash "$ws" list "$name" | cut -f1)
  local n=${#ids[@]}
  ((n > 0)) || fail "$name has no exercises"
  bash "$ws" --force "$name" "$dir" >/dev/null

  # docs/workshop.md lists the same exercises, in the same order, in the section of the stage.
  local documented
  documented="$(awk -v name="$name" '
    /^### / { inside = index($0, "`" name "`") > 0; next }
    inside && /^\| [0-9]+ \| `/ { split($0, cell, "`"); print cell[2] }
  ' "$root/docs/workshop.md" | tr '\n' ' ')"
  [[ "$documented" == "${ids[*]} " ]] ||
    fail "docs/workshop.md lists [$documented] for $name, the code has [${ids[*]}]"

  # The skeleton: every exercise not done, nothing else failing.
  local out rc=0
  out="$(bash "$ws" test "$dir" --all 2>&1)" || rc=$?
  echo "$out"
  ((rc == 1)) || fail "the skeleton's run exited with $rc, not 1"
  grep -q "failed outside the exercises" <<<"$out" && fail "a test failed for another reason"
  grep -qx "0 of $n exercises done in $name" <<<"$out" || fail "no progress line '0 of $n ...'"
  expect_not_done "$out" "${ids[@]}"
  local hit
  while IFS= read -r hit; do
    [[ " ${ids[*]} " == *" $hit "* ]] || fail "a stub that is not an exercise of $name ran: $hit"
  done < <(cut -f1 "$dir/build/workshop/hits" | sort -u)
  [[ -s "$dir/build/workshop/hits" ]] || fail "no test ran a stub"

  # Without --all: the first exercise only.
  out="$(bash "$ws" test "$dir" 2>&1)" || true
  expect_not_done "$out" "${ids[0]}"

  # One region back: exactly that exercise is done.
  bash "$ws" --fill "${ids[0]}" "$dir" >/dev/null
  rc=0
  out="$(bash "$ws" test "$dir" --all 2>&1)" || rc=$?
  echo "$out"
  grep -q "failed outside the exercises" <<<"$out" && fail "with ${ids[0]} done, a test failed for another reason"
  grep -qx "1 of $n exercises done in $name" <<<"$out" || fail "no progress line '1 of $n ...'"
  expect_not_done "$out" "${ids[@]:1}"

  # Every region back is the stage itself, whose tests are the ctest labels `stage` and `lab`:
  # here, only that it is the stage's code again.
  for id in "${ids[@]:1}"; do bash "$ws" --fill "$id" "$dir" >/dev/null; done
  grep -r -q "otp::workshop::todo(" "$dir/src" && fail "a stub is left with every solution back"
  diff -r <(cd "$(bash "$ws" --source "$name")/src" && grep -r -v -E '^[[:space:]]*// (exercise: |end exercise)' . | sort) \
    <(cd "$dir/src" && grep -r -v -E '^[[:space:]]*// (exercise: |end exercise)' . | sort) >/dev/null ||
    fail "with every solution back, src/ differs from ${name}'s"

  # --reset puts a stub back.
  bash "$ws" --reset "${ids[0]}" "$dir" >/dev/null
  grep -q "otp::workshop::todo(\"${ids[0]}\")" -r "$dir/src" || fail "--reset left no stub"
  echo "ok: $name, $n exercises"
}

check_generator() {
  local work="$1"
  rm -rf "$work"
  mkdir -p "$work/stage"
  cp -r "$root/01_master/src" "$root/01_master/tests" "$root/01_master/CMakeLists.txt" "$work/stage/"
  ln -s "$root/common" "$work/common"
  local before after
  before="$(bash "$ws" list "$work/stage" | cut -f1 | tr '\n' ' ')"
  [[ "$before" == "supervisor-start supervisor-start-child server-terminate " ]] ||
    fail "stage 01's exercises are [$before]"

  # Remove the markers of supervisor-start, add a region around the body of handle_call(State).
  sed -i -e '/exercise: supervisor-start —/d' -e '0,/^    \/\/ end exercise$/{/^    \/\/ end exercise$/d}' \
    "$work/stage/src/supervisor.hpp"
  grep -q "exercise: supervisor-start-child" "$work/stage/src/supervisor.hpp" || fail "sed removed too much"
  sed -i 's|^  std::string handle_call(State) { return state(); }$|  std::string handle_call(State) {\n    // exercise: state-call — answer the login\n    return state();\n    // end exercise\n  }|' \
    "$work/stage/src/server.hpp"
  after="$(bash "$ws" list "$work/stage" | cut -f1 | tr '\n' ' ')"
  [[ "$after" == "supervisor-start-child state-call server-terminate " ]] ||
    fail "after the change, the exercises are [$after]"
  bash "$ws" "$work/stage" "$work/copy" >/dev/null
  grep -q 'otp::workshop::todo("state-call");' "$work/copy/src/server.hpp" || fail "no stub for state-call"
  grep -q 'otp::workshop::todo("supervisor-start")' "$work/copy/src/supervisor.hpp" &&
    fail "a stub for the removed supervisor-start"
  grep -q 'return state();' "$work/copy/.workshop/solutions/state-call" || fail "no solution kept"
  [[ "$(cut -f1 "$work/copy/.workshop/exercises.tsv" | tr '\n' ' ')" == "$after" ]] || fail "manifest"
  bash "$ws" "$work/stage" "$work/copy" >/dev/null 2>&1 && fail "an existing copy was overwritten"

  # A region with no end is an error naming its line.
  sed -i 's|^    // end exercise$|    // (end)|' "$work/stage/src/server.hpp"
  local err
  if err="$(bash "$ws" list "$work/stage" 2>&1)"; then fail "an unclosed region was accepted"; fi
  grep -q -E "src/server.hpp:[0-9]+: exercise (.* has no end exercise|inside exercise)" <<<"$err" ||
    fail "the error does not say where: $err"
  echo "ok: the generator follows the markers"
}

# expect_refused <what it must say> <command...>: the command fails with that one line on
# stderr and nothing on stdout.
expect_refused() {
  local want="$1" out err rc=0
  shift
  err="$(mktemp)"
  out="$("$@" 2>"$err")" || rc=$?
  local said
  said="$(cat "$err")"
  rm -f "$err"
  ((rc != 0)) || fail "$* succeeded"
  [[ -z "$out" ]] || fail "$* printed on stdout: $out"
  [[ "$(wc -l <<<"$said")" == 1 ]] || fail "$* said more than one line: $said"
  grep -q -F -- "$want" <<<"$said" || fail "$* did not say '$want': $said"
}

check_errors() {
  local work="$1"
  rm -rf "$work"
  mkdir -p "$work"
  expect_refused "06_observer has no exercises" bash "$ws" 06_observer "$work/06"
  [[ -z "$(ls -A "$work")" ]] || fail "a refused copy left $(ls -A "$work")"
  expect_refused "06_observer has no exercises" bash "$ws" 06_observer "$work/06"

  bash "$ws" 01_master "$work/01" >/dev/null
  echo "// an attendee's work" >>"$work/01/src/server.hpp"
  local before
  before="$(cd "$work/01" && find . -type f -exec md5sum {} + | sort)"
  expect_refused "06_observer has no exercises" bash "$ws" 06_observer "$work/01" --force
  [[ "$(cd "$work/01" && find . -type f -exec md5sum {} + | sort)" == "$before" ]] ||
    fail "a refused --force changed the existing copy"
  [[ "$(ls -A "$work")" == "01" ]] || fail "a refused --force left $(ls -A "$work")"

  local ids="supervisor-start, supervisor-start-child, server-terminate"
  for command in --solution --fill --reset; do
    expect_refused "no exercise nonexistent in 01_master; its exercises: $ids" \
      "$work/01/workshop" "$command" nonexistent
    expect_refused "01_master: $ids" "$work/01/workshop" "$command"
  done
  [[ "$(cd "$work/01" && find . -type f -exec md5sum {} + | sort)" == "$before" ]] ||
    fail "a refused exercise id changed the copy"
  echo "ok: a refused copy or exercise writes nothing and says why"
}

case "${1:-}" in
  --generator) check_generator "${2:?--generator <work dir>}" ;;
  --errors) check_errors "${2:?--errors <work dir>}" ;;
  "") sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
  *)
    name="$1"
    dir="${2:?<stage-or-lab> <work dir> [otp_DIR]}"
    if [[ -n "${3:-}" ]]; then export WORKSHOP_CMAKE_ARGS="-Dotp_DIR=$3 ${WORKSHOP_CMAKE_ARGS:-}"; fi
    check_copy "$name" "$dir"
    ;;
esac
