#include "elf_file.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <memory>

#include "hwcov/support.h"

namespace hwcov::mapper {

std::optional<uint64_t> ElfFile::AddressOf(uint64_t offset) const {
  for (const LoadSegment& s : segments)
    if (offset >= s.offset && offset - s.offset < s.filesz) return offset - s.offset + s.vaddr;
  return std::nullopt;
}

bool ElfFile::InExecutableSegment(uint64_t address) const {
  for (const LoadSegment& s : segments)
    if (s.executable && address >= s.vaddr && address - s.vaddr < s.filesz) return true;
  return false;
}

ElfFile ReadElfFile(const std::string& path) {
  elf_version(EV_CURRENT);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowFileError(path, "cannot open binary");
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { close(*f); });
  std::unique_ptr<Elf, int (*)(Elf*)> elf(elf_begin(fd, ELF_C_READ_MMAP, nullptr), elf_end);
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) ThrowFileError(path, "not an ELF file");

  ElfFile out;
  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) != 0)
    ThrowFileError(path, std::string("bad program headers: ") + elf_errmsg(-1));
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (!gelf_getphdr(elf.get(), static_cast<int>(i), &phdr) || phdr.p_type != PT_LOAD) continue;
    out.segments.push_back({phdr.p_offset, phdr.p_vaddr, phdr.p_filesz, (phdr.p_flags & PF_X) != 0});
  }

  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf.get(), scn)) != nullptr) {
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
      const char* name = elf_strptr(elf.get(), shdr.sh_link, sym.st_name);
      if (name && *name) out.functions.push_back({name, sym.st_value, sym.st_size});
    }
  }
  return out;
}

}  // namespace hwcov::mapper
