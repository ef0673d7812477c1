#!/usr/bin/env bash
# Regenerates the seed corpora of tests/fuzz/corpus (docs/robustness.md).
# Seeds are checked in, so this runs only when a seed should change:
#   bash tests/fuzz/make_corpus.sh BUILD_DIR
# BUILD_DIR: a configured and built hwcov tree (hwcov and
# hwcov_fuzz_extract_pt). Inputs that libFuzzer found and that are worth
# keeping are added by hand (or with `NAME_fuzzer -merge=1`), not here.
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
chmod 644 "$corpus"/*/*
echo "corpus regenerated in $corpus"
