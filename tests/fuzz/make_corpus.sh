#!/usr/bin/env bash
# Regenerates the seed corpora of tests/fuzz/corpus (docs/robustness.md).
# Seeds are checked in, so this runs only when a seed should change:
#   bash tests/fuzz/make_corpus.sh BUILD_DIR
# BUILD_DIR: a configured and built hwcov tree (hwcov and
# hwcov_fuzz_extract_pt). Inputs that libFuzzer found and that are worth
# keeping are added by hand (or with `NAME_fuzzer -merge=1`), not here.
#   bash tests/fuzz/make_corpus.sh BUILD_DIR json
# regenerates only corpus/json (needs only BUILD_DIR/tools/hwcov).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: make_corpus.sh BUILD_DIR}" && pwd)
hwcov="$build/tools/hwcov"
extract="$build/tests/fuzz/hwcov_fuzz_extract_pt"
fixtures="$top/../shared/fixtures"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
corpus="$here/corpus"

# json: hwcov's own JSON coverage files (report::ReadCoverageJson, what
# `hwcov merge` reads) of small programs built with gcc -O0 -g and traced by
# the soft tracer; a merge; a binary without DWARF (functions from ELF
# symbols, line 0, no lines); then hand-written edge cases of the grammar and
# of the schema. Source paths are the build machine's: they are only strings.
# The checked-in NAME.json were written by the schema-1 hwcov, NAME-v2.json
# (loops, shapes-cxx, merged-loops-switch) by the schema-2 one: this writes
# whatever version BUILD_DIR's hwcov writes, under NAME.json.
j="$corpus/json"
mkdir -p "$j"
progs="$top/tests/programs"
gcc -O0 -g -o "$work/loops" "$progs/loops.c"
gcc -O0 -g -o "$work/switch" "$progs/switch.c"
gcc -O0 -g -o "$work/recursion" "$progs/recursion.c"
g++ -O0 -g -o "$work/shapes" "$progs/shapes.cc"
gcc -O0 -g -fPIC -shared -o "$work/libgeometry.so" "$progs/geometry.c" -lm
gcc -O0 -g -o "$work/use_geometry" "$progs/use_geometry.c" -L"$work" -lgeometry \
  -Wl,-rpath,'$ORIGIN'
gcc -O1 -o "$work/primes-nodebug" "$top/examples/primes.c"
run() {  # OUT ARGS...
  local out=$1
  shift
  "$hwcov" run --backend soft --json "$out" "$@" >/dev/null 2>&1 || true
  [ -s "$out" ] || { echo "make_corpus.sh: no JSON from $*" >&2; exit 1; }
}
run "$j/loops.json" -- "$work/loops" 3
run "$j/loops-error.json" -- "$work/loops" -1
run "$j/switch.json" -- "$work/switch" 1 7 x 42
run "$j/recursion.json" -- "$work/recursion" 6
run "$j/shapes-cxx.json" -- "$work/shapes" triangle
run "$j/use-geometry-lib.json" --only '*geometry*' -- "$work/use_geometry" concave
run "$j/primes-nodebug.json" -- "$work/primes-nodebug"
"$hwcov" merge -o "$j/merged-loops-switch.json" "$j/loops.json" "$j/switch.json"
"$hwcov" merge -o "$j/merged-loops-twice.json" "$j/loops.json" "$j/loops-error.json"

# Hand-written: the smallest valid file, then one mutation of it per rule
# of docs/json-format.md ("Reading rules") and of the JSON grammar.
hdr='"format": "hwcov-coverage", "version": 1'
q='"quality": {"trace_bytes": 10, "decoded_bytes": 9, "instructions": 5,
 "unmapped_instructions": 0, "gaps_by_kind": {}, "gap_details": [], "warnings": []}'
file='{"path": "/s/a.c", "lines": [[1, 1], [2, 0]],
 "functions": [{"name": "f", "demangled": "f", "line": 1, "count": 1}],
 "branches": [[2, 0, 0, 1], [2, 0, 1, null]]}'
