// DWARF line tables and subprograms, read with libdwarf (20210528 API).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hwcov::mapper {

// [begin, end) of link-time addresses attributed to one source line.
struct LineRange {
  uint64_t begin = 0, end = 0;
  uint32_t file = 0;  // index into DebugInfo::files
  uint32_t line = 0;
  bool is_stmt = true;
};

struct Subprogram {
  std::string name;     // DW_AT_name
  std::string linkage;  // DW_AT_linkage_name, empty for C
  uint64_t low = 0, high = 0;
  uint32_t decl_line = 0;
};

struct DebugInfo {
  bool has_dwarf = false;
  std::vector<std::string> files;  // normalised absolute paths
  std::vector<LineRange> ranges;   // sorted by begin
  std::vector<Subprogram> subprograms;
};

// Reads the DWARF of |path|; has_dwarf is false when it has none.
// Throws hwcov::Error when the DWARF is present but unreadable.
DebugInfo ReadDebugInfo(const std::string& path);

}  // namespace hwcov::mapper
