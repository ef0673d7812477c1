// What the mapper knows about one binary's DWARF: line rows (from
// line_program.cc) and functions with every copy of their code (from the
// DIE tree: DW_TAG_subprogram with code and DW_TAG_inlined_subroutine).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dwarf_handle.h"

namespace hwcov::mapper {

constexpr uint32_t kNoFile = UINT32_MAX;

// One line-table row and the instructions it owns. Rows that share their
// address with the next row own no instruction (begin == end); these are
// kept in DebugInfo::views because an is_stmt one still says "line L starts
// here" (gcc's location views at -O1 and above).
struct LineRow {
  uint64_t begin = 0, end = 0;  // [begin, end)
  uint32_t file = 0;            // index into DebugInfo::files
  uint32_t line = 0;            // 0: compiler-generated code with no line
  bool is_stmt = false;
  bool prologue_end = false;
  bool first_at_address = false;  // first row of its sequence at |begin|
};

// A function of the source, as DWARF declares it.
struct Function {
  std::string name;     // DW_AT_name
  std::string linkage;  // DW_AT_linkage_name (mangled); empty for C
  uint32_t decl_file = kNoFile;
  uint32_t decl_line = 0;
};

// One copy of a function's code: its out-of-line body (depth 0) or one
// place where it was inlined (depth = nesting of inlined_subroutine DIEs).
struct CodeInstance {
  uint32_t function = 0;  // index into DebugInfo::functions
  std::vector<AddressRange> ranges;
  // DW_AT_entry_pc, else the start of the first range. Not exact when the
  // copy has several ranges and no DW_AT_entry_pc (clang's inlined copies):
  // the first range is then often a path not every call takes.
  uint64_t entry = 0;
  bool entry_exact = true;
  uint32_t depth = 0;
  // An inlined copy's call site (DW_AT_call_file, DW_AT_call_line): the line
  // of the call the copy replaced, in the copy that called it (|caller|, an
  // index into DebugInfo::instances). call_line 0: not inlined, or unknown.
  uint32_t caller = UINT32_MAX;
  uint32_t call_file = kNoFile;
  uint32_t call_line = 0;
  // Compiled by clang (its unit's DW_AT_producer): `llvm-cov gcov` counts a
  // function's closing brace in every copy that completes, gcov does not.
  bool clang = false;
};

struct DebugInfo {
  bool has_dwarf = false;
  std::vector<std::string> files;  // normalised paths
  std::vector<LineRow> rows;       // own instructions; sorted by begin, line 0 included
  std::vector<LineRow> views;      // begin == end; sorted by begin
  std::vector<Function> functions;
  std::vector<CodeInstance> instances;
  // Attribute values that could not be read and were left out, one line per
  // kind with its count (Dwarf::Warnings()): the report shows them.
  std::vector<std::string> warnings;

  // The row owning the instruction at |address|, or nullptr.
  const LineRow* RowAt(uint64_t address) const;
};

// Reads the DWARF of |path| (the binary or its separate debug file);
// has_dwarf is false when it has none. Throws hwcov::Error when the DWARF is
// present but unreadable (a unit, DIE or line program that cannot be read);
// values of single attributes that cannot be read are counted in |warnings|.
DebugInfo ReadDebugInfo(const std::string& path);

}  // namespace hwcov::mapper
