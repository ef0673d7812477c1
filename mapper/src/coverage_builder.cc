#include "coverage_builder.h"

#include <algorithm>

namespace hwcov::mapper {

void CoverageBuilder::AddLine(const std::string& file, uint32_t line, uint64_t count,
                              bool unknown) {
  File& f = files_[file];
  f.lines[line] += count;
  if (unknown) f.in_gap.insert(line);
}

void CoverageBuilder::MarkUnknown(const std::string& file, uint32_t line) {
  files_[file].in_gap.insert(line);
}

void CoverageBuilder::AddFunction(const std::string& file, const FunctionCount& function) {
  FunctionCount& f = files_[file].functions[{function.line, function.name}];
  const uint64_t before = f.entry_count;
  const bool unknown = f.unknown;
  const uint32_t end_line = f.end_line;
  f = function;
  f.entry_count += before;
  f.unknown |= unknown;
  f.end_line = std::max(f.end_line, end_line);
}

void CoverageBuilder::AddBranch(const std::string& file, const BranchOutcome& outcome) {
  auto [it, inserted] = files_[file].branches.emplace(
      std::make_tuple(outcome.line, outcome.block, outcome.branch), outcome.count);
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
    // Unknown: in a gap and seen by nothing. An entered function or a jump
    // that ran (either outcome counted) means its line ran.
    std::set<uint32_t> unknown;
    for (uint32_t line : file.in_gap)
      if (auto it = lines.find(line); it != lines.end() && it->second == 0) unknown.insert(line);
    for (const FunctionCount& fn : f.functions)
      if (fn.entry_count) unknown.erase(fn.line);
    for (const auto& [key, count] : file.branches)
      if (count) unknown.erase(std::get<0>(key));
    for (auto [line, count] : lines) f.lines.push_back({line, count, unknown.count(line) > 0});
    for (FunctionCount& fn : f.functions)
      fn.unknown = fn.entry_count == 0 && (fn.unknown || unknown.count(fn.line) > 0);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace hwcov::mapper
