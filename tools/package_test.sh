#!/usr/bin/env bash
# The Debian package as a user gets it: builds it with CPack from a built
# tree, unpacks it into a scratch root (dpkg -x, no root needed) and checks
#   - its Depends name the Debian package of every library the installed
#     binary and plugin link (dpkg -S on what ldd resolves);
#   - the installed hwcov reports its version and finds its QEMU plugin in the
#     package (not the build tree), and its coverage of examples/primes with
#     the emu and soft backends agrees with the program's own output and with
#     the build tree's hwcov;
#   - `man -l` renders the installed man page, and groff has no warning.
# tools/test.sh runs it after the tests; alone:
#   tools/package_test.sh [BUILD_DIR]      (default build/, already built)
# HWCOV_KEEP_PACKAGE_TEST=1 keeps the scratch directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
work=$(mktemp -d /tmp/hwcov-package-test.XXXXXX)
trap '[ -n "${HWCOV_KEEP_PACKAGE_TEST:-}" ] || rm -rf "$work"' EXIT
fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
step() { echo "package_test: $*"; }

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || fail "no CMAKE_PROJECT_VERSION in $build/CMakeCache.txt"
for f in tools/hwcov tools/hwcov-qemu-plugin.so man/hwcov.1.gz examples/primes; do
  [ -e "$build/$f" ] || fail "$build/$f is not built (cmake --build $build)"
done

step "cpack -G DEB"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb="$work/out/hwcov_${version}_amd64.deb"
[ -f "$deb" ] || fail "cpack wrote no $deb"
step "$(basename "$deb"): $(stat -c %s "$deb") bytes"
dpkg-deb -x "$deb" "$work/root"
root=$work/root
bin=$root/usr/bin/hwcov
plugin=$(find "$root/usr/lib" -name hwcov-qemu-plugin.so)
[ -x "$bin" ] || fail "no usr/bin/hwcov in the package"
[ -n "$plugin" ] || fail "no hwcov-qemu-plugin.so under usr/lib in the package"
outside=$(dpkg-deb -c "$deb" | awk '{print $6}' | grep -v '^\./usr/' || true)
[ -z "$outside" ] || fail "files outside /usr: $outside"
if readelf -d "$bin" | grep -Eq 'R(UN)?PATH'; then fail "installed hwcov has an RPATH"; fi

step "Depends against dpkg -S"
depends=$(dpkg-deb -f "$deb" Depends)
depend_names=$(tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/ .*//')
for so in $(ldd "$bin" "$plugin" | awk '/=> \//{print $3}' | sort -u); do
  real=$(realpath "$so")
  owner=$(dpkg -S "$real" 2>/dev/null || dpkg -S "${real/#\/usr\/lib//lib}" 2>/dev/null ||
    dpkg -S "${real/#\/lib//usr/lib}" 2>/dev/null) || fail "no Debian package owns $real"
  pkg=${owner%%:*}
  grep -qxF "$pkg" <<<"$depend_names" || fail "$so is in $pkg, which Depends lacks: $depends"
done
step "Depends: $depends"

[ "$("$bin" --version)" = "hwcov $version" ] || fail "installed hwcov --version: $("$bin" --version)"

# The example as the README runs it. Its own output gives the expected
# counts: is_prime runs once per n in 2..LIMIT and once more per prime n
# (the twin check), usage never, main once.
cd "$work"
limit=60
"$build/examples/primes" --twins $limit >expected.out
primes=$(sed -n "s/^\([0-9]*\) primes up to $limit$/\1/p" expected.out)
twins=$(grep -c '^twin primes:' expected.out)
src=$top/examples/primes.c
twin_line=$(grep -n 'printf("twin primes' "$src" | cut -d: -f1)
usage_line=$(grep -n 'fprintf(stderr, "usage' "$src" | cut -d: -f1)
# The program's stdout is byte for byte its own (hwcov's summary goes to stderr).
check_stdout() {
  cmp -s expected.out "$1" || fail "the program's stdout under the installed hwcov differs ($1)"
}
check_lcov() {  # INFO: what the example's output says about it
  local info=$1
  grep -qx "FNDA:$((limit - 1 + primes)),is_prime" "$info" || fail "$info: is_prime entries"
  grep -qx "FNDA:0,usage" "$info" || fail "$info: usage entries"
  grep -qx "FNDA:1,main" "$info" || fail "$info: main entries"
  grep -qx "DA:$twin_line,$twins" "$info" || fail "$info: line $twin_line (twin printf) count"
  grep -qx "DA:$usage_line,0" "$info" || fail "$info: line $usage_line (usage) count"
}

# The emu backend, through a qemu-x86_64 wrapper that logs the plugin hwcov
# loads: it must be the package's, not the build tree's.
qemu=$(command -v qemu-x86_64 || true)
if [ -n "$qemu" ]; then
  step "installed hwcov, emu backend"
  printf '#!/bin/sh\necho "$@" >>%s/qemu-args.log\nexec %s "$@"\n' "$work" "$qemu" >qemu-wrapper
  chmod +x qemu-wrapper
  HWCOV_QEMU=$work/qemu-wrapper "$bin" run --backend emu --root "$top" --lcov emu.info -- \
    "$build/examples/primes" --twins $limit >emu.out 2>emu.err || { cat emu.err >&2; fail "emu run"; }
  check_stdout emu.out
  grep -q -- "-plugin $plugin," qemu-args.log || fail "qemu did not load $plugin: $(cat qemu-args.log)"
  check_lcov emu.info
else
  echo "package_test: qemu-x86_64 not installed (qemu-user): emu backend not checked" >&2
fi

step "installed hwcov, soft backend, against the build tree's"
"$bin" run --backend soft --root "$top" --lcov soft.info -- "$build/examples/primes" --twins $limit \
  >soft.out 2>soft.err || { cat soft.err >&2; fail "soft run"; }
check_stdout soft.out
check_lcov soft.info
"$build/tools/hwcov" run --backend soft --root "$top" --lcov tree.info -- "$build/examples/primes" --twins $limit \
  >/dev/null 2>&1 || fail "build tree hwcov run"
diff <(grep -v '^SF:' soft.info) <(grep -v '^SF:' tree.info) >&2 ||
  fail "installed and build-tree hwcov disagree"

step "man -l"
page=$(find "$root/usr/share/man" -name 'hwcov.1*')
[ -n "$page" ] || fail "no man page in the package"
MANWIDTH=80 man -l "$page" >man.txt 2>man.err || { cat man.err >&2; fail "man -l $page"; }
[ ! -s man.err ] || { cat man.err >&2; fail "man -l printed warnings"; }
for want in "HWCOV(1)" "hwcov run" "hwcov report" "hwcov dump" "70: hwcov itself failed" "--lcov FILE" "--backend B" "hwcov $version"; do
  grep -qF -- "$want" man.txt || fail "the rendered man page lacks '$want'"
done
zcat "$page" | groff -man -ww -z 2>groff.err
[ ! -s groff.err ] || { cat groff.err >&2; fail "groff warnings in the man page"; }
step "OK"
