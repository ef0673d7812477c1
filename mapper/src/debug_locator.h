// Where a binary's DWARF lives, looked for in gdb's order:
//   1. the binary itself, when it has a .debug_info with bytes;
//   2. DIR/.build-id/xx/yyyy.debug for each --debug-dir DIR, then
//      /usr/lib/debug (xx = first byte of the build id in hex, yyyy = the
//      rest), if that file's build id is the binary's;
//   3. the .gnu_debuglink file name, if its CRC-32 matches, in the binary's
//      directory, its .debug/ subdirectory, DIR/<binary's directory>/ and
//      DIR/ for each --debug-dir DIR, then /usr/lib/debug/<binary's dir>/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "elf_file.h"

namespace hwcov::mapper {

struct DebugLocation {
  std::string path;    // the file to read DWARF from
  std::string source;  // how it was found, for messages ("build-id directory /x")
};

// |warnings| gets candidates that were found but refused (wrong build id or CRC).
std::optional<DebugLocation> LocateDebugInfo(const ElfFile& binary,
                                             const std::vector<std::string>& debug_dirs,
                                             std::vector<std::string>& warnings);

}  // namespace hwcov::mapper
