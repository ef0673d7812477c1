// Which copy of which function's code an address belongs to: the innermost
// CodeInstance (an inlined copy wins over the body it was inlined into).
// Line counts are summed over copies and maxed within one (module_mapper.cc).
#pragma once

#include <cstdint>
#include <vector>

#include "dwarf_info.h"

namespace hwcov::mapper {

constexpr uint32_t kNoInstance = UINT32_MAX;

class InstanceMap {
 public:
  InstanceMap() = default;
  explicit InstanceMap(const DebugInfo& debug);

  // Index into DebugInfo::instances, or kNoInstance.
  uint32_t At(uint64_t address) const;

 private:
  struct Segment {
    uint64_t begin, end;
    uint32_t instance;
  };
  std::vector<Segment> segments_;  // sorted, disjoint
};

}  // namespace hwcov::mapper
