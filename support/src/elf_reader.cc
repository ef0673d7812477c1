// The one place hwcov parses ELF headers and symbol tables (libelf).
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "hwcov/elf.h"

namespace hwcov {
namespace {

// An open file and libelf's descriptor of it; elf() is null when the file
// cannot be opened or is not ELF (why() says which).
class ElfHandle {
 public:
  explicit ElfHandle(const std::filesystem::path& path) {
    elf_version(EV_CURRENT);
    fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      why_ = std::string("cannot open: ") + std::strerror(errno);
      return;
    }
    struct stat st {};
    if (fstat(fd_, &st) == 0) size_ = static_cast<uint64_t>(st.st_size);
    elf_ = elf_begin(fd_, ELF_C_READ_MMAP, nullptr);
    if (elf_ && elf_kind(elf_) == ELF_K_ELF) return;
    if (elf_) elf_end(elf_);
    elf_ = nullptr;
    why_ = "not an ELF file";
  }
  ~ElfHandle() {
    if (elf_) elf_end(elf_);
    if (fd_ >= 0) close(fd_);
  }
  ElfHandle(const ElfHandle&) = delete;
  ElfHandle& operator=(const ElfHandle&) = delete;

  Elf* elf() const { return elf_; }
  uint64_t size() const { return size_; }
  const std::string& why() const { return why_; }

 private:
  int fd_ = -1;
  Elf* elf_ = nullptr;
  uint64_t size_ = 0;
  std::string why_;
};

std::optional<BuildId> BuildIdNote(Elf* elf) {
  size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) != 0) return std::nullopt;
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (!gelf_getphdr(elf, static_cast<int>(i), &phdr) || phdr.p_type != PT_NOTE) continue;
    Elf_Data* data =
        elf_getdata_rawchunk(elf, static_cast<int64_t>(phdr.p_offset), phdr.p_filesz, ELF_T_NHDR);
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

std::vector<ElfSegment> LoadSegments(Elf* elf, const std::filesystem::path& path) {
  size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) != 0)
    ThrowFileError(path, std::string("bad program headers: ") + elf_errmsg(-1));
  std::vector<ElfSegment> out;
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (!gelf_getphdr(elf, static_cast<int>(i), &phdr) || phdr.p_type != PT_LOAD) continue;
    // A range that wraps around the address space or the file cannot be
    // mapped by any kernel; it would also make offsets and addresses
    // disagree. (A range past the end of the file is kept: separate debug
    // files keep their program headers and drop the bytes.)
    uint64_t ignored;
    if (__builtin_add_overflow(phdr.p_offset, phdr.p_filesz, &ignored) ||
        __builtin_add_overflow(phdr.p_vaddr, phdr.p_filesz, &ignored))
      continue;
    out.push_back({phdr.p_offset, phdr.p_vaddr, phdr.p_filesz, (phdr.p_flags & PF_X) != 0});
  }
  return out;
}

// A function symbol before its size is settled: the end of its section
// bounds a zero size.
struct Candidate {
  ElfSymbol symbol;
  uint64_t section_end = std::numeric_limits<uint64_t>::max();
};

// THE SYMBOL RULE (docs/architecture.md, "One ELF reader"), the same for
// address filters and for coverage:
//  - types STT_FUNC and STT_GNU_IFUNC: an IFUNC symbol's address is its
//    resolver, code that runs like any function;
//  - defined (not SHN_UNDEF), at an address other than 0, with a name;
//  - from .symtab, or from .dynsym when .symtab has no function (a
//    stripped file): .dynsym repeats what .symtab has, so reading both
//    would list each exported function twice;
//  - a symbol of size 0 (hand-written assembly, _init) ends where the next
//    function starts or its section ends, whichever comes first (perf's
//    symbols__fixup_end); one that still has no bytes is not a function.
bool IsFunction(const GElf_Sym& sym) {
  const int type = GELF_ST_TYPE(sym.st_info);
  return (type == STT_FUNC || type == STT_GNU_IFUNC) && sym.st_shndx != SHN_UNDEF &&
         sym.st_value != 0;
}

uint64_t SectionEnd(Elf* elf, size_t index) {
  GElf_Shdr shdr;
  Elf_Scn* scn = index < SHN_LORESERVE ? elf_getscn(elf, index) : nullptr;
  if (!scn || !gelf_getshdr(scn, &shdr) || !(shdr.sh_flags & SHF_ALLOC))
    return std::numeric_limits<uint64_t>::max();
  return shdr.sh_addr + shdr.sh_size;
}

