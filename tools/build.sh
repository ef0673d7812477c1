#!/usr/bin/env bash
# Configures and builds hwcov into build/ (or $HWCOV_BUILD_DIR) after making
# sure the Debian packages it needs are installed. Extra arguments go to cmake.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/tools/install-deps.sh"
build=${HWCOV_BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
