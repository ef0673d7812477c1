#include "fake_address_filters.h"

#include <elf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace hwcov::testing {
namespace {

uint64_t InodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// match_u64 (lib/parser.c): kstrtoull with base 0, so 0x... and decimal.
bool ParseNumber(const std::string& s, uint64_t* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *v = std::strtoull(s.c_str(), &end, 0);
  return errno == 0 && end == s.c_str() + s.size();
}

// perf_addr_filter_match: the same inode, and the ranges overlap with both
// ends counted as inside.
bool Matches(const FakeFilter& f, const FakeVma& vma) {
  const uint64_t inode = vma.inode ? vma.inode : InodeOf(vma.path);
  const uint64_t size = vma.end - vma.start;
  return f.inode == inode && !(f.offset > vma.pgoff + size) && !(f.offset + f.size < vma.pgoff);
}

// perf_addr_filter_vma_adjust.
FakeRange Bind(const FakeFilter& f, const FakeVma& vma) {
  const uint64_t size = vma.end - vma.start;
  if (f.offset < vma.pgoff) return {vma.start, std::min(size, f.size - (vma.pgoff - f.offset))};
  const uint64_t start = vma.start + f.offset - vma.pgoff;
  return {start, std::min(vma.end - start, f.size)};
}

}  // namespace

int ParseKernelFilters(const std::string& text, std::vector<FakeFilter>* out) {
  std::vector<std::string> tokens;
  std::string token;
  for (char c : text + " ") {
    if (c == ' ' || c == ',' || c == '\n') {
      if (!token.empty()) tokens.push_back(token);  // strsep's empty tokens are skipped
      token.clear();
    } else {
      token += c;
    }
  }
  for (size_t i = 0; i < tokens.size(); i += 2) {
    FakeFilter f;
    f.action = tokens[i];
    if (f.action != "filter" && f.action != "start" && f.action != "stop") return -EINVAL;
    if (i + 1 >= tokens.size()) return -EINVAL;
    const std::string& range = tokens[i + 1];
    const size_t slash = range.find('/'), at = range.find('@');
    if (at == std::string::npos) return -EINVAL;  // kernel addresses: not for user-only events
    const std::string offset = range.substr(0, std::min(slash, at));
    const std::string size = slash < at ? range.substr(slash + 1, at - slash - 1) : "";
    if (!ParseNumber(offset, &f.offset)) return -EINVAL;
    if (f.action == "filter" && !ParseNumber(size, &f.size)) return -EINVAL;
    f.path = range.substr(at + 1);
    f.inode = InodeOf(f.path);
    if (!f.inode) return -ENOENT;  // kern_path
    out->push_back(f);
  }
  return out->empty() ? -EINVAL : 0;
}

std::optional<FakeRange> ApplyToRunningTask(const FakeFilter& filter,
                                            const std::vector<FakeVma>& mm) {
  std::vector<const FakeVma*> by_address;
  for (const FakeVma& v : mm) by_address.push_back(&v);
  std::sort(by_address.begin(), by_address.end(),
            [](const FakeVma* a, const FakeVma* b) { return a->start < b->start; });
  for (const FakeVma* v : by_address)
    if (Matches(filter, *v)) return Bind(filter, *v);
  return std::nullopt;
}

std::optional<FakeRange> ApplyAfterExec(const FakeFilter& filter,
                                        const std::vector<FakeVma>& mapped) {
  std::optional<FakeRange> range;
  for (const FakeVma& v : mapped)
    if (Matches(filter, v)) range = Bind(filter, v);
  return range;
}

std::vector<FakeVma> LoadElf(const std::string& path, uint64_t base) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  in.read(reinterpret_cast<char*>(&eh), sizeof eh);
  std::vector<FakeVma> vmas;
  constexpr uint64_t kPage = 4096;
  for (unsigned i = 0; in && i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    in.seekg(static_cast<std::streamoff>(eh.e_phoff + i * uint64_t{eh.e_phentsize}));
    in.read(reinterpret_cast<char*>(&ph), sizeof ph);
    if (!in || ph.p_type != PT_LOAD || ph.p_filesz == 0) continue;
    FakeVma v;
    v.start = (base + ph.p_vaddr) & ~(kPage - 1);
    v.end = (base + ph.p_vaddr + ph.p_filesz + kPage - 1) & ~(kPage - 1);
    v.pgoff = ph.p_offset & ~(kPage - 1);
    v.path = path;
    v.exec = (ph.p_flags & PF_X) != 0;
    vmas.push_back(v);
  }
  return vmas;
}

}  // namespace hwcov::testing
