#!/usr/bin/env bash
# bench/map_bench.sh [BUILD_DIR] [RUNS]: how long hwcov takes to map a trace
# of a program with large DWARF onto source, against addr2line resolving the
# same addresses. Not a test: it prints timings (median of RUNS, default 5).
#
# The program is hwcov itself (RelWithDebInfo: some 8 MB of .debug_info,
# Boost and libstdc++ templates), traced by the soft backend running
# `hwcov report --help`. TARGET=/path/to/binary TARGET_ARGS="..." trace
# another program instead.
#
#   hwcov report        decode the trace, read the binary's DWARF (line
#                       tables, functions, inlined copies), scan its branches,
#                       map every line, write the summary: a cold process.
#   hwcov report x2     the same trace twice in one process: the second
#                       mapping reuses the DWARF cached by build id.
#   addr2line -f -i     binutils, each distinct executed instruction address.
#   llvm-addr2line      the same, LLVM's symbolizer (if installed).
#   addr2line, all rows every address the line table has a row for: what a
#                       per-address mapper would resolve to list unexecuted
#                       lines too, as a coverage report must.
set -euo pipefail

build=${1:-build}
runs=${2:-5}
hwcov=$(realpath "$build/tools/hwcov")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

target=${TARGET:-$hwcov}
read -r -a target_args <<< "${TARGET_ARGS:-report --help}"
cp "$target" "$work/target"  # a stable copy: a rebuild must not change it under the trace

"$hwcov" record --backend soft -o "$work/trace.data" -- "$work/target" "${target_args[@]}" \
  > /dev/null 2> "$work/record.log"

# The distinct executed addresses of the target, as link-time addresses:
# runtime address - mapping start + file offset (text segment: vaddr = offset).
read -r start pgoff < <(perf script -f --show-mmap-events --itrace= -i "$work/trace.data" 2>/dev/null |
  awk -v t="$work/target" '/PERF_RECORD_MMAP2/ && $NF == t && /r-xp/ {
    match($0, /\[0x[0-9a-f]+\(/); s = substr($0, RSTART + 1, RLENGTH - 2);
    match($0, /@ 0x[0-9a-f]+/); o = substr($0, RSTART + 2, RLENGTH - 2); print s, o; exit }')
"$hwcov" decode --list-insns "$work/trace.data" 2> /dev/null |
  awk -v s="$start" -v o="$pgoff" '
    function hex(h,   i, v, c) { v = 0; h = tolower(h); sub(/^0x/, "", h);
      for (i = 1; i <= length(h); i++) { c = index("0123456789abcdef", substr(h, i, 1)) - 1; v = v * 16 + c } return v }
    BEGIN { base = hex(s); off = hex(o) }
    { a = hex($1) - base + off; if (a >= off) printf "0x%x\n", a }' | sort -u > "$work/addresses"

median() {  # median wall time in seconds of running "$@" $runs times
  local times=()
  for ((i = 0; i < runs; i++)); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" > /dev/null 2>&1
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] }'
}

debug_info=$(readelf -S -W "$work/target" | sed -n 's/.*\.debug_info *PROGBITS *[0-9a-f]* [0-9a-f]* \([0-9a-f]*\).*/\1/p')
debug_info=$((16#${debug_info:-0}))
echo "target: $target ($(stat -c %s "$work/target") bytes, .debug_info ${debug_info:-?} bytes)"
echo "trace:  $(grep -o 'recorded [0-9,]* instructions' "$work/record.log"), $(wc -l < "$work/addresses") distinct addresses in the target"
echo "median of $runs runs:"
printf '  %-28s %s s\n' "hwcov report" "$(median "$hwcov" report "$work/trace.data")"
one=$(median "$hwcov" report "$work/trace.data")
two=$(median "$hwcov" report "$work/trace.data" "$work/trace.data")
printf '  %-28s %s s (second mapping: %.3f s)\n' "hwcov report, trace x2" "$two" "$(echo "$two - $one" | bc)"
printf '  %-28s %s s\n' "addr2line -f -i" "$(median sh -c "addr2line -f -i -e '$work/target' < '$work/addresses'")"
objdump --dwarf=decodedline "$work/target" 2> /dev/null |
  awk '$3 ~ /^0x[0-9a-f]+$/ { print $3 } $4 ~ /^0x[0-9a-f]+$/ && $3 !~ /^0x/ { print $4 }' | sort -u > "$work/rows"
if command -v llvm-addr2line > /dev/null; then
  printf '  %-28s %s s\n' "llvm-addr2line -f -i" \
    "$(median sh -c "llvm-addr2line -f -i -e '$work/target' < '$work/addresses'")"
fi
printf '  %-28s %s s (%s addresses)\n' "addr2line -f -i, all rows" \
  "$(median sh -c "addr2line -f -i -e '$work/target' < '$work/rows'")" "$(wc -l < "$work/rows")"
