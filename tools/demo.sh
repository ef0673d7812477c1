#!/usr/bin/env bash
# The README's first command: installs what is missing, builds hwcov, traces
# the bundled example (examples/primes.c, an ordinary -O0 -g build) and prints
# its line coverage. Extra arguments replace the example's arguments.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/tools/build.sh"
build=${HWCOV_BUILD_DIR:-$top/build}
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--twins 60)
cd "$top"
exec "$build/tools/hwcov" run --lcov "$build/primes.info" -- "$build/examples/primes" "${args[@]}"
