// A guard in front of libdwarf: libdwarf 20210528 (Debian 12) frees memory
// twice when the header of a DWARF 5 .debug_rnglists or .debug_loclists
// table is corrupt (internal_load_rnglists_contexts() and its loclists twin
// go on after freeing the chain; found by tests/fuzz/mapper_fuzz.cc). It
// reads those headers as soon as the first unit is read, so hwcov checks
// them first, at least as strictly, and refuses such a file with an error.
#pragma once

#include "elf_sections.h"

namespace hwcov::mapper {

// Throws hwcov::Error naming the file, the section and the offset of the
// first list-table header libdwarf could not read.
void CheckDwarfListHeaders(const ElfSections& sections);

}  // namespace hwcov::mapper
