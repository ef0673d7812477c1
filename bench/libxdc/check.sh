#!/usr/bin/env bash
# bench/libxdc/check.sh LIBXDC_SRC TRACE: does libxdc decode TRACE to the
# conditional-branch counts hwcov decodes from it? A correctness check for
# small traces (libxdc's trace mode calls back once per edge: slow).
#
# 1. `hwcov dump TRACE` gives hwcov's count of every conditional branch
#    (module file offset, taken, not taken); the MMAP2 lines of the same dump
#    turn them into addresses.
# 2. harness --check compares (a) libxdc's bitmap from a normal (cached-mode)
#    decode with the bitmap those counts predict (libxdc hashes each
#    conditional edge (src, dst) into a byte and adds its count, mod 256), and
#    (b) per branch, the taken/not-taken counts libxdc's trace mode reports
#    (edge callback) with hwcov's.
# Exit status 0 when both agree exactly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:?usage: check.sh LIBXDC_SRC TRACE}
trace=${2:?usage: check.sh LIBXDC_SRC TRACE}
hwcov=${HWCOV:-$here/../../build/tools/hwcov}
work=${WORK:-/tmp/xdc/build}
harness=$("$here/build.sh" "$src" "$work" | tail -1)
dump=$work/check.dump
branches=$work/check.branches
"$hwcov" dump "$trace" > "$dump"
grep '^profile:' "$dump" | sed 's/^/check.sh: hwcov dump: /' >&2
# "module N FILE ...", "TIME MMAP2 pid P START-END pgoff OFF PROT FILE ...",
# "branch module N 0xOFF taken T not-taken U"  ->  "0xADDR T U"
python3 - "$dump" > "$branches" <<'PY'
import sys
files, maps, found, missing = {}, {}, 0, 0
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 3 and f[0] == "module":
        files[f[1]] = f[2]
    elif len(f) >= 9 and f[1] == "MMAP2" and "x" in f[7]:
        start, end = (int(x, 16) for x in f[4].split("-"))
        maps.setdefault(f[8], []).append((start, end, int(f[6], 16)))
    elif len(f) >= 8 and f[0] == "branch" and f[1] == "module":
        off = int(f[3], 16)
        for start, end, pgoff in reversed(maps.get(files.get(f[2]), [])):
            if pgoff <= off < pgoff + end - start:
                print("0x%x %s %s" % (start + off - pgoff, f[5], f[7]))
                found += 1
                break
        else:
            missing += 1
print("check.sh: %d conditional branches from hwcov dump, %d in no mapping" % (found, missing),
      file=sys.stderr)
PY
# HARNESS_ARGS: more harness options, e.g. HARNESS_ARGS='--range-file *' for a
# trace of several binaries (--all-code)
read -r -a extra <<< "${HARNESS_ARGS:-}"  # split on blanks, no glob expansion
"$harness" -n 1 --no-warm "${extra[@]}" --check "$branches" "$trace"
