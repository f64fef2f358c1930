#!/usr/bin/env bash
# Installs the Debian packages sippacer builds, tests and demos with, when
# missing. Used by tests/run.sh and examples/demo.sh.
set -euo pipefail
packages=(cmake ninja-build g++ pkg-config python3
          libsofia-sip-ua-dev libboost-dev libabsl-dev catch2 libbenchmark-dev
          sip-tester libpq-dev postgresql
          clang libclang-rt-14-dev    # libFuzzer and the sanitizer runtimes for build-fuzz
          clang-format)               # the tree is kept formatted (tests/run.sh checks)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
