#include <algorithm>

#include "hwcov/report.h"

namespace hwcov::report {

bool IsUnknownLine(const mapper::FileCoverage& file, uint32_t line) {
  auto it = std::lower_bound(file.lines.begin(), file.lines.end(), line,
                             [](const mapper::LineCount& l, uint32_t n) { return l.line < n; });
  return it != file.lines.end() && it->line == line && it->unknown;
}

Summary Summarize(const mapper::Coverage& coverage) {
  Summary summary;
  summary.total.path = "TOTAL";
  for (const mapper::FileCoverage& file : coverage.files) {
    FileSummary s{file.path, {}, {}, {}};
    for (const mapper::LineCount& line : file.lines) {
      if (line.unknown) {
        ++s.lines.unknown;
        continue;
      }
      ++s.lines.found;
      if (line.count) ++s.lines.hit;
    }
    for (const mapper::FunctionCount& f : file.functions) {
      if (f.unknown) {
        ++s.functions.unknown;
        continue;
      }
      ++s.functions.found;
      if (f.entry_count) ++s.functions.hit;
    }
    // An outcome of a jump that never ran ("-") is found and not hit, as
    // lcov and gcov count it; unless its line is unknown.
    for (const mapper::BranchOutcome& b : file.branches) {
      if (IsUnknownLine(file, b.line)) {
        ++s.branches.unknown;
        continue;
      }
      ++s.branches.found;
      if (b.count.value_or(0) > 0) ++s.branches.hit;
    }
    summary.total.lines += s.lines;
    summary.total.functions += s.functions;
    summary.total.branches += s.branches;
    summary.files.push_back(std::move(s));
  }
  return summary;
}

}  // namespace hwcov::report
