#!/usr/bin/env bash
# The emu backend's cost (docs/emu-backend.md, docs/benchmarks.md), in one run:
#
#   1. bench/programs/cpu_bound.c at -O2 and at -O0 (>= 1 G instructions each):
#      native, bare qemu-x86_64, valgrind --tool=none, qemu-x86_64 with hwcov's
#      plugin alone in both of its modes (emulation + plugin callbacks + its
#      stream or its counts, no hwcov), `hwcov run --backend emu` in counting
#      mode (the default: counts, profile, map, report), and the trace mode:
#      `hwcov record --backend emu` (+ the conversion to Intel PT and the
#      perf.data), then `hwcov report` (decode + map); wall and CPU seconds and
#      the ratios against native and against bare QEMU.
#   2. A 20-program ctest suite (the programs of tests/emu/ctest_project, at
#      -O0 and -O2): ctest natively, every test's command under bare QEMU and
#      under valgrind one after the other (what an emulator costs per process),
#      and `hwcov run --backend emu -- ctest` (counting mode) and `hwcov record
#      --backend emu -- ctest` (trace mode; ctest and sh native, the test
#      programs emulated); QEMU's start-up per process.
#   3. The soft backend's single-step rate on a 5 s prefix of the -O0 run.
#
# Not a test: it takes a few minutes. Usage: bench/emu_bench.sh [N_O2] [N_O0]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${HWCOV_BUILD_DIR:-$top/build}
hwcov=$build/tools/hwcov
plugin=$build/tools/hwcov-qemu-plugin.so
[ -x "$hwcov" ] || { echo "build hwcov first (tools/build.sh)" >&2; exit 1; }
command -v qemu-x86_64 >/dev/null || { echo "qemu-x86_64 missing: tools/install-deps.sh" >&2; exit 1; }
have_valgrind=$(command -v valgrind >/dev/null && echo 1 || echo 0)
n_o2=${1:-16}
n_o0=${2:-6}
work=$(mktemp -d)
shm=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$work" "$shm"' EXIT

