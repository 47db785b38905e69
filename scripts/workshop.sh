#!/usr/bin/env bash
# Workshop mode (docs/workshop.md): a stage or a lab with its exercises taken out.
#
#   scripts/workshop.sh <stage-or-lab> [dir]   writes a copy of the stage or lab (03_fault_tolerant,
#                                              05_redis_pool, ...) into dir (workshop/<name>),
#                                              every exercise region's code replaced by its stub
#   scripts/workshop.sh test [dir] [--all]     builds the copy, runs its tests, and prints the
#                                              next exercise not done (--all: every one) and how
#                                              many are done; exit status 0 once all are done
#   scripts/workshop.sh watch [dir] [--all]    the same at every change of a file, on a clear screen
#   scripts/workshop.sh list <stage-or-lab|dir>  the exercises, in the order of the course
#   scripts/workshop.sh --solution <id> [dir]  prints the reference solution of one exercise
#   scripts/workshop.sh --fill <id> [dir]      puts the reference solution in place of the stub
#   scripts/workshop.sh --reset <id> [dir]     puts the stub back
#
# An exercise is a region of a stage's or lab's src/ (see docs/workshop.md):
#
#   // exercise: <id> — <a one-line hint>
#   ...the solution...
#   // end exercise
#
# The copy keeps the two marker lines and puts `otp::workshop::todo("<id>");` between them
# (otp/workshop.hpp): it compiles and throws, and the copy's tests report the exercise by name.
# An exercise is done once its stub is gone from between its markers and the tests pass.
# The order of the course: the files of src/ from the tests and main.cpp down the include graph
# (the supervisor before the processes it starts), and in each file from the top down.
#
# The copy builds alone, like the stage: cmake -S <dir> -B <dir>/build. It uses the
# repository's common/, or an installed runtime when configured with -Dotp_DIR=... (the
# variable WORKSHOP_CMAKE_ARGS adds arguments to the configure step of test and watch).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
self="$root/scripts/workshop.sh"

die() {
  echo "workshop.sh: $*" >&2
  exit 2
}

# The folder of a stage or lab from its name (03_fault_tolerant, 05_redis_pool, a path).
source_dir() {
  local name="${1%/}"
  if [[ -f "$name/CMakeLists.txt" && -d "$name/src" ]]; then
    (cd "$name" && pwd)
    return
  fi
  local candidate
  for candidate in "$root/$name" "$root/common/labs/$name" "$root/common/$name"; do
    if [[ -f "$candidate/CMakeLists.txt" && -d "$candidate/src" ]]; then
      (cd "$candidate" && pwd)
      return
    fi
  done
  die "no stage or lab called '$1' (try 03_fault_tolerant or 05_redis_pool)"
}

