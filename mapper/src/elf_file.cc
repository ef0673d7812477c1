#include "elf_file.h"

#include <algorithm>

#include "elf_sections.h"
#include "plt_names.h"

namespace hwcov::mapper {

std::optional<uint64_t> ElfFile::AddressOf(uint64_t offset) const {
  return AddressOfFileOffset(segments, offset);
}

std::optional<uint64_t> ElfFile::OffsetOf(uint64_t address) const {
  return FileOffsetOf(segments, address);
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

}  // namespace

ElfFile ReadElfFile(const std::string& path) {
  ElfSections sections(path);
  ElfImage image = ReadElfImage(path);
  ElfFile out;
  out.path = path;
  out.segments = std::move(image.segments);
  out.functions = std::move(image.functions);
  out.build_id = std::move(image.build_id);
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
