#include "line_tally.h"

#include <algorithm>
#include <tuple>

namespace hwcov::mapper {

void LineTally::Reduce(const std::function<void(uint32_t, uint32_t, uint64_t, bool)>& emit) {
  auto key = [](const Observation& o) { return std::tie(o.file, o.line, o.copy); };
  std::sort(observations_.begin(), observations_.end(),
            [&](const Observation& a, const Observation& b) { return key(a) < key(b); });
  for (size_t begin = 0; begin < observations_.size();) {
    size_t end = begin;
    bool instrumentable = false, has_rows = false, in_gap = false;
    for (; end < observations_.size() && observations_[end].file == observations_[begin].file &&
           observations_[end].line == observations_[begin].line;
         ++end) {
      instrumentable |= observations_[end].instrumentable;
      has_rows |= observations_[end].source == Source::kRow;
      in_gap |= observations_[end].in_gap;
    }
    uint64_t total = 0, copy_max = 0;
    for (size_t i = begin; i < end; ++i) {
      const Observation& o = observations_[i];
      if (!(has_rows && o.source == Source::kView)) copy_max = std::max(copy_max, o.count);
      if (i + 1 == end || observations_[i + 1].copy != o.copy) {
        total += copy_max;
        copy_max = 0;
      }
    }
    if (instrumentable)
      emit(observations_[begin].file, observations_[begin].line, total, in_gap && total == 0);
    begin = end;
  }
  observations_.clear();
}

}  // namespace hwcov::mapper
