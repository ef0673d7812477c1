#include "plt_names.h"

#include <elf.h>

#include "elf_file.h"
#include "elf_sections.h"

namespace hwcov::mapper {
namespace {

uint64_t Le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// GOT slot address -> symbol name, from the x86-64 RELA relocations of the
// dynamic symbols (JUMP_SLOT for lazy PLT, GLOB_DAT for .plt.got).
std::map<uint64_t, std::string> GotSlots(const ElfSections& sections) {
  std::map<uint64_t, std::string> slots;
  auto dynsym = sections.Data(".dynsym");
  auto dynstr = sections.Data(".dynstr");
  if (!dynsym || !dynstr) return slots;
  for (const char* name : {".rela.plt", ".rela.dyn"}) {
    auto rela = sections.Data(name);
    if (!rela) continue;
    for (size_t at = 0; at + sizeof(Elf64_Rela) <= rela->size(); at += sizeof(Elf64_Rela)) {
      const uint8_t* r = rela->data() + at;
      const uint64_t offset = Le(r, 8), info = Le(r + 8, 8);
      const uint32_t type = ELF64_R_TYPE(info), symbol = ELF64_R_SYM(info);
      if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
      const size_t sym_at = static_cast<size_t>(symbol) * sizeof(Elf64_Sym);
      if (symbol == 0 || sym_at + sizeof(Elf64_Sym) > dynsym->size()) continue;
      const uint32_t name_at = static_cast<uint32_t>(Le(dynsym->data() + sym_at, 4));
      if (name_at >= dynstr->size()) continue;
      slots[offset] = reinterpret_cast<const char*>(dynstr->data() + name_at);
    }
  }
  return slots;
}

}  // namespace

std::map<uint64_t, std::string> ReadPltNames(const ElfSections& sections, const ElfFile& elf) {
  std::map<uint64_t, std::string> out;
  const std::map<uint64_t, std::string> slots = GotSlots(sections);
  if (slots.empty()) return out;
  for (const char* name : {".plt", ".plt.sec", ".plt.got"}) {
    const SectionHeader* h = sections.Find(name);
    if (!h || h->shdr.sh_type == SHT_NOBITS) continue;
    const uint64_t start = h->shdr.sh_addr, size = h->shdr.sh_size;
    const uint64_t entry = h->shdr.sh_entsize ? h->shdr.sh_entsize : 16;
    std::span<const uint8_t> code = elf.CodeAt(start);
    if (code.size() < size) continue;
    // Every stub holds one "jmp *disp32(%rip)" (ff 25, with a bnd prefix f2
    // when IBT is on); the stub is the |entry|-sized slot around it.
    for (uint64_t at = 0; at + 6 <= size; ++at) {
      if (code[at] != 0xff || code[at + 1] != 0x25) continue;
      const int32_t disp = static_cast<int32_t>(Le(&code[at + 2], 4));
      const uint64_t slot = start + at + 6 + static_cast<uint64_t>(static_cast<int64_t>(disp));
      auto it = slots.find(slot);
      if (it == slots.end()) continue;
      out[start + (at / entry) * entry] = it->second;
    }
  }
  return out;
}

}  // namespace hwcov::mapper
