// Reports: writers for the formats the coverage ecosystem reads, all fed by
// one Summarize() so their totals cannot disagree.
//
//   Summary summary = Summarize(coverage);
//   MakeLcovWriter("cov.info")->Write(coverage, summary);
//   MakeTextWriter(std::cout, /*color=*/false)->Write(coverage, summary);
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "hwcov/mapper.h"

namespace hwcov::report {

struct Ratio {
  uint64_t hit = 0;
  uint64_t found = 0;
  double Percent() const { return found ? 100.0 * static_cast<double>(hit) / static_cast<double>(found) : 100.0; }
  Ratio& operator+=(const Ratio& o) {
    hit += o.hit;
    found += o.found;
    return *this;
  }
};

struct FileSummary {
  std::string path;
  Ratio lines;
  Ratio functions;
  Ratio branches;  // outcomes (lcov BRF/BRH): hit = taken at least once
};

struct Summary {
  std::vector<FileSummary> files;  // same order as Coverage::files
  FileSummary total;
};

Summary Summarize(const mapper::Coverage& coverage);

class ReportWriter {
 public:
  virtual ~ReportWriter() = default;
  virtual void Write(const mapper::Coverage& coverage, const Summary& summary) const = 0;
};

// lcov tracefile in the subset lcov 1.16 and 2.x both read (docs/formats.md).
std::unique_ptr<ReportWriter> MakeLcovWriter(std::filesystem::path path,
                                             std::string test_name = "");

// The terminal summary of `llvm-cov report`'s shape, followed by the trace
// completeness lines. |color| highlights low coverage with ANSI colours.
std::unique_ptr<ReportWriter> MakeTextWriter(std::ostream& out, bool color);

}  // namespace hwcov::report
