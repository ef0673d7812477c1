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
  for (const auto& g : gates)
    if (g.threshold && !(*g.threshold >= 0 && *g.threshold <= 100))  // also refuses "nan"
      throw Error(std::string(g.option) + " must be a percentage from 0 to 100");
  // A report without a single line to measure proves nothing: no gate passes it.
  const bool empty = summary.total.lines.found == 0 && summary.total.functions.found == 0;
  for (const auto& g : gates) {
    if (!g.threshold) continue;
    if (empty)
      return std::string(g.option) + " fails: the report has no line or function to measure";
    if (g.ratio.found == 0) continue;  // no branches at all: nothing to miss
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
