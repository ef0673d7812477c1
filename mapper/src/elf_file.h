// The parts of an ELF file the mapper needs: load segments (file offset to
// link-time address) and function symbols (the fallback without DWARF).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hwcov::mapper {

struct LoadSegment {
  uint64_t offset = 0, vaddr = 0, filesz = 0;
  bool executable = false;
};

struct Symbol {
  std::string name;
  uint64_t address = 0, size = 0;
};

struct ElfFile {
  std::vector<LoadSegment> segments;
  std::vector<Symbol> functions;

  // Link-time address of file offset |offset|, if a PT_LOAD maps it.
  std::optional<uint64_t> AddressOf(uint64_t offset) const;
  bool InExecutableSegment(uint64_t address) const;
};

ElfFile ReadElfFile(const std::string& path);  // throws hwcov::Error

}  // namespace hwcov::mapper
