#include "elf_file.h"

#include <algorithm>

#include "elf_sections.h"
#include "plt_names.h"

namespace hwcov::mapper {

std::optional<uint64_t> ElfFile::AddressOf(uint64_t offset) const {
  for (const LoadSegment& s : segments)
    if (offset >= s.offset && offset - s.offset < s.filesz) return offset - s.offset + s.vaddr;
  return std::nullopt;
}

std::optional<uint64_t> ElfFile::OffsetOf(uint64_t address) const {
  for (const LoadSegment& s : segments)
    if (address >= s.vaddr && address - s.vaddr < s.filesz) return address - s.vaddr + s.offset;
  return std::nullopt;
}

bool ElfFile::InExecutableSegment(uint64_t address) const {
  for (const LoadSegment& s : segments)
    if (s.executable && address >= s.vaddr && address - s.vaddr < s.filesz) return true;
  return false;
}

std::span<const uint8_t> ElfFile::CodeAt(uint64_t address) const {
  for (const LoadSegment& s : segments) {
    if (!s.executable || address < s.vaddr || address - s.vaddr >= s.filesz) continue;
    const uint64_t offset = address - s.vaddr + s.offset;
    const uint64_t end = std::min<uint64_t>(s.offset + s.filesz, image->bytes().size());
    if (offset >= end) return {};
    return image->bytes().subspan(offset, end - offset);
  }
  return {};
}

std::string ElfFile::NameAt(uint64_t address) const {
  auto it = names.find(address);
  return it == names.end() ? "" : it->second;
}

namespace {

std::optional<DebugLink> ReadDebugLink(const ElfSections& sections) {
  // .gnu_debuglink: NUL-terminated name, padding to 4 bytes, CRC-32 (LE).
  auto data = sections.Data(".gnu_debuglink");
  if (!data) return std::nullopt;
  auto nul = std::find(data->begin(), data->end(), 0);
  if (nul == data->end()) return std::nullopt;
  DebugLink link{std::string(data->begin(), nul), 0};
  const size_t crc_at = (static_cast<size_t>(nul - data->begin()) + 4) & ~size_t{3};
  if (crc_at + 4 > data->size()) return std::nullopt;
  for (int i = 3; i >= 0; --i) link.crc = link.crc << 8 | (*data)[crc_at + static_cast<size_t>(i)];
  return link;
}

std::vector<Symbol> ReadFunctionSymbols(const ElfSections& sections) {
  std::vector<Symbol> out;
  Elf* elf = sections.elf();
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr shdr;
    if (!gelf_getshdr(scn, &shdr) || (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM))
      continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data || shdr.sh_entsize == 0) continue;
    const size_t count = shdr.sh_size / shdr.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Sym sym;
      if (!gelf_getsym(data, static_cast<int>(i), &sym)) continue;
      if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF || !sym.st_size)
        continue;
      const char* name = elf_strptr(elf, shdr.sh_link, sym.st_name);
      if (name && *name) out.push_back({name, sym.st_value, sym.st_size});
    }
  }
  return out;
}

}  // namespace

ElfFile ReadElfFile(const std::string& path) {
  ElfSections sections(path);
  ElfFile out;
  out.path = path;
  size_t phnum = 0;
  if (elf_getphdrnum(sections.elf(), &phnum) != 0)
    ThrowFileError(path, std::string("bad program headers: ") + elf_errmsg(-1));
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (!gelf_getphdr(sections.elf(), static_cast<int>(i), &phdr) || phdr.p_type != PT_LOAD)
      continue;
    out.segments.push_back(
        {phdr.p_offset, phdr.p_vaddr, phdr.p_filesz, (phdr.p_flags & PF_X) != 0});
  }
  out.functions = ReadFunctionSymbols(sections);
  out.build_id = ReadElfBuildId(path);
  out.debuglink = ReadDebugLink(sections);
  const SectionHeader* info = sections.Find(".debug_info");
  out.has_debug_info = info && info->shdr.sh_type != SHT_NOBITS && info->shdr.sh_size > 0;
  out.image = std::make_shared<const MappedFile>(path);
  out.plt = ReadPltNames(sections, out);
  for (const Symbol& s : out.functions) out.names.emplace(s.address, s.name);
  out.names.insert(out.plt.begin(), out.plt.end());
  return out;
}

}  // namespace hwcov::mapper
