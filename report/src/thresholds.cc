// CI gates: the first coverage figure below its --fail-under-* threshold.
#include <cstdio>

#include "hwcov/report.h"
#include "hwcov/support.h"

namespace hwcov::report {

std::optional<std::string> CheckThresholds(const Summary& summary, const Thresholds& thresholds) {
  const struct {
    const char* what;
    const char* option;
    std::optional<double> threshold;
    const Ratio& ratio;
  } gates[] = {{"line", "--fail-under-line", thresholds.line, summary.total.lines},
               {"function", "--fail-under-function", thresholds.function, summary.total.functions},
               {"branch", "--fail-under-branch", thresholds.branch, summary.total.branches}};
  for (const auto& g : gates) {
    if (!g.threshold) continue;
    if (!(*g.threshold >= 0 && *g.threshold <= 100))  // also refuses "nan"
      throw Error(std::string(g.option) + " must be a percentage from 0 to 100");
    // Compared unrounded: 79.996% fails a gate of 80 even though it prints as 80.00%.
    if (g.ratio.Percent() < *g.threshold) {
      char reason[160];
      std::snprintf(reason, sizeof reason, "%s coverage %.2f%% (%llu of %llu) is below %s %g",
                    g.what, g.ratio.Percent(), static_cast<unsigned long long>(g.ratio.hit),
                    static_cast<unsigned long long>(g.ratio.found), g.option, *g.threshold);
      return reason;
    }
  }
  return std::nullopt;
}

}  // namespace hwcov::report