std::vector<Candidate> FunctionsOfTable(const ElfHandle& file, Elf_Scn* scn, const GElf_Shdr& shdr,
                                        const std::filesystem::path& path) {
  Elf* elf = file.elf();
  const std::string where = " (section " + std::to_string(elf_ndxscn(scn)) + ")";
  GElf_Shdr strtab;
  Elf_Scn* strscn = elf_getscn(elf, shdr.sh_link);
  if (!strscn || !gelf_getshdr(strscn, &strtab) || strtab.sh_type != SHT_STRTAB)
    ThrowFileError(path, "symbol table" + where + " links to section " +
                             std::to_string(shdr.sh_link) + ", not a string table");
  // Names are read in place: the whole string table must be in the file.
  if (strtab.sh_type != SHT_NOBITS &&
      (strtab.sh_offset > file.size() || strtab.sh_size > file.size() - strtab.sh_offset))
    ThrowFileError(path, "string table (section " + std::to_string(shdr.sh_link) + ") at offset " +
                             std::to_string(strtab.sh_offset) + ", size " +
                             std::to_string(strtab.sh_size) + " lies outside the file");
  Elf_Data* data = elf_getdata(scn, nullptr);
  if (!data) ThrowFileError(path, "unreadable symbol table" + where + ": " + elf_errmsg(-1));
  std::vector<Candidate> out;
  // libelf converts entries of its own size, whatever sh_entsize says.
  const size_t count = data->d_size / gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
  for (size_t i = 0; i < count; ++i) {
    GElf_Sym sym;
    if (!gelf_getsym(data, static_cast<int>(i), &sym) || !IsFunction(sym)) continue;
    const char* name = elf_strptr(elf, shdr.sh_link, sym.st_name);
    if (!name || !*name) continue;
    out.push_back({{name, sym.st_value, sym.st_size, GELF_ST_BIND(sym.st_info) == STB_GLOBAL},
                   SectionEnd(elf, sym.st_shndx)});
  }
  return out;
}

std::vector<Candidate> FunctionCandidates(const ElfHandle& file,
                                          const std::filesystem::path& path) {
  for (uint32_t wanted : {uint32_t{SHT_SYMTAB}, uint32_t{SHT_DYNSYM}}) {
    std::vector<Candidate> out;
    for (Elf_Scn* scn = elf_nextscn(file.elf(), nullptr); scn; scn = elf_nextscn(file.elf(), scn)) {
      GElf_Shdr shdr;
      if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != wanted) continue;
      std::vector<Candidate> table = FunctionsOfTable(file, scn, shdr, path);
      out.insert(out.end(), table.begin(), table.end());
    }
    if (!out.empty()) return out;
  }
  return {};
}

std::vector<ElfSymbol> SettleSizes(std::vector<Candidate> candidates) {
  std::vector<uint64_t> starts;
  for (const Candidate& c : candidates) starts.push_back(c.symbol.address);
  std::sort(starts.begin(), starts.end());
  std::vector<ElfSymbol> out;
  for (Candidate& c : candidates) {
    ElfSymbol& s = c.symbol;
    if (s.size == 0) {
      auto next = std::upper_bound(starts.begin(), starts.end(), s.address);
      const uint64_t end = std::min(next == starts.end() ? c.section_end : *next, c.section_end);
      if (end != std::numeric_limits<uint64_t>::max() && end > s.address) s.size = end - s.address;
    }
    if (s.size) out.push_back(std::move(s));
  }
  return out;
}

// libelf reads a file whose header tables are cut off as one without
// them: a truncated binary would pass for one without symbols.
void CheckTablesInFile(const ElfHandle& file, const std::filesystem::path& path) {
  GElf_Ehdr eh;
  size_t shnum = 0, phnum = 0;
  if (!gelf_getehdr(file.elf(), &eh) || elf_getshdrnum(file.elf(), &shnum) != 0 ||
      elf_getphdrnum(file.elf(), &phnum) != 0)
    ThrowFileError(path, std::string("bad ELF header: ") + elf_errmsg(-1));
  auto check = [&](const char* what, uint64_t offset, uint64_t count, uint64_t entry) {
    if (count && (offset > file.size() || count * entry > file.size() - offset))
      ThrowFileError(path, std::string(what) + " (" + std::to_string(count) + " at offset " +
                               std::to_string(offset) + ") lie outside the file (" +
                               std::to_string(file.size()) + " bytes): truncated?");
  };
  // The header's own counts: libelf reports 0 for a table beyond the file
  // (0 and PN_XNUM mean the count is in section 0, which libelf read).
  check("program headers", eh.e_phoff, eh.e_phnum == PN_XNUM ? phnum : eh.e_phnum, eh.e_phentsize);
  check("section headers", eh.e_shoff, eh.e_shnum ? eh.e_shnum : shnum, eh.e_shentsize);
}

}  // namespace

ElfImage ReadElfImage(const std::filesystem::path& path) {
  const ElfHandle file(path);
  if (!file.elf()) ThrowFileError(path, file.why());
  CheckTablesInFile(file, path);
  ElfImage out;
  out.file_size = file.size();
  out.segments = LoadSegments(file.elf(), path);
  out.functions = SettleSizes(FunctionCandidates(file, path));
  out.build_id = BuildIdNote(file.elf());
  return out;
}

std::optional<BuildId> ReadElfBuildId(const std::filesystem::path& path) {
  const ElfHandle file(path);
  return file.elf() ? BuildIdNote(file.elf()) : std::nullopt;
}

std::optional<uint64_t> FileOffsetOf(std::span<const ElfSegment> segments, uint64_t address) {
  for (const ElfSegment& s : segments)
    if (address >= s.vaddr && address - s.vaddr < s.filesz) return address - s.vaddr + s.offset;
  return std::nullopt;
}

std::optional<uint64_t> AddressOfFileOffset(std::span<const ElfSegment> segments, uint64_t offset) {
  for (const ElfSegment& s : segments)
    if (offset >= s.offset && offset - s.offset < s.filesz) return offset - s.offset + s.vaddr;
  return std::nullopt;
}

}  // namespace hwcov
