#!/usr/bin/env bash
# Workshop mode (docs/workshop.md): scripts/workshop.py does the work (bash scripts/workshop.sh
# --help). This entry point stays for the commands that call it: README.md, docs/workshop.md,
# the workshop-<name> targets, the ./workshop script of every copy, the ctest label workshop.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/workshop.py" "$@"
