// The one ELF reader of hwcov (libelf behind it, no libelf type in here):
// the load segments, the function symbols and the build id of a binary.
// The collector turns them into address filters (file offsets), the mapper
// into function names and ranges; both read them through ReadElfImage, so
// they agree on which symbols are functions (the rule is in elf_reader.cc
// and docs/architecture.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hwcov/support.h"

namespace hwcov {

// One PT_LOAD program header.
struct ElfSegment {
  uint64_t offset = 0, vaddr = 0, filesz = 0;
  bool executable = false;  // PF_X
};

// One function symbol: its link-time address and a size that is never 0.
struct ElfSymbol {
  std::string name;
  uint64_t address = 0, size = 0;
  bool global = false;  // STB_GLOBAL (perf's "#g" filter suffix)
};

struct ElfImage {
  uint64_t file_size = 0;
  std::vector<ElfSegment> segments;  // PT_LOAD, in program-header order
  std::vector<ElfSymbol> functions;  // in symbol-table order
  std::optional<BuildId> build_id;
};

// Reads |path|. Throws hwcov::Error naming the file for anything that is not
// a readable ELF file (not ELF, bad headers, a symbol or string table outside
// the file).
ElfImage ReadElfImage(const std::filesystem::path& path);

// The file offset a PT_LOAD maps |address| from; nullopt outside the file
// bytes of every segment (.bss, unmapped).
std::optional<uint64_t> FileOffsetOf(std::span<const ElfSegment> segments, uint64_t address);
// The link-time address of file offset |offset|; nullopt where no PT_LOAD maps it.
std::optional<uint64_t> AddressOfFileOffset(std::span<const ElfSegment> segments, uint64_t offset);

}  // namespace hwcov
