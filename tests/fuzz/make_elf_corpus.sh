#!/usr/bin/env bash
# Regenerates tests/fuzz/corpus/elf, the seeds of the ELF reader's fuzz
# target (elf_fuzz.cc): small real ELF files, then copies truncated or with
# one header field patched, one per check of support/src/elf_reader.cc.
#   bash tests/fuzz/make_elf_corpus.sh      (make_corpus.sh runs it too)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out="$here/corpus/elf"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out"

# Real files: the symbol-rule program static and shared (small pages keep
# them near 1 KiB), the shared one stripped (only .dynsym), a 32-bit one, and
# gcc-built C with its crt code.
cp "$top/tests/unit/elf_symbols.S" "$work/s.S"
gcc -nostdlib -static -Wl,--build-id=sha1 -Wl,-z,max-page-size=16 -Wl,-z,noseparate-code \
  -o "$out/symbols-static" "$work/s.S"
gcc -nostdlib -shared -Wl,--build-id=sha1 -Wl,-z,max-page-size=16 -Wl,-z,noseparate-code \
  -o "$out/symbols-shared.so" "$work/s.S"
strip --strip-all -o "$out/symbols-stripped.so" "$out/symbols-shared.so"
printf '  .text\n  .globl _start\n  .type _start, @function\n_start:\n  ret\n' > "$work/i386.s"
as --32 -o "$work/i386.o" "$work/i386.s"
ld -m elf_i386 --build-id=sha1 -z max-page-size=16 -z noseparate-code -o "$out/i386" "$work/i386.o"
gcc -O1 -o "$out/loops-O1" "$top/tests/programs/loops.c"
strip --strip-all -o "$work/loops-stripped" "$out/loops-O1"
printf 'not an ELF file\n' > "$out/text"
: > "$out/empty"

# Little-endian integer fields, patched in place.
put() {  # FILE OFFSET VALUE BYTES
  local s='' i
  for ((i = 0; i < $4; i++)); do s+=$(printf '\\x%02x' $((($3 >> (8 * i)) & 255))); done
  printf "$s" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
get() {  # FILE OFFSET BYTES
  od -An -tu"$3" -j"$2" -N"$3" "$1" | tr -d ' '
}
src="$out/symbols-static"
shoff=$(get "$src" 40 8)
shentsize=$(get "$src" 58 2)
# Section header field of the section of type TYPE (2 .symtab, 11 .dynsym).
field() {  # FILE TYPE FIELD_OFFSET -> file offset of that field
  local n i
  n=$(get "$1" 60 2)
  for ((i = 0; i < n; i++)); do
    if [ "$(get "$1" $((shoff + i * shentsize + 4)) 4)" = "$2" ]; then
      echo $((shoff + i * shentsize + $3))
      return
    fi
  done
  echo "make_elf_corpus.sh: no section of type $2 in $1" >&2
  exit 1
}
variant() {  # NAME: a copy of the static program to patch
  cp "$src" "$out/$1"
  echo "$out/$1"
}
symtab_link=$(get "$src" "$(field "$src" 2 40)" 4)
strtab_offset=$((shoff + symtab_link * shentsize + 24))
put "$(variant strtab-offset-outside)" "$strtab_offset" $((0x7fff000000000000)) 8
put "$(variant strtab-size-outside)" $((strtab_offset + 8)) $((0x7fffffff)) 8
put "$(variant symtab-offset-outside)" "$(field "$src" 2 24)" $((0x7fff000000000000)) 8
put "$(variant symtab-size-huge)" "$(field "$src" 2 32)" $((0x7fffffffffff)) 8
put "$(variant symtab-size-odd)" "$(field "$src" 2 32)" 100 8
put "$(variant symtab-entsize-zero)" "$(field "$src" 2 56)" 0 8
put "$(variant symtab-link-outside)" "$(field "$src" 2 40)" 65535 4
put "$(variant symtab-link-to-itself)" "$(field "$src" 2 40)" \
  $((($(field "$src" 2 0) - shoff) / shentsize)) 4
# st_name of symbol 1 (symbols are 24 bytes; st_name is their first field).
put "$(variant symbol-names-outside)" $(($(get "$src" "$(field "$src" 2 24)" 8) + 24)) \
  $((0xffffffff)) 4
put "$(variant phnum-huge)" 56 65535 2
put "$(variant phoff-outside)" 32 $((0x7fff000000000000)) 8
put "$(variant shoff-outside)" 40 $((0x7fff000000000000)) 8
put "$(variant shnum-huge)" 60 65535 2
put "$(variant shstrndx-outside)" 62 65000 2
put "$(variant class-none)" 4 0 1
put "$(variant data-big-endian)" 5 2 1
# Truncations: inside the ELF header, the program headers, the code, before
# the section headers, and one byte short.
size=$(stat -c %s "$src")
for cut in 16 63 100 $((size / 2)) $((shoff - 1)) $((size - 1)); do
  head -c "$cut" "$src" > "$out/truncated-$cut"
done
head -c $(($(stat -c %s "$work/loops-stripped") / 2)) "$work/loops-stripped" \
  > "$out/loops-stripped-half"
# The build-id note with a description size past the note.
note=$(readelf -lW "$src" | awk '$1 == "NOTE" { print $2; exit }')
put "$(variant build-id-descsz-huge)" $((note + 4)) $((0xfffffff0)) 4
chmod 644 "$out"/*
echo "elf corpus regenerated in $out ($(ls "$out" | wc -l) files)"
