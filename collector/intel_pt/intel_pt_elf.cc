#include "intel_pt_elf.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "hwcov/support.h"

namespace hwcov::collector {
namespace {

template <typename T>
T At(std::span<const uint8_t> bytes, uint64_t offset, const std::filesystem::path& path) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T))
    ThrowFileError(path, "truncated ELF file (offset " + std::to_string(offset) + ")");
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

struct Load {
  uint64_t vaddr, memsz, offset, filesz;
  bool exec;
};

}  // namespace

ElfCode::ElfCode(const std::filesystem::path& path) : path_(path) {
  MappedFile file(path);
  auto bytes = file.bytes();
  file_size_ = bytes.size();
  if (bytes.size() < sizeof(Elf64_Ehdr) || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0)
    ThrowFileError(path, "not an ELF file");
  const auto eh = At<Elf64_Ehdr>(bytes, 0, path);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    ThrowFileError(path, "not a 64-bit little-endian ELF file");

  std::vector<Load> loads;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    const auto ph = At<Elf64_Phdr>(bytes, eh.e_phoff + uint64_t{i} * eh.e_phentsize, path);
    if (ph.p_type != PT_LOAD) continue;
    loads.push_back({ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz, (ph.p_flags & PF_X) != 0});
    const ElfCodeRange range{ph.p_offset, ph.p_filesz, (ph.p_flags & PF_X) != 0};
    load_segments_.push_back(range);
    if (range.exec) exec_segments_.push_back(range);
  }
  auto to_offset = [&](uint64_t vaddr) -> std::optional<uint64_t> {
    for (const Load& l : loads)
      if (vaddr >= l.vaddr && vaddr - l.vaddr < l.filesz) return vaddr - l.vaddr + l.offset;
    return std::nullopt;
  };

  // Function symbols from .symtab (complete) or, for stripped files, .dynsym.
  for (uint32_t wanted : {uint32_t{SHT_SYMTAB}, uint32_t{SHT_DYNSYM}}) {
    for (unsigned i = 0; i < eh.e_shnum; ++i) {
      const auto sh = At<Elf64_Shdr>(bytes, eh.e_shoff + uint64_t{i} * eh.e_shentsize, path);
      if (sh.sh_type != wanted || sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link >= eh.e_shnum)
        continue;
      const auto strtab =
          At<Elf64_Shdr>(bytes, eh.e_shoff + uint64_t{sh.sh_link} * eh.e_shentsize, path);
      // Names are read in place: the whole string table must be in the file.
      if (strtab.sh_offset > bytes.size() || strtab.sh_size > bytes.size() - strtab.sh_offset)
        ThrowFileError(path, "string table (section " + std::to_string(sh.sh_link) +
                                 ") at offset " + std::to_string(strtab.sh_offset) + ", size " +
                                 std::to_string(strtab.sh_size) + " lies outside the file");
      for (uint64_t at = 0; at + sizeof(Elf64_Sym) <= sh.sh_size; at += sizeof(Elf64_Sym)) {
        const auto sym = At<Elf64_Sym>(bytes, sh.sh_offset + at, path);
        const int type = ELF64_ST_TYPE(sym.st_info);
        if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
            sym.st_value == 0 || sym.st_name >= strtab.sh_size)
          continue;
        auto offset = to_offset(sym.st_value);
        if (!offset) continue;
        const char* name =
            reinterpret_cast<const char*>(bytes.data() + strtab.sh_offset + sym.st_name);
        const size_t max = strtab.sh_size - sym.st_name;
        functions_.push_back({std::string(name, strnlen(name, max)), *offset, sym.st_size,
                              ELF64_ST_BIND(sym.st_info) == STB_GLOBAL});
      }
    }
    if (!functions_.empty()) break;
  }
  // Zero-sized symbols end where the next function starts (perf's
  // symbols__fixup_end).
  std::vector<uint64_t> starts;
  for (const auto& f : functions_) starts.push_back(f.offset);
  std::sort(starts.begin(), starts.end());
  for (auto& f : functions_) {
    if (f.size) continue;
    auto next = std::upper_bound(starts.begin(), starts.end(), f.offset);
    if (next != starts.end()) f.size = *next - f.offset;
  }
}

std::vector<ElfFunction> ElfCode::Functions(const std::string& name) const {
  std::vector<ElfFunction> out;
  for (const auto& f : functions_)
    if (f.name == name) out.push_back(f);
  return out;
}

}  // namespace hwcov::collector
