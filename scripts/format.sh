#!/usr/bin/env bash
# clang-format over the repository's C++ (.clang-format at the root; Debian 12's clang-format 14).
#
#   scripts/format.sh           formats every tracked .cpp/.hpp file in place
#   scripts/format.sh --check   changes nothing; lists the files that are not formatted and fails
#                               (the ctest test lint.ClangFormat, label `lint`)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

format=${CLANG_FORMAT:-clang-format}
if ! command -v "$format" >/dev/null 2>&1; then
  echo "format.sh: $format not found (Debian: apt-get install clang-format)" >&2
  exit 2
fi

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
else
  mapfile -t files < <(find . -path ./build -prune -o \( -name '*.cpp' -o -name '*.hpp' \) -print | sort)
fi

case "${1:-}" in
  --check)
    bad=()
    for f in "${files[@]}"; do
      if ! "$format" --dry-run --Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
    done
    if [[ ${#bad[@]} -gt 0 ]]; then
      printf 'not formatted: %s\n' "${bad[@]}" >&2
      echo "format.sh: ${#bad[@]} of ${#files[@]} files differ from .clang-format; run scripts/format.sh" >&2
      exit 1
    fi
    echo "format.sh: ${#files[@]} files formatted"
    ;;
  "")
    "$format" -i "${files[@]}"
    echo "format.sh: formatted ${#files[@]} files"
    ;;
  *)
    echo "usage: scripts/format.sh [--check]" >&2
    exit 2
    ;;
esac
