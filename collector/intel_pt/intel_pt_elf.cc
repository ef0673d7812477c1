#include "intel_pt_elf.h"

#include "hwcov/elf.h"

namespace hwcov::collector {

ElfCode::ElfCode(const std::filesystem::path& path) : path_(path) {
  const ElfImage image = ReadElfImage(path);
  file_size_ = image.file_size;
  for (const ElfSegment& s : image.segments) {
    const ElfCodeRange range{s.offset, s.filesz, s.executable};
    load_segments_.push_back(range);
    if (range.exec) exec_segments_.push_back(range);
  }
  // Kernel address filters on a file are file offsets.
  for (const ElfSymbol& f : image.functions)
    if (auto offset = FileOffsetOf(image.segments, f.address))
      functions_.push_back({f.name, *offset, f.size, f.global});
}

std::vector<ElfFunction> ElfCode::Functions(const std::string& name) const {
  std::vector<ElfFunction> out;
  for (const auto& f : functions_)
    if (f.name == name) out.push_back(f);
  return out;
}

}  // namespace hwcov::collector
