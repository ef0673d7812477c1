#!/usr/bin/env bash
# Soft tracer: the default filter (the program's own code single-stepped,
# libc and libstdc++ running free) against tracing everything, on a C++
# program that spends most of its instructions in those libraries
# (bench/programs/stl_heavy.cc). Not a test: it takes a minute or two.
# Usage: bench/soft_filter.sh [N]   (N: the program's work size, default 200)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${HWCOV_BUILD_DIR:-$top/build}
hwcov=$build/tools/hwcov
[ -x "$hwcov" ] || { echo "build hwcov first (tools/build.sh)" >&2; exit 1; }
n=${1:-200}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
g++ -O0 -g "$top/bench/programs/stl_heavy.cc" -o "$work/stl_heavy"

# Runs hwcov record; prints its statistics line; leaves "instructions seconds" in $work/$1.
run() {
  local label=$1; shift
  local line
  line=$("$hwcov" record --backend soft --baseline "$@" -o "$work/$label.data" -- \
           "$work/stl_heavy" "$n" 2>&1 >/dev/null | grep 'recorded')
  echo "$label: ${line#hwcov: }"
  echo "$line" | sed -E 's/.*recorded ([0-9,]+) instructions.* in ([0-9.]+) s;.*/\1 \2/' | tr -d ',' \
    > "$work/$label"
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; N=$n"
run filtered
run all-code --all-code
read -r f_insns f_s < "$work/filtered"
read -r a_insns a_s < "$work/all-code"
echo "speedup_filtered_vs_all=$(echo "scale=1; $a_s / $f_s" | bc)x" \
     "traced_instructions_all_vs_filtered=$(echo "scale=1; $a_insns / $f_insns" | bc)x"
