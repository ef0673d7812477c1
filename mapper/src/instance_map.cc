#include "instance_map.h"

#include <algorithm>
#include <queue>
#include <tuple>

namespace hwcov::mapper {

InstanceMap::InstanceMap(const DebugInfo& debug) {
  // A sweep over every range boundary, keeping the ranges that cover the
  // current address in a heap ordered by depth (then by listing order, as a
  // later DIE of equal depth is the more specific one): the top is the
  // innermost copy. O(n log n) with no per-range allocation.
  struct Range {
    uint64_t begin, end;
    uint32_t depth, instance;
  };
  std::vector<Range> ranges;
  for (uint32_t i = 0; i < debug.instances.size(); ++i)
    for (const AddressRange& r : debug.instances[i].ranges)
      ranges.push_back({r.begin, r.end, debug.instances[i].depth, i});
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.begin < b.begin; });
  std::vector<uint64_t> bounds;
  for (const Range& r : ranges) {
    bounds.push_back(r.begin);
    bounds.push_back(r.end);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());

  auto lower = [&](const Range* a, const Range* b) {
    return std::tie(a->depth, a->instance) < std::tie(b->depth, b->instance);
  };
  std::priority_queue<const Range*, std::vector<const Range*>, decltype(lower)> open(lower);
  size_t next = 0;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    const uint64_t at = bounds[i];
    for (; next < ranges.size() && ranges[next].begin == at; ++next) open.push(&ranges[next]);
    while (!open.empty() && open.top()->end <= at) open.pop();  // lazily drop ranges that ended
    if (open.empty()) continue;
    const uint32_t instance = open.top()->instance;
    if (!segments_.empty() && segments_.back().end == at && segments_.back().instance == instance)
      segments_.back().end = bounds[i + 1];
    else
      segments_.push_back({at, bounds[i + 1], instance});
  }
}

uint32_t InstanceMap::At(uint64_t address) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), address,
                             [](uint64_t a, const Segment& s) { return a < s.begin; });
  if (it == segments_.begin()) return kNoInstance;
  --it;
  return address < it->end ? it->instance : kNoInstance;
}

}  // namespace hwcov::mapper