w() { printf '%s' "$2" > "$j/$1"; }
w minimal-valid.json "{$hdr, $q, \"files\": []}"
w one-file.json "{$hdr, $q, \"files\": [$file]}"
: > "$j/empty"
w empty-object.json '{}'
w not-json.txt 'SF:/s/a.c
DA:1,1
end_of_record
'
w wrong-format.json "{\"format\": \"lcov\", \"version\": 1, $q, \"files\": []}"
w wrong-version.json "{\"format\": \"hwcov-coverage\", \"version\": 99, $q, \"files\": []}"
# Version 2: null counts for unknown lines and functions (in a trace gap).
w unknown-v2.json "{\"format\": \"hwcov-coverage\", \"version\": 2, $q, \"files\": [{\"path\": \"/s/a.c\",
 \"lines\": [[1, null], [2, 0], [3, 5]], \"functions\": [{\"name\": \"f\", \"demangled\": \"f\", \"line\": 1,
 \"count\": null}, {\"name\": \"g\", \"demangled\": \"g\", \"line\": 3, \"count\": 5}],
 \"branches\": [[1, 0, 0, null], [1, 0, 1, null], [3, 0, 0, 2], [3, 0, 1, 3]]}]}"
w unknown-in-v1.json "{$hdr, $q, \"files\": [{\"path\": \"/s/a.c\", \"lines\": [[1, null]],
 \"functions\": [], \"branches\": []}]}"
w version-2pow64.json "{\"format\": \"hwcov-coverage\", \"version\": 18446744073709551616, $q, \"files\": []}"
w huge-counts.json "{$hdr, \"quality\": {\"trace_bytes\": 18446744073709551615,
 \"decoded_bytes\": 18446744073709551615, \"instructions\": 18446744073709551615,
 \"unmapped_instructions\": 9007199254740993, \"gaps_by_kind\": {\"overflow\": 18446744073709551615},
 \"gap_details\": [], \"warnings\": []}, \"files\": [{\"path\": \"/s/a.c\",
 \"lines\": [[4294967295, 18446744073709551615]], \"functions\": [],
 \"branches\": [[4294967295, 4294967295, 1, 18446744073709551615]]}]}"
w line-2pow32.json "{$hdr, $q, \"files\": [{\"path\": \"/s/a.c\", \"lines\": [[4294967296, 1]],
 \"functions\": [], \"branches\": []}]}"
w negative.json "{$hdr, $q, \"files\": [{\"path\": \"/s/a.c\", \"lines\": [[1, -1]],
 \"functions\": [], \"branches\": []}]}"
w float.json "{$hdr, $q, \"files\": [{\"path\": \"/s/a.c\", \"lines\": [[1, 1.5e3]],
 \"functions\": [], \"branches\": []}]}"
w leading-zero.json "{$hdr, $q, \"files\": [{\"path\": \"/s/a.c\", \"lines\": [[01, 1]],
 \"functions\": [], \"branches\": []}]}"
deep() { local n=$1 s='' e='' i; for ((i = 0; i < n; i++)); do s+='['; e+=']'; done; echo "$s$e"; }
w nesting-31.json "{$hdr, $q, \"files\": [], \"extra\": $(deep 31)}"
w nesting-33.json "{$hdr, $q, \"files\": [], \"extra\": $(deep 33)}"
w nesting-5000.json "$(deep 5000)"
w unterminated-string.json "{$hdr, $q, \"files\": [{\"path\": \"/s/a.c"
w unterminated-escape.json '{"format": "hwcov-coverage\'
w unterminated-unicode.json '{"format": "hwcov-coverage\u00'
w unicode-escapes.json "{$hdr, $q, \"files\": [{\"path\": \"/s/\\u00e9t\\u00E9/\\ud83d\\ude00\\u0000\\u001f\\\"\\\\\\/\\b\\f\\n\\r\\t.c\",
 \"lines\": [[1, 1]], \"functions\": [{\"name\": \"_Z1fv\", \"demangled\": \"f()\\u2028\", \"line\": 1, \"count\": 1}],
 \"branches\": []}]}"
