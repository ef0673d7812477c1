#include "hwcov/report.h"

namespace hwcov::report {

Summary Summarize(const mapper::Coverage& coverage) {
  Summary summary;
  summary.total.path = "TOTAL";
  for (const mapper::FileCoverage& file : coverage.files) {
    FileSummary s{file.path, {}, {}};
    for (const mapper::LineCount& line : file.lines) {
      ++s.lines.found;
      if (line.count) ++s.lines.hit;
    }
    for (const mapper::FunctionCount& f : file.functions) {
      ++s.functions.found;
      if (f.entry_count) ++s.functions.hit;
    }
    summary.total.lines += s.lines;
    summary.total.functions += s.functions;
    summary.files.push_back(std::move(s));
  }
  return summary;
}

}  // namespace hwcov::report
