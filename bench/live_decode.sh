#!/bin/bash
# Decoding while recording at scale (docs/benchmarks.md, "Decoding while
# recording"): `hwcov run --backend emu` on bench/programs/pt_dense.c, a loop
# of indirect calls that makes dense Intel PT, without -o (nothing written:
# the trace is decoded as it is produced), against record-then-report of the
# same deterministic program. Prints the PT bytes produced, the peak disk
# space hwcov used, hwcov's peak RSS, the times, and whether the two lcov
# files are identical.
#
#   bench/live_decode.sh [BUILD_DIR] [N]     N: millions of loop iterations
#                                            (default 150: about 1.1 GB of PT)
#
# Disk use is measured by polling, every 0.2 s, `du -sk` (allocated blocks,
# so the holes the emu converter punches into its stream files count as
# freed) of the only places hwcov writes during `run`: its TMPDIR, its emu
# stream directory (HWCOV_EMU_DIR, under /dev/shm) and the working directory,
# each private to this script. RSS: VmHWM of the hwcov process itself, read
# from /proc at the same polls (QEMU is a separate process, reported apart).
set -euo pipefail
build=${1:-build}
n=${2:-150}
hwcov=$(realpath "$build/tools/hwcov")
work=$(mktemp -d "${TMPDIR:-/tmp}/hwcov-live-bench.XXXXXX")
shm=$(mktemp -d /dev/shm/hwcov-live-bench.XXXXXX)
trap 'rm -rf "$work" "$shm"' EXIT
mkdir -p "$work/tmp" "$work/cwd"
cp "$(dirname "$0")/programs/pt_dense.c" "$work/"
cc -O2 -g -o "$work/pt_dense" "$work/pt_dense.c"

# Runs "$@" in $work/cwd with the private TMPDIR and emu directory, polling
# disk use and RSS; sets peak_kb, hwcov_hwm_kb, qemu_hwm_kb, seconds.
measure() {
  local start end pid kb hwm q
  peak_kb=0 hwcov_hwm_kb=0 qemu_hwm_kb=0
  start=$(date +%s.%N)
  (cd "$work/cwd" && TMPDIR="$work/tmp" HWCOV_EMU_DIR="$shm" exec "$@") &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    kb=$( (du -sk "$work/tmp" "$work/cwd" "$shm" 2>/dev/null || true) | awk '{s += $1} END {print s + 0}')
    if ((kb > peak_kb)); then peak_kb=$kb; fi
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    if ((${hwm:-0} > hwcov_hwm_kb)); then hwcov_hwm_kb=$hwm; fi
    for q in $(pgrep -P "$pid" 2>/dev/null); do
      hwm=$(awk '/VmHWM/ {print $2}' "/proc/$q/status" 2>/dev/null || echo 0)
      if ((${hwm:-0} > qemu_hwm_kb)); then qemu_hwm_kb=$hwm; fi
    done
    sleep 0.2
  done
  wait "$pid"
  end=$(date +%s.%N)
  seconds=$(echo "$end - $start" | bc)
}

common=(--backend emu --no-return-compression -q --root "$work")
echo "pt_dense $n: decode while recording (hwcov run, no -o)"
measure "$hwcov" run "${common[@]}" --lcov "$work/live.info" -- "$work/pt_dense" "$n" \
  2> "$work/live.err" > /dev/null || { cat "$work/live.err"; exit 1; }
grep -o 'recorded.*' "$work/live.err" | head -1
live_s=$seconds
printf '  time %.1f s, peak disk used %d KiB, hwcov peak RSS %d KiB, QEMU peak RSS %d KiB\n' \
  "$live_s" "$peak_kb" "$hwcov_hwm_kb" "$qemu_hwm_kb"

echo "pt_dense $n: record, then report (the baseline)"
measure "$hwcov" record --backend emu --no-return-compression -o "$work/cwd/big.data" \
  -- "$work/pt_dense" "$n" 2> "$work/record.err" > /dev/null
record_s=$seconds
record_peak=$peak_kb
record_hwm=$hwcov_hwm_kb
grep -o 'recorded.*' "$work/record.err" | head -1
measure "$hwcov" report -q --root "$work" --lcov "$work/after.info" "$work/cwd/big.data" \
  > /dev/null
report_s=$seconds
printf '  time %.1f s + %.1f s, peak disk used %d KiB, hwcov peak RSS %d KiB record, %d KiB report\n' \
  "$record_s" "$report_s" "$record_peak" "$record_hwm" "$hwcov_hwm_kb"
printf '  decode while recording / record-then-report, time: %.2f\n' \
  "$(echo "$live_s / ($record_s + $report_s)" | bc -l)"
if cmp -s "$work/live.info" "$work/after.info"; then
  echo "coverage: identical lcov ($(grep -c '^DA:' "$work/live.info") lines, $(grep -c '^BRDA:' "$work/live.info") branch outcomes)"
else
  echo "coverage: DIFFERENT"
  diff "$work/live.info" "$work/after.info" | head -20
  exit 1
fi
