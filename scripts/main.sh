#!/usr/bin/env bash
# The project's main job. Until stage 5 (`hang_ten serve`) exists, that is the runtime's
# benchmark suite: build the `release` preset and run common/bench/run.sh.
# Arguments are passed on to run.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh
cmake --preset release
cmake --build --preset release -j2

export HANGTEN_BUILD_DIR="$PWD/build/release"
export HANGTEN_BENCH_DIR="$HANGTEN_BUILD_DIR/bench"

if [[ ! -f common/bench/run.sh ]]; then
  echo "main.sh: common/bench/run.sh does not exist yet; the build is in $HANGTEN_BUILD_DIR" >&2
  exit 1
fi
exec bash common/bench/run.sh "$@"
