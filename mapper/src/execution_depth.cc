#include "execution_depth.h"

#include <algorithm>
#include <climits>

namespace hwcov::mapper {

void ExecutionDepth::Add(uint64_t begin, uint64_t last, uint64_t count) {
  events_.push_back({begin, static_cast<int64_t>(count)});
  events_.push_back({last + 1, -static_cast<int64_t>(count)});
}

void ExecutionDepth::Build() {
  std::sort(events_.begin(), events_.end());
  int64_t depth = 0;
  for (size_t i = 0; i < events_.size();) {
    const uint64_t at = events_[i].first;
    for (; i < events_.size() && events_[i].first == at; ++i) depth += events_[i].second;
    steps_.push_back({at, static_cast<uint64_t>(depth)});
  }
  events_.clear();
  events_.shrink_to_fit();
}

uint64_t ExecutionDepth::MaxIn(uint64_t begin, uint64_t end) const {
  auto it = std::upper_bound(steps_.begin(), steps_.end(), std::make_pair(begin, UINT64_MAX));
  uint64_t best = it == steps_.begin() ? 0 : std::prev(it)->second;
  for (; it != steps_.end() && it->first < end; ++it) best = std::max(best, it->second);
  return best;
}

}  // namespace hwcov::mapper
