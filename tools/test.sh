#!/usr/bin/env bash
# The README's second command, and what CI runs: installs what is missing,
# builds hwcov and its tests, runs every test, checks the Debian package
# (tools/package_test.sh), then builds the same tests
# with AddressSanitizer + UndefinedBehaviorSanitizer and runs them again.
# HWCOV_SKIP_SANITIZE=1 skips the sanitizer pass (for quick local runs).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

HWCOV_BUILD_DIR="$top/build" bash "$top/tools/build.sh"
(cd "$top/build" && ctest --output-on-failure -j "$jobs")
# The Debian package of that build, installed into a scratch root and run.
bash "$top/tools/package_test.sh" "$top/build"

if [ "${HWCOV_SKIP_SANITIZE:-0}" != 1 ]; then
  # -O1, as ASan's documentation advises, and line tables only: half the
  # compile time of -O2 -g with the sanitizers' instrumentation.
  HWCOV_BUILD_DIR="$top/build-asan" bash "$top/tools/build.sh" -DHWCOV_SANITIZE=ON \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
  (cd "$top/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j "$jobs")
fi
