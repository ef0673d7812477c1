#!/usr/bin/env bash
# The README's first command: installs what is missing, builds what the demo
# runs (hwcov, its QEMU plugin and the example: not the tests), traces the
# bundled example (examples/primes.c, an ordinary -O0 -g build) and prints
# its line coverage. Extra arguments replace the example's arguments.
# tools/test.sh later builds the rest in the same build directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
HWCOV_TARGETS="hwcov hwcov_qemu_plugin primes" bash "$top/tools/build.sh"
build=${HWCOV_BUILD_DIR:-$top/build}
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--twins 60)
cd "$top"
exec "$build/tools/hwcov" run --lcov "$build/primes.info" -- "$build/examples/primes" "${args[@]}"
