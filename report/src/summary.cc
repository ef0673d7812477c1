#include "hwcov/report.h"

namespace hwcov::report {

Summary Summarize(const mapper::Coverage& coverage) {
  Summary summary;
  summary.total.path = "TOTAL";
  for (const mapper::FileCoverage& file : coverage.files) {
    FileSummary s{file.path, {}, {}, {}};
    for (const mapper::LineCount& line : file.lines) {
      ++s.lines.found;
      if (line.count) ++s.lines.hit;
    }
    for (const mapper::FunctionCount& f : file.functions) {
      ++s.functions.found;
      if (f.entry_count) ++s.functions.hit;
    }
    // An outcome of a jump that never ran ("-") is found and not hit, as
    // lcov and gcov count it.
    for (const mapper::BranchOutcome& b : file.branches) {
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
