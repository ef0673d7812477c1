#include "dwarf_list_headers.h"

#include <cstring>

#include "hwcov/support.h"

namespace hwcov::mapper {
namespace {

// One table header (DWARF 5, 7.28 and 7.29): unit_length (4 bytes, or
// 0xffffffff and 8), version 2, address_size 1, segment_selector_size 1,
// offset_entry_count 4. Returns the offset of the next table, or a reason.
struct Next {
  uint64_t offset = 0;
  const char* error = nullptr;
};

Next ReadHeader(std::span<const uint8_t> bytes, uint64_t at) {
  auto get = [&](uint64_t offset, size_t size) {
    uint64_t value = 0;
    std::memcpy(&value, bytes.data() + offset, size);  // little-endian
    return value;
  };
  const uint64_t left = bytes.size() - at;
  if (left < 4) return {0, "truncated unit length"};
  uint64_t length = get(at, 4);
  uint64_t field = 4;
  if (length == 0xffffffff) {
    if (left < 12) return {0, "truncated 64-bit unit length"};
    length = get(at + 4, 8);
    field = 12;
  } else if (length >= 0xfffffff0) {
    return {0, "reserved unit length"};
  }
  if (length > left - field) return {0, "unit length beyond the section"};
  if (length < 8) return {0, "unit too short for its header"};
  const uint64_t version = get(at + field, 2);
  const uint64_t address_size = get(at + field + 2, 1);
  if (version != 5) return {0, "version is not 5"};
  if (address_size != 2 && address_size != 4 && address_size != 8)
    return {0, "unsupported address size"};
  return {at + field + length, nullptr};
}

}  // namespace

void CheckDwarfListHeaders(const ElfSections& sections) {
  for (const char* name :
       {".debug_rnglists", ".debug_loclists", ".debug_rnglists.dwo", ".debug_loclists.dwo"}) {
    const auto bytes = sections.Data(name);
    if (!bytes) continue;
    for (uint64_t at = 0; at < bytes->size();) {
      const Next next = ReadHeader(*bytes, at);
      if (next.error)
        ThrowFileError(sections.path(), std::string("corrupt DWARF: ") + name +
                                            " table header at offset " + std::to_string(at) + ": " +
                                            next.error);
      at = next.offset;
    }
  }
}

}  // namespace hwcov::mapper
