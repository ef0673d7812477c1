#include "elf_sections.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>

#include "hwcov/support.h"

namespace hwcov::mapper {
namespace {

// zlib-inflates |in| into exactly |size| bytes.
std::vector<uint8_t> Inflate(const std::string& path, const std::string& section,
                             std::span<const uint8_t> in, uint64_t size) {
  // The size comes from the file: refuse one deflate cannot reach (at most
  // 1032:1) before allocating it, or a corrupt header asks for exabytes.
  if (size / 1032 > in.size() + 64)
    ThrowFileError(path, "compressed section " + section + " claims " + std::to_string(size) +
                             " bytes from " + std::to_string(in.size()) + ": corrupt");
  std::vector<uint8_t> out(size);
  uLongf out_size = static_cast<uLongf>(size);
  int rc = uncompress(out.data(), &out_size, in.data(), static_cast<uLong>(in.size()));
  if (rc != Z_OK || out_size != size)
    ThrowFileError(path, "cannot inflate compressed section " + section + " (zlib error " +
                             std::to_string(rc) + ")");
  return out;
}

}  // namespace

ElfSections::ElfSections(const std::string& path) : path_(path) {
  elf_version(EV_CURRENT);
  fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) ThrowFileError(path, std::string("cannot open: ") + std::strerror(errno));
  elf_ = elf_begin(fd_, ELF_C_READ_MMAP, nullptr);
  if (!elf_ || elf_kind(elf_) != ELF_K_ELF) {
    if (elf_) elf_end(elf_);
    close(fd_);
    ThrowFileError(path, "not an ELF file");
  }
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf_, &shstrndx) != 0) {
    elf_end(elf_);
    close(fd_);
    ThrowFileError(path, std::string("bad section headers: ") + elf_errmsg(-1));
  }
  for (Elf_Scn* scn = elf_nextscn(elf_, nullptr); scn; scn = elf_nextscn(elf_, scn)) {
    SectionHeader h;
    if (!gelf_getshdr(scn, &h.shdr)) continue;
    const char* name = elf_strptr(elf_, shstrndx, h.shdr.sh_name);
    h.name = name ? name : "";
    headers_.push_back(std::move(h));
    scns_.push_back(scn);
  }
}

ElfSections::~ElfSections() {
  elf_end(elf_);
  close(fd_);
}

const SectionHeader* ElfSections::Find(const std::string& name) const {
  const std::string gnu = name.rfind(".debug_", 0) == 0 ? ".z" + name.substr(1) : "";
  for (const SectionHeader& h : headers_)
    if (h.name == name || (!gnu.empty() && h.name == gnu)) return &h;
  return nullptr;
}

std::optional<std::span<const uint8_t>> ElfSections::Data(const std::string& name) const {
  const SectionHeader* h = Find(name);
  if (!h || h->shdr.sh_type == SHT_NOBITS || h->shdr.sh_size == 0) return std::nullopt;
  if (auto it = inflated_.find(name); it != inflated_.end()) return std::span(it->second);
  Elf_Scn* scn = scns_[static_cast<size_t>(h - headers_.data())];
  // elf_rawdata: the bytes as stored, no libelf type conversion.
  Elf_Data* data = elf_rawdata(scn, nullptr);
  if (!data || !data->d_buf) return std::nullopt;
  std::span<const uint8_t> raw(static_cast<const uint8_t*>(data->d_buf), data->d_size);

  if (h->shdr.sh_flags & SHF_COMPRESSED) {
    // ELF compression header, then a zlib stream (gcc -gz, objcopy
    // --compress-debug-sections).
    GElf_Chdr chdr;
    if (!gelf_getchdr(scn, &chdr) || chdr.ch_type != ELFCOMPRESS_ZLIB)
      ThrowFileError(path_, "section " + h->name + " uses an unsupported compression");
    const size_t header =
        gelf_getclass(elf_) == ELFCLASS32 ? sizeof(Elf32_Chdr) : sizeof(Elf64_Chdr);
    if (raw.size() < header) ThrowFileError(path_, "truncated compressed section " + h->name);
    auto [it, _] =
        inflated_.emplace(name, Inflate(path_, h->name, raw.subspan(header), chdr.ch_size));
    return std::span(it->second);
  }
  if (h->name.rfind(".zdebug_", 0) == 0) {
    // GNU form (gcc -gz=zlib-gnu): "ZLIB", 8-byte big-endian size, zlib stream.
    if (raw.size() < 12 || std::memcmp(raw.data(), "ZLIB", 4) != 0)
      ThrowFileError(path_, "section " + h->name + " lacks its ZLIB header");
    uint64_t size = 0;
    for (int i = 4; i < 12; ++i) size = size << 8 | raw[static_cast<size_t>(i)];
    auto [it, _] = inflated_.emplace(name, Inflate(path_, h->name, raw.subspan(12), size));
    return std::span(it->second);
  }
  return raw;
}

}  // namespace hwcov::mapper