# The files of <dir>/src in the order of the course: a depth-first walk of the `#include "..."`
# graph from the test files (in the order CMakeLists.txt lists them) and then main.cpp, each
# file before the files it includes (what starts a process before the process: each exercise
# done lets the tests reach the next); files nothing reaches come last, by name.
ordered_sources() {
  local dir="$1" seen="" out=()
  visit() {
    local f="$1" inc
    [[ " $seen " == *" $f "* ]] && return 0
    seen="$seen $f"
    [[ -f "$dir/src/$f" ]] || return 0
    out+=("$f")
    while IFS= read -r inc; do
      visit "$inc"
    done < <(sed -n -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$dir/src/$f")
  }
  # The roots: the test files in the order the CMakeLists.txt lists them, then main.cpp.
  local t inc
  while IFS= read -r t; do
    [[ -f "$dir/$t" ]] || continue
    while IFS= read -r inc; do
      visit "$inc"
    done < <(sed -n -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$dir/$t")
  done < <(grep -o -E 'tests/[A-Za-z0-9_./-]+\.cpp' "$dir/CMakeLists.txt" | awk '!seen[$0]++')
  visit main.cpp
  local f
  while IFS= read -r f; do
    visit "$f"
  done < <(cd "$dir/src" && find . -type f \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' \) |
    sed 's|^\./||' | LC_ALL=C sort)
  local x
  for x in "${out[@]}"; do
    [[ -f "$dir/src/$x" ]] && printf 'src/%s\n' "$x"
  done
}

# The regions of the files given on stdin (paths relative to <dir>), one line each:
# id <TAB> file <TAB> line of the opening marker <TAB> hint <TAB> 1 when the stub is there
# Malformed markers (nested, unclosed, stray end, an id twice) are errors.
regions() {
  local dir="$1" f
  while IFS= read -r f; do
    awk -v file="$f" '
      function fail(msg) { printf "workshop.sh: %s:%d: %s\n", file, FNR, msg > "/dev/stderr"; bad = 1; exit 2 }
      /^[[:space:]]*\/\/ exercise: / {
        if (open) fail("exercise inside exercise " id)
        line = $0
        sub(/^[[:space:]]*\/\/ exercise: /, "", line)
        id = line; sub(/[[:space:]].*$/, "", id)
        hint = substr(line, length(id) + 1)
        sub(/^[[:space:]]*(—|--|-)?[[:space:]]*/, "", hint)
        if (id !~ /^[a-z0-9][a-z0-9_.-]*$/) fail("bad exercise id \"" id "\" (a-z 0-9 . _ -)")
        open = 1; start = FNR; stub = 0; next
      }
      /^[[:space:]]*\/\/ end exercise[[:space:]]*$/ {
        if (!open) fail("end exercise without exercise")
        printf "%s\t%s\t%d\t%s\t%d\n", id, file, start, hint, stub
        open = 0; next
      }
      open && index($0, "otp::workshop::todo(\"" id "\")") { stub = 1 }
      END { if (open && !bad) { FNR = start; fail("exercise " id " has no end exercise") } }
    ' "$dir/$f"
  done | awk -F'\t' '{ if (seen[$1]++) { printf "workshop.sh: exercise %s twice (%s:%s)\n", $1, $2, $3 > "/dev/stderr"; exit 2 } print }'
}

# A copy's folder: the argument, or the current folder when it is one.
copy_dir() {
  local dir="${1:-.}"
  [[ -f "$dir/.workshop/exercises.tsv" ]] || die "$dir is not a workshop copy (scripts/workshop.sh <stage-or-lab> [dir] makes one)"
  (cd "$dir" && pwd)
}

# The exercises of a copy now: the regions of the files its manifest names, in its order.
current() {
  local dir="$1"
  cut -f2 "$dir/.workshop/exercises.tsv" | awk '!seen[$0]++' | regions "$dir"
}

generate() {
  local src dir name force="$3"
  src="$(source_dir "$1")"
  name="$(basename "$src")"
  dir="${2:-$root/workshop/$name}"
  if [[ -e "$dir" ]]; then
    if [[ "$force" != 1 ]]; then
      die "$dir exists: an attendee's work may be in it (remove it, or pass --force)"
    fi
    # Everything but the build tree, which stays to make the next build quick.
    find "$dir" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
  fi
  local list
  list="$(ordered_sources "$src" | regions "$src")" || exit 2
  [[ -n "$list" ]] || die "$name has no exercise regions (// exercise: <id> — <hint> ... // end exercise)"

  mkdir -p "$dir"
  (cd "$src" && tar --exclude='./build' --exclude='./build-*' --exclude='./.workshop' -cf - .) |
    (cd "$dir" && tar -xf -)
  dir="$(cd "$dir" && pwd)"
  mkdir -p "$dir/.workshop/solutions"
  printf '%s\n' "$list" | cut -f1-4 >"$dir/.workshop/exercises.tsv"
  printf '%s\n' "$name" >"$dir/.workshop/name"

  # The regions: the solution is kept aside, the stub takes its place.
  local id file line hint stub
  while IFS=$'\t' read -r id file line hint stub; do
    awk -v id="$id" -v start="$line" -v sol="$dir/.workshop/solutions/$id" '
      FNR == start { print; inside = 1; ind = $0; sub(/[^[:space:]].*$/, "", ind); next }
      inside && /^[[:space:]]*\/\/ end exercise[[:space:]]*$/ {
        printf "%sotp::workshop::todo(\"%s\");\n", ind, id; print; inside = 0; next
      }
      inside { print > sol; next }
      { print }
    ' "$dir/$file" >"$dir/$file.tmp"
    touch "$dir/.workshop/solutions/$id"
    mv "$dir/$file.tmp" "$dir/$file"
  done < <(LC_ALL=C sort -t $'\t' -k2,2 -k3,3nr <<<"$list")  # bottom up: lines above stay put

  # The runtime: the repository's common/ (the stage's relative path made absolute), or an
  # installed one named with -Dotp_DIR.
  local cml="$dir/CMakeLists.txt" rel abs
  rel="$(sed -n -E 's/^[[:space:]]*add_subdirectory\(([^ )]+) common\).*/\1/p' "$cml" | head -n 1)"
  [[ -n "$rel" ]] || die "$name/CMakeLists.txt has no add_subdirectory(<path> common)"
  abs="$(cd "$src/$rel" && pwd)"
  awk -v rel="$rel" -v abs="$abs" -v name="$name" '
    !done && /^if\(NOT TARGET otp::otp\)/ {
      print "# A workshop copy of " name " (scripts/workshop.sh): the runtime is the repository'"'"'s"
      print "# common/, or an installed one (-Dotp_DIR=<prefix>/lib/cmake/otp)."
      print "if(NOT TARGET otp::otp AND otp_DIR)"
      print "  find_package(otp 0.1 CONFIG REQUIRED)"
      print "endif()"
      done = 1
    }
    { i = index($0, "add_subdirectory(" rel " common)")
      if (i) $0 = substr($0, 1, i - 1) "add_subdirectory(\"" abs "\" common)" substr($0, i + length("add_subdirectory(" rel " common)"))
      print }
  ' "$cml" >"$cml.tmp" && mv "$cml.tmp" "$cml"

  cat >"$dir/workshop" <<EOF
#!/usr/bin/env bash
# The workshop copy of $name: ./workshop (build, test, the next exercise), ./workshop --all,
# ./workshop watch, ./workshop --solution <id>, ./workshop --reset <id>.
cd "\$(dirname "\$0")"
case "\${1:-}" in
  watch) shift; exec bash "$self" watch . "\$@" ;;
  --solution | --reset | --fill) exec bash "$self" "\$1" "\$2" . ;;
  *) exec bash "$self" test . "\$@" ;;
