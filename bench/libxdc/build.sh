#!/usr/bin/env bash
# bench/libxdc/build.sh LIBXDC_SRC [OUT_DIR]: builds libxdc (static, as its
# Makefile does: -Ofast -flto) and the harness against it, in OUT_DIR
# (default /tmp/xdc/build), never in the repository or in LIBXDC_SRC.
# Prints the harness's path on the last line.
#
# libxdc needs capstone v4: the library (libcapstone.so.4, Debian's
# libcapstone4) and its headers. CAPSTONE_INCLUDE (default: /tmp/xdc/capstone/usr/include,
# then /usr/include) is where capstone/capstone.h is; without the -dev package:
#   cd /tmp/xdc && apt-get download libcapstone-dev && dpkg -x libcapstone-dev*.deb capstone
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:?usage: build.sh LIBXDC_SRC [OUT_DIR]}
out=${2:-/tmp/xdc/build}
src=$(cd "$src" && pwd)
[[ -f $src/libxdc.h && -f $src/src/decoder.c ]] || { echo "build.sh: $src is not a libxdc source tree" >&2; exit 2; }
inc=${CAPSTONE_INCLUDE:-}
if [[ -z $inc ]]; then
  for d in /tmp/xdc/capstone/usr/include /usr/include; do
    [[ -f $d/capstone/capstone.h ]] && { inc=$d; break; }
  done
fi
[[ -n $inc && -f $inc/capstone/capstone.h ]] || { echo "build.sh: capstone headers not found (set CAPSTONE_INCLUDE)" >&2; exit 2; }
lib=/usr/lib/x86_64-linux-gnu/libcapstone.so.4
[[ -f $lib ]] || lib=$(ldconfig -p | awk '/libcapstone.so.4 /{print $NF; exit}')
[[ -f $lib ]] || { echo "build.sh: libcapstone.so.4 not found" >&2; exit 2; }

mkdir -p "$out"
rm -rf "$out/libxdc"
cp -r "$src" "$out/libxdc"
rev=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || cat "$src/.revision" 2>/dev/null || echo unknown)
# libxdc's own Makefile and flags (CFLAGS from the environment are appended to its own).
( cd "$out/libxdc" && CFLAGS="-I$inc" make -s libxdc.a >/dev/null )
# The harness, linked with libxdc's LTO objects (as libxdc's readme recommends).
gcc -std=gnu11 -Ofast -flto -Wall -Wextra -Wno-unused-parameter -I"$out/libxdc" -I"$inc" \
  "$here/harness.c" "$out/libxdc/libxdc.a" "$lib" -o "$out/harness" -Wl,-rpath,"$(dirname "$lib")"
echo "libxdc $rev built in $out/libxdc (capstone headers $inc, library $lib)" >&2
echo "$out/harness"
