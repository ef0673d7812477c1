#include "test_alignment.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "hwcov/support.h"

namespace hwcov::report {
namespace {

const mapper::FileCoverage* FindFile(const std::vector<mapper::FileCoverage>& files,
                                     const std::string& path) {
  auto it = std::lower_bound(files.begin(), files.end(), path,
                             [](const auto& f, const std::string& p) { return f.path < p; });
  return it != files.end() && it->path == path ? &*it : nullptr;
}

// |total|'s items with the counts |test| has for them.
mapper::FileCoverage Align(const mapper::FileCoverage& total, const mapper::FileCoverage* test) {
  mapper::FileCoverage out = total;
  for (mapper::LineCount& l : out.lines) l.count = 0;
  for (mapper::FunctionCount& fn : out.functions) fn.entry_count = 0;
  for (mapper::BranchOutcome& b : out.branches) b.count.reset();
  if (!test) return out;
  auto line = test->lines.begin();
  for (mapper::LineCount& l : out.lines) {
    while (line != test->lines.end() && line->line < l.line) ++line;
    if (line != test->lines.end() && line->line == l.line) l.count = line->count;
  }
  std::map<std::string, uint64_t> entries;
  for (const mapper::FunctionCount& fn : test->functions) entries[fn.name] = fn.entry_count;
  for (mapper::FunctionCount& fn : out.functions)
    if (auto it = entries.find(fn.name); it != entries.end()) fn.entry_count = it->second;
  auto key = [](const mapper::BranchOutcome& b) { return std::tuple(b.line, b.block, b.branch); };
  auto branch = test->branches.begin();
  for (mapper::BranchOutcome& b : out.branches) {
    while (branch != test->branches.end() && key(*branch) < key(b)) ++branch;
    if (branch != test->branches.end() && key(*branch) == key(b)) b.count = branch->count;
  }
  return out;
}

}  // namespace

void AlignTests(mapper::Coverage& coverage) {
  for (mapper::TestCoverage& test : coverage.tests) {
    std::vector<mapper::FileCoverage> files;
    files.reserve(coverage.files.size());
    for (const mapper::FileCoverage& f : coverage.files)
      files.push_back(Align(f, FindFile(test.files, f.path)));
    test.files = std::move(files);
  }
}

void CheckTestsAligned(const mapper::Coverage& coverage) {
  for (const mapper::TestCoverage& test : coverage.tests) {
    bool same = test.files.size() == coverage.files.size();
    for (size_t i = 0; same && i < test.files.size(); ++i) {
      const mapper::FileCoverage &a = test.files[i], &b = coverage.files[i];
      same = a.path == b.path && a.lines.size() == b.lines.size() &&
             a.functions.size() == b.functions.size() && a.branches.size() == b.branches.size();
    }
    if (!same)
      throw Error("internal error: the coverage of test \"" + test.name +
                  "\" does not have the total's shape");
  }
}

}  // namespace hwcov::report
