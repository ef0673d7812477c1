#!/usr/bin/env bash
# Configures and builds hwcov into build/ (or $HWCOV_BUILD_DIR) after making
# sure the Debian packages it needs are installed. Extra arguments go to cmake;
# HWCOV_TARGETS="a b" builds only those targets (tools/demo.sh), default all.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/tools/install-deps.sh"
build=${HWCOV_BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
targets=()
for t in ${HWCOV_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
