// A DWARF line-number program (.debug_line, versions 2 to 5), decoded by
// hwcov itself rather than through libdwarf: libdwarf 20210528 starts the
// DWARF 5 state machine with file register 0 instead of 1 (libdwarf-code
// issue #137, fixed in 2022), so every row before the first DW_LNS_set_file
// of a sequence lands in the wrong file. gcc 11+ emits DWARF 5 and relies on
// the default for whichever file comes first, typically a header.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace hwcov::mapper {

struct LineProgramRow {
  uint64_t address = 0;
  uint32_t file = 0;  // file number as the program uses it (see LineProgram::files)
  uint32_t line = 0;  // 0: code with no source line
  bool is_stmt = false;
  bool prologue_end = false;
  bool end_sequence = false;  // first address after a sequence; no code here
};

struct LineProgram {
  uint16_t version = 0;
  // Paths by file number: DWARF 5 numbers files from 0, earlier versions
  // from 1 (entry 0 is then empty). Directory-relative names are joined with
  // their directory, and relative directories with the compilation directory.
  std::vector<std::string> files;
  std::vector<LineProgramRow> rows;  // in program order
};

// The string sections DW_FORM_line_strp and DW_FORM_strp point into.
struct LineStrings {
  std::span<const uint8_t> line_str;  // .debug_line_str
  std::span<const uint8_t> str;       // .debug_str
};

// Decodes the line program at |offset| of |debug_line| (a CU's
// DW_AT_stmt_list). |comp_dir| is the CU's DW_AT_comp_dir (directory 0 of
// DWARF 2-4). Throws hwcov::Error naming |path| and the offset when the
// program is malformed.
LineProgram ReadLineProgram(std::span<const uint8_t> debug_line, uint64_t offset,
                            const LineStrings& strings, const std::string& comp_dir,
                            const std::string& path);

}  // namespace hwcov::mapper
