#!/usr/bin/env bash
# The project's main job: the HangTen service, `hang_ten serve` of stage 5, with the memory stash.
# Builds the `release` preset (only what the service needs), then runs the service in the
# foreground on 127.0.0.1:4000 until Ctrl-C (SIGINT) or SIGTERM. Arguments go to `hang_ten serve`
# (bash scripts/main.sh --listen 127.0.0.1:8080; --help lists them all).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh
cmake --preset release >/dev/null
echo "main.sh: building hang_ten (release preset, build/release)"
cmake --build --preset release -j2 --target hang_ten_05_one_last_thing

listen=127.0.0.1:4000
args=("$@")
for ((i = 0; i < ${#args[@]}; ++i)); do
  case "${args[i]}" in
    --listen) listen="${args[i + 1]:-$listen}" ;;
    --listen=*) listen="${args[i]#--listen=}" ;;
  esac
done
cat <<TRY
main.sh: starting the service; from another terminal, try:
  curl -s --json '{"login":"eric"}' http://$listen/sessions
  curl -s --json '{"token":"<the token it gave>"}' http://$listen/sessions/eric/validate
  curl -s http://$listen/metrics
TRY
exec build/release/05_one_last_thing/hang_ten serve "$@"
