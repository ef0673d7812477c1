// The parts of a binary the mapper needs: load segments (file offset <->
// link-time address), code bytes, function symbols (the fallback without
// DWARF, and the names of call targets), PLT stub names, build id and
// .gnu_debuglink (to find separate debug info). Segments, symbols and the
// build id come from the one ELF reader (hwcov/elf.h), so the mapper and the
// collector's address filters agree on what a function is.
#pragma once

#include <algorithm>
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

// What a walk over code does at a byte that does not decode: padding or data
// between functions is skipped a byte at a time; inside one function's
// range, the rest of the range is no evidence either way.
enum class OnUndecodable { kResync, kStop };

// Calls |fn|(address, instruction) for each instruction of [begin, end) of
// |elf|'s code, decoded from |begin|.
template <typename Fn>
void ForEachInsn(const ElfFile& elf, uint64_t begin, uint64_t end, OnUndecodable policy, Fn fn) {
  std::span<const uint8_t> code = elf.CodeAt(begin);
  const uint64_t size = std::min<uint64_t>(end - begin, code.size());
  for (uint64_t at = 0; at < size;) {
    const InsnInfo insn = ClassifyInsn(code.subspan(at), begin + at);
    if (insn.length == 0) {
      if (policy == OnUndecodable::kStop) return;
      ++at;
      continue;
    }
    fn(begin + at, insn);
    at += insn.length;
  }
}

}  // namespace hwcov::mapper
