#!/usr/bin/env bash
# The tests: build the `dev` preset and run every ctest label (unit, stage, lab, ...).
# Arguments are passed on to ctest, e.g. `bash scripts/test.sh -L unit`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh
cmake --preset dev
cmake --build --preset dev -j2

# Editors and clang-tidy look for the compile database at the root.
if [[ ! -e compile_commands.json && ! -L compile_commands.json ]]; then
  ln -s build/dev/compile_commands.json compile_commands.json
fi

ctest --preset dev "$@"
