// The little of an ELF file that address filters need: function symbols
// and where code lies in the file, read by the one ELF reader
// (hwcov/elf.h, its symbol rule). Kernel address filters on a file are
// file offsets, so everything here is converted from virtual addresses
// through the PT_LOAD program headers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hwcov::collector {

struct ElfFunction {
  std::string name;
  uint64_t offset = 0;  // file offset of the first byte
  uint64_t size = 0;    // never 0 (hwcov/elf.h)
  bool global = false;  // STB_GLOBAL (perf's "#g")
};

struct ElfCodeRange {
  uint64_t offset = 0;
  uint64_t size = 0;  // p_filesz
  bool exec = false;
};

class ElfCode {
 public:
  // Reads |path|. Throws hwcov::Error naming it.
  explicit ElfCode(const std::filesystem::path& path);

  uint64_t file_size() const { return file_size_; }
  // Every function called |name| that the file holds bytes of, in
  // symbol-table order.
  std::vector<ElfFunction> Functions(const std::string& name) const;
  // The executable PT_LOAD segments' file ranges.
  const std::vector<ElfCodeRange>& exec_segments() const { return exec_segments_; }
  // Every PT_LOAD segment's file range, in program-header order.
  const std::vector<ElfCodeRange>& load_segments() const { return load_segments_; }

 private:
  std::filesystem::path path_;
  uint64_t file_size_ = 0;
  std::vector<ElfFunction> functions_;
  std::vector<ElfCodeRange> exec_segments_;
  std::vector<ElfCodeRange> load_segments_;
};

}  // namespace hwcov::collector