w lone-surrogates.json "{$hdr, $q, \"files\": [{\"path\": \"/s/\\ud800x\\udc00.c\", \"lines\": [[1, 1]],
 \"functions\": [], \"branches\": []}]}"
w bad-surrogate-pair.json "{$hdr, $q, \"files\": [{\"path\": \"/s/\\ud800\\u0041.c\", \"lines\": [[1, 1]],
 \"functions\": [], \"branches\": []}]}"
printf '%b' "{$hdr, $q, \"files\": [{\"path\": \"/s/\xff\xfe\xc3(\xe2\x82.c\", \"lines\": [[1, 1]], \"functions\": [], \"branches\": []}]}" \
  > "$j/invalid-utf8-path.json"
w duplicate-key.json "{$hdr, $q, \"files\": [], \"files\": []}"
w trailing-garbage.json "{$hdr, $q, \"files\": []} x"
w unsorted-lines.json "{$hdr, $q, \"files\": [{\"path\": \"/s/a.c\", \"lines\": [[2, 1], [1, 1]],
 \"functions\": [], \"branches\": []}]}"
w unsorted-files.json "{$hdr, $q, \"files\": [{\"path\": \"/s/b.c\", \"lines\": [[1, 1]],
 \"functions\": [], \"branches\": []}, {\"path\": \"/s/a.c\", \"lines\": [[1, 1]],
 \"functions\": [], \"branches\": []}]}"
w branch-without-line.json "{$hdr, $q, \"files\": [{\"path\": \"/s/a.c\", \"lines\": [[1, 1]],
 \"functions\": [], \"branches\": [[3, 0, 0, 1]]}]}"
