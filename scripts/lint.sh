#!/usr/bin/env bash
# clang-tidy (.clang-tidy at the root; Debian 12's clang-tidy 14) on the C++ files changed since
# the branch left main, or with --all on every file: scripts/lint.py says which and how.
#
#   scripts/lint.sh           the changed files (the ctest test lint.ClangTidy, label `lint`)
#   scripts/lint.sh --all     every file of build/dev's compile database
#   scripts/lint.sh FILE...   these files
exec python3 "$(dirname "${BASH_SOURCE[0]}")/lint.py" "$@"
