#include "coverage_builder.h"

#include <algorithm>

namespace hwcov::mapper {

void CoverageBuilder::AddLine(const std::string& file, uint32_t line, uint64_t count) {
  files_[file].lines[line] += count;
}

void CoverageBuilder::AddFunction(const std::string& file, const FunctionCount& function) {
  FunctionCount& f = files_[file].functions[{function.line, function.name}];
  const uint64_t before = f.entry_count;
  f = function;
  f.entry_count += before;
}

void CoverageBuilder::AddBranch(const std::string& file, const BranchOutcome& outcome) {
  auto [it, inserted] =
      files_[file].branches.emplace(std::make_tuple(outcome.line, outcome.block, outcome.branch), outcome.count);
  if (inserted || !outcome.count) return;
  it->second = it->second.value_or(0) + *outcome.count;
}

std::vector<FileCoverage> CoverageBuilder::Build() const {
  std::vector<FileCoverage> out;
  for (const auto& [path, file] : files_) {
    FileCoverage f;
    f.path = path;
    std::map<uint32_t, uint64_t> lines = file.lines;
    // lcov identifies a file's functions by name alone: a name on a second
    // line (two lambdas inlined, known only as "operator()") gets "@line".
    std::map<std::string, int> uses;
    for (const auto& [key, function] : file.functions) ++uses[function.name];
    std::map<std::string, bool> seen;
    for (const auto& [key, function] : file.functions) {
      f.functions.push_back(function);
      if (uses[function.name] > 1 && seen[function.name])
        f.functions.back().name += "@" + std::to_string(function.line);
      seen[function.name] = true;
      if (function.line) lines.emplace(function.line, function.entry_count);
    }
    // A jump executed as often as its outcomes add up to; a branch line
    // that has no count of its own (its rows are not statements) gets its
    // most executed jump's.
    std::map<std::pair<uint32_t, uint32_t>, uint64_t> jumps;
    for (const auto& [key, count] : file.branches) {
      auto [line, block, branch] = key;
      f.branches.push_back({line, block, branch, count});
      jumps[{line, block}] += count.value_or(0);
    }
    std::map<uint32_t, uint64_t> branch_lines;
    for (const auto& [key, executions] : jumps)
      branch_lines[key.first] = std::max(branch_lines[key.first], executions);
    lines.insert(branch_lines.begin(), branch_lines.end());  // keeps existing counts
    for (auto [line, count] : lines) f.lines.push_back({line, count});
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace hwcov::mapper
