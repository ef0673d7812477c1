// How far hwcov's coverage agrees with a reference tool's (gcov, llvm-cov)
// on the same source and the same input.
//
//   lines      over the lines both tools consider instrumentable: executed
//              (count > 0) or not, the same in both. Lines only one tool
//              has are listed apart (docs/accuracy.md explains each kind).
//   functions  every function the reference reports must be in hwcov's
//              report under the same linkage name, executed or not alike.
//   branches   over the lines where either tool has branches: "all
//              outcomes taken", "some not taken" or "no branches".
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "coverage_records.h"

namespace hwcov::testing {

struct Ratio {
  uint64_t agree = 0, total = 0;
  double Share() const {
    return total ? static_cast<double>(agree) / static_cast<double>(total) : 1.0;
  }
};

struct Agreement {
  Ratio lines, functions, branch_lines;
  std::vector<std::string> line_differences;  // "file:line reference N hwcov M"
  // The line differences where hwcov says the line ran and the reference
  // says it did not: the ones precision is about ("file:line").
  std::vector<std::string> ran_only_in_hwcov;
  std::vector<std::string> function_differences;
  std::vector<std::string> branch_differences;
  std::vector<std::string> only_reference_lines;  // "file:line"
  std::vector<std::string> only_hwcov_lines;
  std::vector<std::string> only_hwcov_functions;
};

// Compares the files of |reference| for which |wanted| is true.
Agreement Compare(const CoverageRecords& reference, const CoverageRecords& hwcov,
                  const std::function<bool(const std::string& path)>& wanted);

// A one-line summary and the differences, for the test log.
void Print(std::ostream& out, const std::string& title, const Agreement& a);

}  // namespace hwcov::testing
