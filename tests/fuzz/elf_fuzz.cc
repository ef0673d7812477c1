// Fuzz target: the one ELF reader (hwcov/elf.h: program headers, symbol
// tables, the symbol rule, the build-id note), what both the collector's
// address filters and the mapper read. Any bytes as a binary must give an
// ElfImage or an hwcov::Error, and an image keeps the reader's promises.
#include <cstdint>

#include "fuzz_input.h"
#include "hwcov/elf.h"

namespace {

using hwcov::fuzz::Check;

void CheckImage(const hwcov::ElfImage& image, size_t size) {
  Check(image.file_size == size, "file size as written");
  for (const hwcov::ElfSymbol& f : image.functions) {
    Check(f.size != 0, "no function without bytes");
    Check(!f.name.empty(), "no function without a name");
    Check(f.address != 0, "no function at address 0");
    if (auto offset = hwcov::FileOffsetOf(image.segments, f.address))
      Check(hwcov::AddressOfFileOffset(image.segments, *offset).has_value(),
            "a mapped offset maps back");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hwcov::fuzz::ScratchFile file("input.elf");
  const std::filesystem::path& path = file.Write(data, size);
  const std::optional<hwcov::BuildId> id = hwcov::ReadElfBuildId(path);  // never throws
  try {
    const hwcov::ElfImage image = hwcov::ReadElfImage(path);
    CheckImage(image, size);
    Check(image.build_id == id, "the build id ReadElfBuildId reads");
    hwcov::fuzz::Accepted(std::to_string(image.segments.size()) + " segments, " +
                          std::to_string(image.functions.size()) + " functions");
  } catch (const hwcov::Error& e) {
    hwcov::fuzz::Refused(e.what());
  }
  return 0;
}
