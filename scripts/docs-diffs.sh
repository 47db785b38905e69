#!/usr/bin/env bash
# The stage diffs of the tutorial: docs/diffs/01-02.diff, 02-03.diff, 03-04.diff, 04-05.diff, and
# 04-05.<lesson>.diff for each of stage 5's lessons (docs/diffs/04-05.lessons names their files).
#
#   scripts/docs-diffs.sh            writes them into docs/diffs/ (the build target docs-diffs)
#   scripts/docs-diffs.sh <dir>      writes them into <dir>
#   scripts/docs-diffs.sh --check    writes them into a temporary folder and fails, naming the
#                                    file, when one differs from docs/diffs/ (the ctest test
#                                    docs.StageDiffsAreCurrent)
#
# Each is `diff -ruN` of two stage folders, run from the repository root so the paths read
# 01_master/src/server.hpp, with the build trees left out and the timestamps taken off the
# file headers, so the output depends on nothing but the sources.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stages=(01_master 02_registry 03_fault_tolerant 04_kill_children 05_one_last_thing)

# The marker lines of workshop mode (`// exercise: <id> — <hint>`, `// end exercise`,
# docs/workshop.md) are not part of a lesson either: the stages are diffed as copies without them.
marker='^[[:space:]]*// (exercise: |end exercise[[:space:]]*$)'

write() {  # write <dir>
  local out="$1" i a b plain
  mkdir -p "$out"
  plain="$(mktemp -d)"
  for a in "${stages[@]}"; do
    (cd "$root" && tar -cf - --exclude='build' --exclude='build-*' --exclude='CMakeFiles' \
        --exclude='CMakeCache.txt' --exclude='Testing' --exclude='compile_commands.json' \
        --exclude='.cache' --exclude='*.swp' --exclude='*~' --exclude='bench' "$a") |
      (cd "$plain" && tar -xf -)
  done
  grep -r -l -E "$marker" "$plain" | while IFS= read -r f; do
    grep -v -E "$marker" "$f" >"$f.plain" || true
    mv "$f.plain" "$f"
  done
  for ((i = 0; i + 1 < ${#stages[@]}; ++i)); do
    a="${stages[i]}"
    b="${stages[i + 1]}"
    # Benchmark programs (04_kill_children/bench) are not part of a lesson.
    # diff exits 1 when the folders differ, which they do: only 2 and above is an error.
    (cd "$plain" && LC_ALL=C diff -ruN \
        -x 'build' -x 'build-*' -x 'CMakeFiles' -x 'CMakeCache.txt' -x 'Testing' \
        -x 'compile_commands.json' -x '.cache' -x '*.swp' -x '*~' -x 'bench' \
        "$a" "$b" || [ $? -eq 1 ]) |
      sed -E -e 's/^((---|\+\+\+) [^\t]*)\t.*$/\1/' -e 's/^diff -ruN .* ([^ ]+) ([^ ]+)$/diff -ruN \1 \2/' \
        >"$out/${a:0:2}-${b:0:2}.diff"
  done
  rm -rf "$plain"
  # Stage 5 teaches four lessons: each gets the part of 04-05.diff made of its own files.
  python3 "$root/scripts/lesson_diffs.py" "$out" 04-05
}

case "${1:-}" in
  --check)
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    write "$tmp"
    stale=0
    for fresh in "$tmp"/*.diff; do
      committed="docs/diffs/$(basename "$fresh")"
      if ! cmp -s "$fresh" "$root/$committed"; then
        echo "stale: $committed differs from the stages it was made from" >&2
        diff -u "$root/$committed" "$fresh" | head -n 40 >&2 || true
        stale=1
      fi
    done
    if ((stale)); then
      echo "regenerate with: cmake --build --preset dev --target docs-diffs (or scripts/docs-diffs.sh), then commit docs/diffs/" >&2
      exit 1
    fi
    echo "docs/diffs/ is current"
    ;;
  "") write "$root/docs/diffs" ;;
  *) write "$1" ;;
esac
