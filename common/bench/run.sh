#!/usr/bin/env bash
# The benchmark suite: common/bench/run.py (python3, standard library) does the work;
# `common/bench/run.sh --help` says what it runs and prints.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/run.py" "$@"