esac
EOF
  chmod +x "$dir/workshop"

  local count
  count="$(wc -l <"$dir/.workshop/exercises.tsv")"
  echo "wrote $dir: $name with $count exercises"
  list_exercises "$dir"
  echo "next: cd $dir && ./workshop   (or: scripts/workshop.sh test $dir)"
}

list_exercises() {  # list_exercises <copy dir>
  local id file line hint stub n=0
  while IFS=$'\t' read -r id file line hint stub; do
    n=$((n + 1))
    printf '%2d. %-22s %s:%s  %s\n' "$n" "$id" "$file" "$((line + 1))" "$hint"
  done < <(current "$1")
}

build() {  # build <copy dir>: quiet unless it fails
  local dir="$1" log="$1/build/workshop-build.log" args=()
  mkdir -p "$dir/build"
  if [[ ! -f "$dir/build/CMakeCache.txt" ]]; then
    command -v ninja >/dev/null && args+=(-G Ninja)
    command -v ccache >/dev/null && args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    # shellcheck disable=SC2086
    if ! cmake -S "$dir" -B "$dir/build" -DCMAKE_BUILD_TYPE=Debug "${args[@]}" \
        ${WORKSHOP_CMAKE_ARGS:-} >"$log" 2>&1; then
      cat "$log"
      echo "the copy does not configure (above)"
      return 1
    fi
  fi
  if ! cmake --build "$dir/build" -j "${WORKSHOP_JOBS:-2}" >"$log" 2>&1; then
    grep -E 'error|Error' "$log" | head -n 40
    echo "the copy does not build: fix the errors above (the whole log: $log)"
    return 1
  fi
}

