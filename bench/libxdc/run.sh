#!/usr/bin/env bash
# bench/libxdc/run.sh LIBXDC_SRC [TRACE] [REF_TRACE]: libxdc against hwcov's
# decoder on the same trace, in one script. See README.md in this folder.
#
#   LIBXDC_SRC  a libxdc source tree (github.com/nyx-fuzz/libxdc); built with
#               its own flags into $WORK (default /tmp/xdc/build), not here
#   TRACE       a perf.data recorded for libxdc: --no-return-compression
#               --tnt8-only (default /tmp/xdc/gzip-xdc.data)
#   REF_TRACE   optional: a trace libxdc cannot decode (hwcov's default
#               encoding: TNT-64, compressed returns) of the same execution,
#               for hwcov's figure on it as well
#
# ROUNDS (default 2) rounds, each: the harness (N=5 fresh and 5 warm
# libxdc decodes), then `bench/decode --hwcov-only TRACE` (5 interleaved
# runs of hwcov -j1 and -jN in child processes). Figures: the fastest CPU time
# of all runs of each, as MB (10^6 bytes of PT) per CPU-second; the ratio is
# hwcov -j1 over libxdc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:?usage: run.sh LIBXDC_SRC [TRACE] [REF_TRACE]}
trace=${2:-/tmp/xdc/gzip-xdc.data}
ref=${3:-}
work=${WORK:-/tmp/xdc/build}
rounds=${ROUNDS:-2}
runs=${RUNS:-5}
decode=${DECODE:-$here/../../build/bench/decode}
[[ -f $trace ]] || { echo "run.sh: no trace $trace" >&2; exit 2; }
[[ -x $decode ]] || { echo "run.sh: no $decode (cmake --build build --target decode)" >&2; exit 2; }

harness=$("$here/build.sh" "$src" "$work" | tail -1)
echo "run.sh: trace $trace ($(stat -c %s "$trace") bytes); libxdc from $src; hwcov: $decode ($(stat -c %y "$decode" | cut -d. -f1)); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

fastest() { sort -g | head -1; }
xdc_fresh=() xdc_warm=() hw_j1=() hw_jn=()
mb=
for ((r = 1; r <= rounds; ++r)); do
  echo "== round $r: libxdc (harness -n $runs)"
  out=$("$harness" -n "$runs" "$trace") || { echo "$out"; echo "run.sh: the harness failed (see above): no libxdc figure" >&2; exit 1; }
  echo "$out" | grep -v '^libxdc_mb='
  last=$(echo "$out" | grep '^libxdc_mb=')
  mb=$(echo "$last" | sed 's/.*libxdc_mb=\([0-9.]*\).*/\1/')
  xdc_fresh+=("$(echo "$last" | sed 's/.*libxdc_fresh_cpu_s=\([0-9.]*\).*/\1/')")
  xdc_warm+=("$(echo "$last" | sed 's/.*libxdc_warm_cpu_s=\([0-9.]*\).*/\1/')")
  echo "== round $r: hwcov ($decode --hwcov-only)"
  out=$("$decode" --hwcov-only "$trace")
  echo "$out" | grep -v ' inf MB/s'  # the rows --hwcov-only does not run
  line=$(echo "$out" | grep '^fastest of')
  hw_j1+=("$(echo "$line" | sed 's/.*-j1 \([0-9.]*\) cpu-s.*/\1/')")
  hw_jn+=("$(echo "$line" | sed 's/.*; -j[0-9]* \([0-9.]*\) cpu-s.*/\1/')")
done

f=$(printf '%s\n' "${xdc_fresh[@]}" | fastest)
w=$(printf '%s\n' "${xdc_warm[@]}" | fastest)
h=$(printf '%s\n' "${hw_j1[@]}" | fastest)
hn=$(printf '%s\n' "${hw_jn[@]}" | fastest)
echo "== summary: $trace, $mb MB of PT; fastest CPU time over $rounds round(s)"
awk -v mb="$mb" -v f="$f" -v w="$w" -v h="$h" -v hn="$hn" -v n="$(nproc)" 'BEGIN {
  printf "hwcov -j1                 %7.3f cpu-s %8.1f MB/cpu-s\n", h, mb / h
  printf "hwcov -j%d (CPU summed)    %7.3f cpu-s %8.1f MB/cpu-s\n", n, hn, mb / hn
  printf "libxdc fresh decoder      %7.3f cpu-s %8.1f MB/cpu-s\n", f, mb / f
  printf "libxdc warm decoder       %7.3f cpu-s %8.1f MB/cpu-s\n", w, mb / w
  printf "ratio hwcov-j1/libxdc: %.2fx against a fresh libxdc decoder, %.2fx against a warm one\n", f / h, w / h
}'

if [[ -n $ref ]]; then
  echo "== reference: hwcov on $ref (the default encoding, which libxdc cannot decode)"
  out=$("$decode" --hwcov-only "$ref")
  echo "$out" | grep -v ' inf MB/s'
  rmb=$(echo "$out" | sed -n 's/.* \([0-9.]*\) MB of Intel PT.*/\1/p')
  rh=$(echo "$out" | grep '^fastest of' | sed 's/.*-j1 \([0-9.]*\) cpu-s.*/\1/')
  awk -v mb="$rmb" -v h="$rh" -v tmb="$mb" -v th="$h" 'BEGIN {
    printf "hwcov -j1 on the reference trace: %.3f cpu-s, %.1f MB/cpu-s (%.1f MB); CPU time on TRACE / on REF_TRACE: %.2f\n", h, mb / h, mb, th / h }'
fi
