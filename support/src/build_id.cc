#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <memory>

#include "hwcov/support.h"

namespace hwcov {

std::string BuildId::Hex() const {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  return hex;
}

BuildId BuildId::FromHex(const std::string& hex) {
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw Error("invalid build id '" + hex + "'");
  };
  if (hex.size() % 2) throw Error("invalid build id '" + hex + "'");
  BuildId id;
  for (size_t i = 0; i < hex.size(); i += 2)
    id.bytes += static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
  return id;
}

std::optional<BuildId> ReadElfBuildId(const std::filesystem::path& path) {
  elf_version(EV_CURRENT);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::unique_ptr<int, void (*)(int*)> fd_closer(&fd, [](int* f) { close(*f); });
  std::unique_ptr<Elf, int (*)(Elf*)> elf(elf_begin(fd, ELF_C_READ_MMAP, nullptr), elf_end);
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return std::nullopt;

  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) != 0) return std::nullopt;
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (!gelf_getphdr(elf.get(), static_cast<int>(i), &phdr) || phdr.p_type != PT_NOTE) continue;
    Elf_Data* data = elf_getdata_rawchunk(elf.get(), phdr.p_offset, phdr.p_filesz, ELF_T_NHDR);
    if (!data) continue;
    size_t offset = 0;
    GElf_Nhdr note;
    size_t name_off = 0, desc_off = 0;
    while ((offset = gelf_getnote(data, offset, &note, &name_off, &desc_off)) > 0) {
      const char* base = static_cast<const char*>(data->d_buf);
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
          std::string(base + name_off, 3) == "GNU")
        return BuildId{std::string(base + desc_off, note.n_descsz)};
    }
  }
  return std::nullopt;
}

}  // namespace hwcov
