// Accumulates coverage from every binary of a profile into per-file records.
// Counts from different binaries compiled from the same source (a header in
// a program and its library) add up; Build() sorts and checks invariants.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hwcov/mapper.h"

namespace hwcov::mapper {

class CoverageBuilder {
 public:
  // |unknown|: the line's code is in a trace gap (MarkUnknown).
  void AddLine(const std::string& file, uint32_t line, uint64_t count, bool unknown = false);
  // Functions with the same file, line and name are one (their counts add,
  // their unknown flags or).
  void AddFunction(const std::string& file, const FunctionCount& function);
  // |count| nullopt: the jump never ran. Outcomes of one (line, block,
  // branch) add; nullopt only if never run anywhere.
  void AddBranch(const std::string& file, const BranchOutcome& outcome);
  // Code of |line| is in a trace gap: the line is unknown unless something
  // counts it (a count > 0, an entered function, a jump that ran on it).
  void MarkUnknown(const std::string& file, uint32_t line);

  // Every file, sorted by path. Lines with branches or a function's
  // declaration always have a LineCount (lcov 2.x refuses a BRDA or FN
  // without a DA on its line). Unknown states follow mapper.h: a marked line
  // with count 0, no entered function and no jump that ran is unknown; a
  // function with no entries on an unknown line (or flagged) is unknown.
  std::vector<FileCoverage> Build() const;

 private:
  struct File {
    std::map<uint32_t, uint64_t> lines;
    std::map<std::pair<uint32_t, std::string>, FunctionCount> functions;
    std::map<std::tuple<uint32_t, uint32_t, uint32_t>, std::optional<uint64_t>> branches;
    std::set<uint32_t> in_gap;  // lines marked unknown
  };
  std::map<std::string, File> files_;
};

}  // namespace hwcov::mapper
