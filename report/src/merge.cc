#include <algorithm>

#include "hwcov/report.h"
#include "hwcov/support.h"
#include "test_alignment.h"

namespace hwcov::report {

mapper::Coverage MergeCoverage(const std::vector<mapper::Coverage>& inputs) {
  // The tests' sum must stay the total: coverage no test ran cannot join.
  const auto tested = [](const mapper::Coverage& c) { return !c.tests.empty(); };
  const auto untested = [](const mapper::Coverage& c) {
    return c.tests.empty() && !c.files.empty();
  };
  if (std::any_of(inputs.begin(), inputs.end(), tested) &&
      std::any_of(inputs.begin(), inputs.end(), untested))
    throw Error(
        "per-test coverage cannot be merged with coverage that has no tests (written "
        "without --per-test)");
  mapper::Coverage merged;
  for (const mapper::Coverage& c : inputs) mapper::Merge(merged, c);
  // mapper::Merge sums counts (commutative) but appends messages in input
  // order; sorting them makes the result independent of the order too.
  std::sort(merged.files.begin(), merged.files.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  std::sort(merged.quality.gap_details.begin(), merged.quality.gap_details.end());
  std::sort(merged.quality.warnings.begin(), merged.quality.warnings.end());
  AlignTests(merged);
  return merged;
}

}  // namespace hwcov::report