w functions-without-lines.json "{$hdr, $q, \"files\": [{\"path\": \"/s/nodwarf\", \"lines\": [],
 \"functions\": [{\"name\": \"a\", \"demangled\": \"a\", \"line\": 0, \"count\": 0},
 {\"name\": \"b\", \"demangled\": \"b\", \"line\": 0, \"count\": 7}], \"branches\": []}]}"
w decoded-exceeds-trace.json "{$hdr, \"quality\": {\"trace_bytes\": 1, \"decoded_bytes\": 2,
 \"instructions\": 0, \"unmapped_instructions\": 0, \"gaps_by_kind\": {}, \"gap_details\": [],
 \"warnings\": []}, \"files\": []}"
w extra-fields-whitespace.json "$(printf '\t\r\n {%s,\r\n\t%s, "files": [], "totals": null, "x": {"y": [true, false, null, "z", 0]}}\n\n' "$hdr" "$q")"
chmod 644 "$j"/*
if [ "${2:-}" = json ]; then
  echo "json corpus regenerated in $j"
  exit 0
fi

# The decoder's fixed image: a non-PIE build of loops.c, so that recorded
# addresses never move (pt_decoder_fuzz.cc maps it where it was linked).
gcc -O1 -no-pie -fno-pie -o "$here/data/loops-nopie" "$top/tests/programs/loops.c"
strip "$here/data/loops-nopie"

# perf_data: hwcov's soft traces (finished, as a killed recording leaves
# them), and the real Skylake recordings (file mode; pipe mode and an
# interrupted file cut to 20-32 KiB to keep the corpus small). No ".data"
# suffix: .gitignore keeps *.data out of the repository.
rec() { "$hwcov" record --backend soft "$@" >/dev/null 2>&1; }
rec -o "$work/n4.data" -- "$here/data/loops-nopie" 4
rec --all-code -o "$work/all.data" -- "$here/data/loops-nopie" 3
for n in 60 400; do rec -o "$work/n$n.data" -- "$here/data/loops-nopie" "$n"; done
mkdir -p "$corpus/perf_data" "$corpus/pt_decoder" "$corpus/mapper"
cp "$work/n4.data" "$corpus/perf_data/soft-loops-nopie-4"
cp "$work/all.data" "$corpus/perf_data/soft-loops-nopie-all-code"
# AsInterrupted: records only, data size 0, no feature bits.
interrupted() {  # SRC DST [CUT]
  local data_offset data_size end
  data_offset=$(od -An -tu8 -j40 -N8 "$1" | tr -d ' ')
  data_size=$(od -An -tu8 -j48 -N8 "$1" | tr -d ' ')
  end=${3:-$((data_offset + data_size))}
  head -c "$end" "$1" > "$2"
  # data.size (offset 48) and the four feature words (72..104) to zero
  printf '\0%.0s' $(seq 8) | dd of="$2" bs=1 seek=48 conv=notrunc status=none
  printf '\0%.0s' $(seq 32) | dd of="$2" bs=1 seek=72 conv=notrunc status=none
}
interrupted "$work/n4.data" "$corpus/perf_data/soft-loops-nopie-4-interrupted"
if [ -d "$fixtures" ]; then  # BSD-3 (corpus/LICENSE.perf_data_converter)
  cp "$fixtures/perf.data.intel_pt-4.14" "$corpus/perf_data/hw-skylake-file-mode"
  head -c 20000 "$fixtures/perf.data.piped.intel_pt-4.14" \
    > "$corpus/perf_data/hw-skylake-pipe-mode-first20k"
  interrupted "$fixtures/perf.data.intel_pt-4.14" \
    "$corpus/perf_data/hw-skylake-file-mode-interrupted-32k" 32768
  "$extract" "$fixtures/perf.data.intel_pt-4.14" "$work/hw"
  cp "$work/hw.0" "$corpus/pt_decoder/hw-skylake-queue0.pt"
  head -c 16384 "$work/hw.3" > "$corpus/pt_decoder/hw-skylake-queue3-first16k.pt"
  cp "$fixtures/LICENSE.perf_data_converter" "$corpus/"
fi

# pt_decoder: the PT streams of the fixed image's recordings.
"$extract" "$work/n4.data" "$work/n4"
"$extract" "$work/n60.data" "$work/n60"
"$extract" "$work/n400.data" "$work/n400"
"$extract" "$work/all.data" "$work/all"
cp "$work/n4.0" "$corpus/pt_decoder/loops-nopie-4.pt"
cp "$work/n60.0" "$corpus/pt_decoder/loops-nopie-60.pt"
head -c 6144 "$work/n400.0" > "$corpus/pt_decoder/loops-nopie-400-first6k.pt"
cp "$work/all.0" "$corpus/pt_decoder/loops-nopie-all-code.pt"

# mapper: small binaries in the forms the mapper reads.
src="$top/tests/programs/loops.c"
pm="$top/tests/programs_mapper"
m="$corpus/mapper"
gcc -O0 -g "$src" -o "$m/loops-O0-dwarf5"
gcc -O2 -g -gdwarf-4 "$src" -o "$m/loops-O2-dwarf4"
gcc -O2 -g -gz=zlib "$src" -o "$m/loops-O2-gz"
gcc -O1 -g -gz=zlib-gnu "$src" -o "$m/loops-O1-zlib-gnu"
clang -O1 -g "$src" -o "$m/loops-clang-O1"
gcc -O1 -g "$src" -o "$m/loops-debuglink"
objcopy --only-keep-debug "$m/loops-debuglink" "$work/loops.debug"
strip "$m/loops-debuglink"
objcopy --add-gnu-debuglink="$work/loops.debug" "$m/loops-debuglink"
g++ -O2 -g "$pm/templates.cc" -o "$m/templates-O2"
gcc -O2 -g -fPIC -shared "$pm/mlib.c" -o "$m/libmlib.so"
gcc -O2 -g -I"$pm" "$pm/inline.c" -o "$m/inline-O2"
gcc -O1 "$src" -o "$m/loops-nodebug"
bash "$here/make_elf_corpus.sh"
chmod 644 "$corpus"/*/*
echo "corpus regenerated in $corpus"