# Builds, runs the tests, prints the exercises not done (the next one; every one with --all),
# the progress line, and any test that fails for another reason. 0 once everything is done.
run_tests() {
  local dir="$1" all="$2" name out
  name="$(cat "$dir/.workshop/name")"
  build "$dir" || return 1
  out="$dir/build/workshop"
  rm -rf "$out"
  mkdir -p "$out"
  : >"$out/hits"
  : >"$out/failed"
  local programs=() p
  while IFS= read -r p; do programs+=("$p"); done < <(
    find "$dir/build" -maxdepth 1 -type f -name '*_tests' -perm -u+x |
      awk '{ print length($0) "\t" $0 }' | LC_ALL=C sort -n | cut -f2-)
  local rc log last filter seen pid
  for p in "${programs[@]}"; do
    log="$out/$(basename "$p").log"
    : >"$log"
    filter=""
    while true; do
      rc=0
      # In a process group of its own, so that nothing it started (a console, a redis-server)
      # outlives it when it ends early.
      OTP_WORKSHOP_HITS="$out/hits" OTP_WORKSHOP_FAILED="$out/failed" \
        OTP_WORKSHOP_FIRST="$([[ $all == 1 ]] && echo 0 || echo 1)" \
        setsid "$p" ${filter:+"--gtest_filter=-$filter"} >>"$log" 2>&1 &
      pid=$!
      wait "$pid" || rc=$?
      kill -KILL -- "-$pid" 2>/dev/null || true
      # A program that ended in the middle of a test (a crash) fails that test.
      last="$(awk '
        /^\[ RUN      \] / { name = substr($0, 14); open = 1 }
        /^\[       OK \] / || /^\[  FAILED  \] / || /^\[ EXERCISE \] / { open = 0 }
        END { if (open) print name }' "$log")"
      if [[ -n "$last" ]]; then
        printf '[  FAILED  ] %s: the test program ended (exit status %s)\n' "$last" "$rc" >>"$log"
        echo "$last" >>"$out/failed"
      fi
      # Ended before its last test (a crash, or the watchdog of a test stopped by a stub): with
      # --all, again for the tests it has not run yet.
      if ((rc == 0)) || [[ $all != 1 ]] || grep -q '^\[==========\] .* ran\.' "$log"; then
        break
      fi
      seen="$(sed -n -E 's/^\[ RUN      \] ([^ ]+).*/\1/p' "$log" | paste -s -d:)"
      [[ "$seen" != "$filter" ]] || break
      filter="$seen"
    done
    ((rc == 0)) || [[ $all == 1 ]] || break
  done

  # Tests that failed for a reason of their own: as GoogleTest printed them.
  local failed=0
  if [[ -s "$out/failed" ]]; then
    failed="$(wc -l <"$out/failed")"
    cat "$out"/*.log | awk '
      NR == FNR { want["[ RUN      ] " $0] = 1; next }
      /^\[ RUN      \] / { show = ($0 in want) }
      show { print }
      /^\[  FAILED  \] / || /^\[       OK \] / { show = 0 }
    ' "$out/failed" -
  fi

  local total=0 done_count=0 shown=0 id file line hint stub waiting
  while IFS=$'\t' read -r id file line hint stub; do
    total=$((total + 1))
    if [[ "$stub" == 1 ]]; then
      if [[ $all == 1 || $shown == 0 ]]; then
        waiting=0  # counted when every test ran
        [[ $all == 1 ]] &&
          waiting="$(cat "$out"/*.log | grep -c -E "^\[ EXERCISE \] .* stops at (.*, )?$id(,| |$)" || true)"
        printf '%s:%s: exercise %s not done: %s' "$file" "$((line + 1))" "$id" "$hint"
        ((waiting > 0)) && printf ' (%s test%s wait%s on it)' "$waiting" \
          "$([[ $waiting == 1 ]] || echo s)" "$([[ $waiting == 1 ]] && echo s)"
        printf '\n'
        shown=$((shown + 1))
      fi
    else
      done_count=$((done_count + 1))
    fi
  done < <(current "$dir")
  # An exercise whose markers were deleted is not done, whatever its code.
  while IFS=$'\t' read -r id file line hint; do
    total=$((total + 1))
    printf '%s: exercise %s: its markers are gone; put back "// exercise: %s — ..." and ' \
      "$file" "$id" "$id"
    printf '"// end exercise" around its code (the solution: .workshop/solutions/%s)\n' "$id"
  done < <(awk -F'\t' 'NR == FNR { here[$1] = 1; next } !($1 in here)' \
    <(current "$dir") "$dir/.workshop/exercises.tsv")
  echo "$done_count of $total exercises done in $name"
  if ((failed > 0)); then
    echo "$failed test$([[ $failed == 1 ]] || echo s) failed outside the exercises not done (above)"
    return 1
  fi
  ((done_count == total)) || return 1
  echo "every exercise is done and every test passes"
}

watch() {
  local dir="$1" all="$2"
  local flag=()
  [[ $all == 1 ]] && flag=(--all)
  if command -v inotifywait >/dev/null; then
    while true; do
      clear 2>/dev/null || printf '\033[H\033[2J'
      echo "$(date +%T) building and testing $(cat "$dir/.workshop/name")..."
      run_tests "$dir" "$all" || true
      echo "(watching $dir: save a file to test again, Ctrl-C to stop)"
      inotifywait -qq -r -e close_write,move,create,delete --exclude '/(build|\.workshop)/' \
        "$dir/src" "$dir/tests" "$dir/CMakeLists.txt" || true
    done
  elif command -v entr >/dev/null; then
    while true; do
      find "$dir/src" "$dir/tests" "$dir/CMakeLists.txt" -type f |
        entr -c -d -p bash "$self" test "$dir" "${flag[@]}" || true
    done
  else
    die "watch needs inotifywait (inotify-tools) or entr: bash scripts/deps.sh installs them"
  fi
}

# Replaces what is between the markers of <id> in the copy <dir>: with the reference solution
# (mode fill), or with the stub (mode reset).
put_region() {
  local dir="$1" id="$2" mode="$3" file line hint stub
  IFS=$'\t' read -r _ file line hint stub < <(current "$dir" | awk -F'\t' -v id="$id" '$1 == id') ||
    die "no exercise $id in $dir (scripts/workshop.sh list $dir)"
  awk -v start="$line" -v id="$id" -v mode="$mode" -v sol="$dir/.workshop/solutions/$id" '
    FNR == start {
      print; inside = 1
      if (mode == "fill") { while ((getline l < sol) > 0) print l }
      else { ind = $0; sub(/[^[:space:]].*$/, "", ind); printf "%sotp::workshop::todo(\"%s\");\n", ind, id }
      next
    }
    inside && /^[[:space:]]*\/\/ end exercise[[:space:]]*$/ { inside = 0; print; next }
    inside { next }
    { print }
  ' "$dir/$file" >"$dir/$file.tmp" && mv "$dir/$file.tmp" "$dir/$file"
  if [[ $mode == fill ]]; then
    echo "$file:$((line + 1)): exercise $id: the reference solution is in"
  else
    echo "$file:$((line + 1)): exercise $id: the stub is back ($hint)"
  fi
}

solution_file() {
  local f="$1/.workshop/solutions/$2"
  [[ -f "$f" ]] || die "no exercise $2 in $1 (scripts/workshop.sh list $1)"
  echo "$f"
}

main() {
  local all=0 force=0 args=()
  local a
  for a in "$@"; do
    case "$a" in
      --all) all=1 ;;
      --force) force=1 ;;
      *) args+=("$a") ;;
    esac
  done
  set -- "${args[@]+"${args[@]}"}"
  case "${1:-}" in
    "" | -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
    test) run_tests "$(copy_dir "${2:-.}")" "$all" ;;
    watch) watch "$(copy_dir "${2:-.}")" "$all" ;;
    list)
      if [[ -f "${2:-.}/.workshop/exercises.tsv" ]]; then
        list_exercises "$(copy_dir "${2:-.}")"
      else
        local src
        src="$(source_dir "${2:?list <stage-or-lab>}")"
        ordered_sources "$src" | regions "$src" | cut -f1-4
      fi
      ;;
    --solution)
      local dir
      dir="$(copy_dir "${3:-.}")"
      cat "$(solution_file "$dir" "${2:?--solution <id>}")"
      ;;
    --fill | --reset)
      local dir
      dir="$(copy_dir "${3:-.}")"
      solution_file "$dir" "${2:?$1 <id>}" >/dev/null
      put_region "$dir" "$2" "$([[ $1 == --fill ]] && echo fill || echo reset)"
      ;;
    --source) source_dir "${2:?--source <stage-or-lab>}" ;;
    -*) die "unknown option $1 (scripts/workshop.sh --help)" ;;
    *) generate "$1" "${2:-}" "$force" ;;
  esac
}

main "$@"
