// The sections of an ELF file by name, with compressed debug sections
// (SHF_COMPRESSED, and the older .zdebug_* form) inflated. The line-table
// reader and the PLT decoder read sections through this class; libdwarf
// reads .debug_info itself (and inflates it itself).
#pragma once

#include <gelf.h>
#include <libelf.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hwcov::mapper {

struct SectionHeader {
  std::string name;
  GElf_Shdr shdr{};
};

class ElfSections {
 public:
  explicit ElfSections(const std::string& path);  // throws hwcov::Error
  ~ElfSections();
  ElfSections(const ElfSections&) = delete;
  ElfSections& operator=(const ElfSections&) = delete;

  const std::string& path() const { return path_; }
  Elf* elf() const { return elf_; }
  const std::vector<SectionHeader>& headers() const { return headers_; }

  // The header of section |name| (or of its .zdebug_ twin); nullptr if absent.
  const SectionHeader* Find(const std::string& name) const;
  // The bytes of section |name| (inflated if compressed); nullopt when the
  // section is absent or has no bytes in the file (SHT_NOBITS, as in a
  // stripped binary's debug sections). Throws for corrupt compressed data.
  std::optional<std::span<const uint8_t>> Data(const std::string& name) const;

 private:
  std::string path_;
  int fd_ = -1;
  Elf* elf_ = nullptr;
  std::vector<SectionHeader> headers_;
  std::vector<Elf_Scn*> scns_;
  // Inflated copies of compressed sections, by name; kept for the object's life.
  mutable std::map<std::string, std::vector<uint8_t>> inflated_;
};

}  // namespace hwcov::mapper
