#!/usr/bin/env bash
# The chapters quote their stage's code: every line of a ```cpp block in docs/0N_<stage>.md must
# be a line of that stage's src/ (leading and trailing spaces aside, workshop markers left out),
# so that a chapter never shows code its stage no longer has. The ctest test
# docs.ChapterCodeIsTheStagesCode runs it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

trim() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'; }

stale=0
for chapter in docs/0[1-9]_*.md; do
  stage=$(basename "$chapter" .md)
  [[ -d "$stage/src" ]] || continue
  known=$(mktemp)
  # Workshop mode's marker lines (docs/workshop.md) are not code a chapter quotes.
  cat "$stage"/src/* | grep -v -E '^[[:space:]]*// (exercise: |end exercise[[:space:]]*$)' |
    trim | sort -u >"$known"
  while IFS= read -r line; do
    [[ -z "$line" ]] && continue
    if ! grep -Fxq -- "$line" "$known"; then
      echo "$chapter: not in $stage/src: $line" >&2
      stale=$((stale + 1))
    fi
  done < <(awk '/^```cpp$/ {inside = 1; next} /^```/ {inside = 0} inside' "$chapter" | trim)
  rm -f "$known"
done

if [[ $stale -gt 0 ]]; then
  echo "docs-code.sh: $stale quoted lines differ from the stages; copy them again from src/" >&2
  exit 1
fi
echo "docs-code.sh: every chapter quotes its stage's code"
