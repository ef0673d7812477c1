// The parts of a binary the mapper needs: load segments (file offset <->
// link-time address), code bytes, function symbols (the fallback without
// DWARF, and the names of call targets), PLT stub names, build id and
// .gnu_debuglink (to find separate debug info). Segments, symbols and the
// build id come from the one ELF reader (hwcov/elf.h), so the mapper and the
// collector's address filters agree on what a function is.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hwcov/elf.h"
#include "hwcov/support.h"

namespace hwcov::mapper {

using LoadSegment = ElfSegment;
using Symbol = ElfSymbol;

struct DebugLink {
  std::string name;  // file name of the debug file
  uint32_t crc = 0;  // CRC-32 of the whole debug file
};

struct ElfFile {
  std::string path;
  std::vector<LoadSegment> segments;
  std::vector<Symbol> functions;          // hwcov/elf.h's function symbols
  std::map<uint64_t, std::string> plt;    // PLT stub address -> imported function
  std::map<uint64_t, std::string> names;  // function symbols and PLT stubs by address
  std::optional<BuildId> build_id;
  std::optional<DebugLink> debuglink;
  bool has_debug_info = false;              // .debug_info with bytes in this file
  std::shared_ptr<const MappedFile> image;  // the whole file, for code bytes

  // Link-time address of file offset |offset|, if a PT_LOAD maps it; and back.
  std::optional<uint64_t> AddressOf(uint64_t offset) const;
  std::optional<uint64_t> OffsetOf(uint64_t address) const;
  bool InExecutableSegment(uint64_t address) const;
  // The file bytes from |address| to the end of its executable segment.
  std::span<const uint8_t> CodeAt(uint64_t address) const;
  // The function symbol or PLT stub that starts at |address|, or "".
  std::string NameAt(uint64_t address) const;
};

ElfFile ReadElfFile(const std::string& path);  // throws hwcov::Error

}  // namespace hwcov::mapper
