#!/usr/bin/env bash
# Installs the Debian 12 packages the build needs, only those that are missing.
# Idempotent and silent when everything is there. Runs as root, or through sudo.
set -euo pipefail

packages=(
  cmake
  g++
  ninja-build
  pkg-config
  libfmt-dev
  libgtest-dev
  libgmock-dev
  googletest
  libbenchmark-dev
  nlohmann-json3-dev
  libedit-dev
  libcli11-dev   # the console's command line: flags, options and subcommands (header-only)
  libboost-dev
  zlib1g-dev     # otp::dist: compressed terms of the External Term Format
  libssl-dev     # otp::dist: MD5 for the distribution handshake (OpenSSL's libcrypto)
  graphviz
  clang-format
  clang-tidy     # scripts/lint.sh, the ctest test lint.ClangTidy (.clang-tidy)
  redis-server   # the `redis` tests start their own server on a free loopback port
  erlang-base    # the `dist` tests start their own epmd and Erlang nodes (erl)
  redis-tools    # redis-benchmark and redis-cli, for common/bench/run.sh redis
  curl           # common/bench/run.sh http creates its sessions with it (wrk and nginx: see there)
  clang               # scripts/fuzz.sh: libFuzzer is clang's,
  libclang-rt-14-dev  # with its sanitizer runtimes
  inotify-tools  # scripts/workshop.sh watch: tests again when a file of a workshop copy changes
  chromium          # the `browser` tests and the observer's pictures: a real headless browser,
  chromium-driver   # driven through WebDriver
  python3-selenium  # by the test scripts (run with /usr/bin/python3)
)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for pkg in "${packages[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "deps.sh: missing packages: ${missing[*]}; run this script as root" >&2
  exit 1
fi

echo "deps.sh: installing ${missing[*]}"
# Wait for a concurrent apt/dpkg (up to 10 minutes) instead of failing on its lock.
apt_opts=(-o DPkg::Lock::Timeout=600 -q)
"${sudo[@]}" apt-get "${apt_opts[@]}" update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
