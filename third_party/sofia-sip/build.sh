#!/usr/bin/env bash
# Builds sofia-sip from Debian's own source package (the version the stock
# libsofia-sip-ua0 is built from, with Debian's patches) plus ours
# (patches/, see README.md), and installs it under PREFIX.
#
#   third_party/sofia-sip/build.sh PREFIX
#
# Nothing is rebuilt when PREFIX already holds a build of the same source
# package and patches. Needs a deb-src entry for apt (tools/install-deps.sh
# adds one) and the autotools.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(realpath -m "${1:?usage: build.sh PREFIX}")

version=$(dpkg-query -W -f '${source:Version}' libsofia-sip-ua0)
stamp="$version $(cat "$here"/patches/*.patch "$here/build.sh" | sha256sum | cut -c1-16)"
if [ -f "$prefix/.sippacer-stamp" ] && [ "$(cat "$prefix/.sippacer-stamp")" = "$stamp" ]; then
  echo "sofia-sip: $prefix is up to date ($stamp)"
  exit 0
fi

work="$prefix.src"
rm -rf "$work" "$prefix"
mkdir -p "$work"
(cd "$work" && apt-get source -qq "sofia-sip=$version" >/dev/null 2>&1) ||
  { echo "sofia-sip: 'apt-get source sofia-sip=$version' failed (is there a deb-src entry?)" >&2; exit 1; }
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'sofia-sip-*')
for p in "$here"/patches/*.patch; do
  patch -d "$src" -p1 -s --forward <"$p"
  echo "sofia-sip: applied $(basename "$p")"
done
# Debian's configuration, without the GLib bindings: asserts stay on, as in
# the stock package, so a test that reaches one still fails loudly.
(cd "$src" && autoreconf -fi >"$work/autoreconf.log" 2>&1)
mkdir -p "$src/objs"
(cd "$src/objs" &&
   ../configure --prefix="$prefix" --disable-static --without-glib --with-openssl >"$work/configure.log" 2>&1 &&
   make -j "$(nproc)" >"$work/make.log" 2>&1 &&
   make install >"$work/install.log" 2>&1) ||
  { echo "sofia-sip: build failed, logs in $work" >&2; exit 1; }
echo "$stamp" >"$prefix/.sippacer-stamp"
rm -rf "$work"
echo "sofia-sip: $version with $(ls "$here"/patches/*.patch | wc -l) patches in $prefix"