# "wall cpu" seconds of "$@" (output discarded), the best wall time of 3.
measure() {
  local best=999999 best_cpu=0 out
  for _ in 1 2 3; do
    /usr/bin/time -o "$work/time" -f '%e %U %S' "$@" >/dev/null 2>&1 || true
    read -r wall user sys < <(tail -1 "$work/time")
    if (( $(echo "$wall < $best" | bc -l) )); then best=$wall; best_cpu=$(echo "$user + $sys" | bc -l); fi
  done
  printf '%.3f %.3f' "$best" "$best_cpu"
}
ratio() { printf '%.1f' "$(echo "$1 / $2" | bc -l)"; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg) (the ratios depend on a free second core:"
echo "hwcov's conversion runs there while the program runs)"
printf 'out %s\ninherit 1\n' "$shm" > "$shm/config"
printf 'out %s\ninherit 1\ncount 1\n' "$shm" > "$shm/config-count"

for variant in "-O2 $n_o2" "-O0 $n_o0"; do
  read -r opt n <<< "$variant"
  gcc "$opt" -g "$top/bench/programs/cpu_bound.c" -o "$work/cpu_bound$opt"
  cmd=("$work/cpu_bound$opt" "$n")
  echo
  echo "== bench/programs/cpu_bound.c $opt -g, N=$n"
  read -r native native_cpu <<< "$(measure "${cmd[@]}")"
  read -r qemu qemu_cpu <<< "$(measure qemu-x86_64 "${cmd[@]}")"
  read -r plug plug_cpu <<< "$(measure qemu-x86_64 -plugin "$plugin,cfg=$shm/config,seq=0" "${cmd[@]}")"
  rm -f "$shm"/[0-9]*
  read -r plugc plugc_cpu <<< "$(measure qemu-x86_64 -plugin "$plugin,cfg=$shm/config-count,seq=0" "${cmd[@]}")"
  rm -f "$shm"/[0-9]*
  read -r count count_cpu <<< "$(measure "$hwcov" run -q --backend emu --root "$top" -- "${cmd[@]}")"
  if [ "$have_valgrind" = 1 ]; then read -r vg vg_cpu <<< "$(measure valgrind --tool=none -q "${cmd[@]}")"; fi
  read -r emu emu_cpu <<< "$(measure "$hwcov" record --backend emu -o "$work/emu.data" -- "${cmd[@]}")"
  line=$("$hwcov" record --backend emu -o "$work/emu.data" -- "${cmd[@]}" 2>&1 >/dev/null | grep recorded)
  read -r report report_cpu <<< "$(measure "$hwcov" report -q "$work/emu.data")"
  insns=$(echo "$line" | sed -E 's/.*recorded ([0-9,]+) instructions.*/\1/' | tr -d ',')
  pt=$(echo "$line" | sed -E 's/.*; ([0-9,]+) bytes of Intel PT.*/\1/' | tr -d ',')
  printf 'instructions traced: %s (%.2f bits of Intel PT each)\n' "$insns" "$(echo "$pt * 8 / $insns" | bc -l)"
  printf '%-44s %8s %8s %10s %10s\n' "" "wall s" "cpu s" "x native" "x qemu"
  row() { printf '%-44s %8.3f %8.3f %10s %10s\n' "$1" "$2" "$3" "$(ratio "$2" "$native")" "$(ratio "$2" "$qemu")"; }
  row "native" "$native" "$native_cpu"
  row "qemu-x86_64" "$qemu" "$qemu_cpu"
  [ "$have_valgrind" = 1 ] && row "valgrind --tool=none" "$vg" "$vg_cpu"
  row "qemu-x86_64 + hwcov plugin, counting (no hwcov)" "$plugc" "$plugc_cpu"
  row "hwcov run --backend emu (counting, + report)" "$count" "$count_cpu"
  row "qemu-x86_64 + hwcov plugin, trace (no hwcov)" "$plug" "$plug_cpu"
  row "hwcov record --backend emu (trace mode)" "$emu" "$emu_cpu"
  row "hwcov report (decode + map)" "$report" "$report_cpu"
  printf 'hwcov_emu_vs_qemu=%sx (cpu %sx)  hwcov_emu_vs_native=%sx  qemu_vs_native=%sx  trace_mode_vs_qemu=%sx\n' \
    "$(ratio "$count" "$qemu")" "$(ratio "$count_cpu" "$qemu_cpu")" "$(ratio "$count" "$native")" \
    "$(ratio "$qemu" "$native")" "$(ratio "$emu" "$qemu")"
  if [ "$opt" = -O0 ]; then o0_cmd=("${cmd[@]}"); o0_native=$native; fi
done

echo
echo "== a 20-program ctest suite (tests/emu/ctest_project's programs at -O0 and -O2)"
suite=$work/suite
mkdir -p "$suite/src"
cp "$top"/tests/emu/ctest_project/t*.c "$suite/src/"
{
  echo 'cmake_minimum_required(VERSION 3.16)'
  echo 'project(bench_suite C)'
  echo 'enable_testing()'
  for f in "$suite"/src/t*.c; do
    name=$(basename "$f" .c)
    for opt in O0 O2; do
      echo "add_executable(${name}_$opt $name.c)"
      echo "target_compile_options(${name}_$opt PRIVATE -$opt -g)"
      echo "add_test(NAME ${name}_$opt COMMAND ${name}_$opt 25)"
    done
  done
} > "$suite/src/CMakeLists.txt"
cmake -S "$suite/src" -B "$suite/build" -G Ninja -DCMAKE_C_COMPILER=gcc >/dev/null
cmake --build "$suite/build" >/dev/null
(cd "$suite/build" && ctest -N -V | sed -n 's/.*Test command: //p' | tr -d '"') > "$work/tests.txt"
# Every test's command after the given prefix, one after the other.
cat > "$work/in_a_row.sh" <<EOF
#!/bin/bash
while read -r line; do "\$@" \$line >/dev/null 2>&1 || true; done < "$work/tests.txt"
EOF
read -r c_native c_native_cpu <<< "$(measure ctest --test-dir "$suite/build")"
read -r c_qemu c_qemu_cpu <<< "$(measure bash "$work/in_a_row.sh" qemu-x86_64)"
if [ "$have_valgrind" = 1 ]; then read -r c_vg c_vg_cpu <<< "$(measure bash "$work/in_a_row.sh" valgrind --tool=none -q)"; fi
read -r c_count c_count_cpu <<< "$(measure "$hwcov" run -q --backend emu --root "$suite" -- ctest --test-dir "$suite/build")"
read -r c_emu c_emu_cpu <<< "$(measure "$hwcov" record --backend emu -o "$work/suite.data" -- ctest --test-dir "$suite/build")"
printf '%-44s %8s %8s %10s\n' "" "wall s" "cpu s" "x qemu"
srow() { printf '%-44s %8.3f %8.3f %10s\n' "$1" "$2" "$3" "$(ratio "$2" "$c_qemu")"; }
srow "ctest (native)" "$c_native" "$c_native_cpu"
srow "the 20 tests under qemu-x86_64, in a row" "$c_qemu" "$c_qemu_cpu"
[ "$have_valgrind" = 1 ] && srow "the 20 tests under valgrind, in a row" "$c_vg" "$c_vg_cpu"
srow "hwcov run --backend emu -- ctest (counting)" "$c_count" "$c_count_cpu"
srow "hwcov record --backend emu -- ctest (trace)" "$c_emu" "$c_emu_cpu"
printf 'per test: qemu-x86_64 %.3f s, hwcov emu counting %.3f s, trace %.3f s (ctest native, tests emulated)\n' \
  "$(echo "$c_qemu / 20" | bc -l)" "$(echo "($c_count - $c_native) / 20" | bc -l)" \
  "$(echo "($c_emu - $c_native) / 20" | bc -l)"

echo
soft_line=$(timeout -s INT 5 "$hwcov" record --backend soft -o "$work/soft.data" -- "${o0_cmd[@]}" \
              2>&1 >/dev/null | grep 'recorded' || true)
soft_rate=$(echo "$soft_line" | sed -E 's/.*, ([0-9,]+) steps\/s.*/\1/' | tr -d ',')
[ -n "$soft_rate" ] && printf 'soft backend, 5 s prefix of the -O0 run: %s steps/s (%.0fx native)\n' \
  "$soft_rate" "$(echo "$insns / $soft_rate / $o0_native" | bc -l)"
