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
    bool instrumentable = false, in_gap = false;
    for (; end < observations_.size() && observations_[end].file == observations_[begin].file &&
           observations_[end].line == observations_[begin].line;
         ++end) {
      instrumentable |= observations_[end].instrumentable;
      in_gap |= observations_[end].in_gap;
    }
    // Sum over copies of the most executed observation in each copy.
    auto total = [&](bool with_views) {
      uint64_t sum = 0, copy_max = 0;
      for (size_t i = begin; i < end; ++i) {
        const Observation& o = observations_[i];
        if (with_views || o.source != Source::kView) copy_max = std::max(copy_max, o.count);
        if (i + 1 == end || observations_[i + 1].copy != o.copy) {
          sum += copy_max;
          copy_max = 0;
        }
      }
      return sum;
    };
    // A view's count stands in only when nothing else of the line ran: the
    // instruction a view is at often runs more often than the statement.
    uint64_t count = total(false);
    if (count == 0) count = total(true);
    if (instrumentable)
      emit(observations_[begin].file, observations_[begin].line, count, in_gap && count == 0);
    begin = end;
  }
  observations_.clear();
}

}  // namespace hwcov::mapper
