// Merge(): the sum of two coverages, through the same builder that
// accumulates binaries within one profile, so both follow one rule (also for
// unknown lines: covered anywhere wins, unknown and 0 stays unknown).
#include <algorithm>

#include "coverage_builder.h"
#include "hwcov/mapper.h"

namespace hwcov::mapper {
namespace {

void Add(CoverageBuilder& builder, const std::vector<FileCoverage>& files) {
  for (const FileCoverage& f : files) {
    for (const LineCount& l : f.lines) builder.AddLine(f.path, l.line, l.count, l.unknown);
    for (const FunctionCount& fn : f.functions) builder.AddFunction(f.path, fn);
    for (const BranchOutcome& b : f.branches) builder.AddBranch(f.path, b);
  }
}

}  // namespace

void Merge(Coverage& into, const Coverage& from) {
  CoverageBuilder builder;
  Add(builder, into.files);
  Add(builder, from.files);
  into.files = builder.Build();
  for (const TestCoverage& test : from.tests) {
    auto at = std::lower_bound(
        into.tests.begin(), into.tests.end(), test.name,
        [](const TestCoverage& t, const std::string& name) { return t.name < name; });
    if (at == into.tests.end() || at->name != test.name) {
      into.tests.insert(at, test);
      continue;
    }
    CoverageBuilder test_builder;
    Add(test_builder, at->files);
    Add(test_builder, test.files);
    at->files = test_builder.Build();
  }
  TraceQuality& q = into.quality;
  const TraceQuality& o = from.quality;
  q.trace_bytes += o.trace_bytes;
  q.decoded_bytes += o.decoded_bytes;
  q.instructions += o.instructions;
  q.unmapped_instructions += o.unmapped_instructions;
  for (const auto& [kind, n] : o.gaps_by_kind) q.gaps_by_kind[kind] += n;
  q.gap_details.insert(q.gap_details.end(), o.gap_details.begin(), o.gap_details.end());
  q.warnings.insert(q.warnings.end(), o.warnings.begin(), o.warnings.end());
}

}  // namespace hwcov::mapper
