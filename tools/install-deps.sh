#!/usr/bin/env bash
# Installs the Debian packages sippacer builds, tests and demos with, when
# missing. Used by tests/run.sh and examples/demo.sh.
set -euo pipefail
packages=(cmake ninja-build g++ pkg-config python3
          libsofia-sip-ua-dev libboost-dev libabsl-dev catch2 libbenchmark-dev
          sip-tester libpq-dev postgresql
          redis-server libhiredis-dev # the fleet: shared windows and states (docs/fleet.md)
          libjemalloc-dev             # the daemon's allocator (proxy/CMakeLists.txt)
          kamailio                    # a proxy in front of the daemon in the tests
          kamailio-tls-modules        # ... and a TLS carrier behind it
          dnsmasq-base openssl        # a DNS server for trunk names; test certificates
          prometheus                  # promtool: the alert rules' tests, the /metrics lint
          clang libclang-rt-14-dev    # libFuzzer and the sanitizer runtimes for build-fuzz
          clang-format                # the tree is kept formatted (tests/run.sh checks)
          autoconf automake libtool dpkg-dev libssl-dev   # sofia-sip with our patches (third_party/sofia-sip)
          file groff-base man-db systemd logrotate)        # the .deb: dpkg-shlibdeps, man pages, unit check, rotation
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"

# third_party/sofia-sip/build.sh builds from Debian's source package.
sources=/etc/apt/sources.list.d/sippacer-deb-src.sources
need_update=0
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "install-deps: adding a deb-src entry for Debian's sofia-sip source ($sources)"
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$codename" | $sudo_cmd tee "$sources" >/dev/null
  need_update=1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  [ "$need_update" -eq 0 ] || $sudo_cmd apt-get update -qq
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
