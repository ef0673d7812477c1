#!/usr/bin/env bash
# The emu backend's cost (docs/emu-backend.md, docs/benchmarks.md): in one
# run on the same CPU-bound C program, the native time, the time of
# `hwcov record --backend emu` (emulation, plugin and the conversion to
# Intel PT: the whole recording) and their ratio; plain QEMU for reference;
# the trace sizes in bits per instruction; and the soft (ptrace) backend's
# rate on a short prefix of the same run. Not a test: it takes a minute.
#
# Usage: bench/emu_bench.sh [N] [CFLAGS]
#   N       rounds of bench/programs/cpu_bound.c (default 10: 1.75 G instructions at -O0)
#   CFLAGS  default "-O0 -g" (a coverage build); try "-O2 -g"
# Another program: PROGRAM="gzip -9 -c /usr/bin/qemu-x86_64" bench/emu_bench.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${HWCOV_BUILD_DIR:-$top/build}
hwcov=$build/tools/hwcov
[ -x "$hwcov" ] || { echo "build hwcov first (tools/build.sh)" >&2; exit 1; }
command -v qemu-x86_64 >/dev/null || { echo "qemu-x86_64 missing: tools/install-deps.sh" >&2; exit 1; }
n=${1:-10}
cflags=${2:--O0 -g}
work=$(mktemp -d)
shm=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$work" "$shm"' EXIT

if [ -n "${PROGRAM:-}" ]; then
  read -r -a cmd <<< "$PROGRAM"
  cmd[0]=$(command -v "${cmd[0]}")  # qemu-x86_64 does not search $PATH
  label="$PROGRAM"
else
  # shellcheck disable=SC2086
  gcc $cflags "$top/bench/programs/cpu_bound.c" -o "$work/cpu_bound"
  cmd=("$work/cpu_bound" "$n")
  label="bench/programs/cpu_bound.c $cflags, N=$n"
fi

now() { date +%s.%N; }
# Best of 3 wall times of "$@", output discarded.
best() {
  local best=999999 s e t
  for _ in 1 2 3; do
    s=$(now); "$@" >/dev/null 2>&1; e=$(now)
    t=$(echo "$e - $s" | bc -l)
    if (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
  done
  printf '%.3f' "$best"
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "program: $label"
native=$(best "${cmd[@]}")
qemu=$(best qemu-x86_64 "${cmd[@]}")

# The recording, keeping the plugin's files to measure them.
export HWCOV_EMU_DIR=$shm HWCOV_KEEP_EMU_DIR=1
emu_best=999999
for _ in 1 2; do
  rm -rf "${shm:?}"/*
  s=$(now)
  line=$("$hwcov" record --backend emu -o "$work/emu.data" -- "${cmd[@]}" 2>&1 >/dev/null |
         grep 'recorded')
  e=$(now)
  t=$(echo "$e - $s" | bc -l)
  if (( $(echo "$t < $emu_best" | bc -l) )); then emu_best=$t; fi
done
unset HWCOV_EMU_DIR HWCOV_KEEP_EMU_DIR
insns=$(echo "$line" | sed -E 's/.*recorded ([0-9,]+) instructions.*/\1/' | tr -d ',')
pt_bytes=$(echo "$line" | sed -E 's/.*; ([0-9,]+) bytes of Intel PT.*/\1/' | tr -d ',')
# Words in the plugin's thread streams: the header's third 64-bit field.
words=0
for f in "$shm"/hwcov-emu-*/*.str; do
  w=$(od -An -t u8 -j 24 -N 8 "$f" | tr -d ' ')
  words=$((words + w))
done

# The soft tracer on a prefix of the same run: stopped after 5 s by
# SIGINT, which it passes on to the program; its statistics line gives the rate.
soft_line=$(timeout -s INT 5 "$hwcov" record --backend soft -o "$work/soft.data" -- "${cmd[@]}" \
              2>&1 >/dev/null | grep 'recorded' || true)
soft_rate=$(echo "$soft_line" | sed -E 's/.*, ([0-9,]+) steps\/s.*/\1/' | tr -d ',')

echo "instructions traced (the program's own code): $insns"
printf 'native %.3f s   qemu-x86_64 alone %.3f s (%.1fx)   hwcov record --backend emu %.3f s\n' \
  "$native" "$qemu" "$(echo "$qemu / $native" | bc -l)" "$emu_best"
printf 'emu_vs_native=%.1fx   emu rate %.0f M instructions/s\n' \
  "$(echo "$emu_best / $native" | bc -l)" "$(echo "$insns / $emu_best / 1000000" | bc -l)"
printf 'plugin stream %d bytes (%.3f bits/instruction)   Intel PT %d bytes (%.3f bits/instruction)\n' \
  "$((words * 8))" "$(echo "$words * 64 / $insns" | bc -l)" "$pt_bytes" \
  "$(echo "$pt_bytes * 8 / $insns" | bc -l)"
if [ -n "$soft_rate" ]; then
  printf 'soft backend on a 5 s prefix: %s steps/s; the whole run would take %.0f s (%.0fx native)\n' \
    "$soft_rate" "$(echo "$insns / $soft_rate" | bc -l)" \
    "$(echo "$insns / $soft_rate / $native" | bc -l)"
fi
