// Reports: writers for the formats the coverage ecosystem reads, all fed by
// one Summarize() so their totals cannot disagree.
//
//   Summary summary = Summarize(coverage);
//   MakeLcovWriter("cov.info")->Write(coverage, summary);
//   MakeTextWriter(std::cout, {.color = false})->Write(coverage, summary);
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hwcov/mapper.h"

namespace hwcov::report {

// |unknown| items (lines in a trace gap's function, functions never entered
// there, branch outcomes on such lines: mapper.h) are in neither |hit| nor
// |found|: they are not counted as missed, and percentages and CI gates are
// over the known ones.
struct Ratio {
  uint64_t hit = 0;
  uint64_t found = 0;
  uint64_t unknown = 0;
  double Percent() const {
    return found ? 100.0 * static_cast<double>(hit) / static_cast<double>(found) : 100.0;
  }
  Ratio& operator+=(const Ratio& o) {
    hit += o.hit;
    found += o.found;
    unknown += o.unknown;
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

// Totals of |coverage|. Unknown lines and functions, and the branch outcomes
// on unknown lines, go to Ratio::unknown instead of found.
Summary Summarize(const mapper::Coverage& coverage);

// Whether |line| of |file| is unknown (binary search: lines are sorted).
bool IsUnknownLine(const mapper::FileCoverage& file, uint32_t line);

class ReportWriter {
 public:
  virtual ~ReportWriter() = default;
  virtual void Write(const mapper::Coverage& coverage, const Summary& summary) const = 0;
};

// Which lcov reads the tracefile. No record gives a function's end line that
// both read (lcov 1.16 takes FN:<start>,<end>,<name>'s end line for the name
// and ignores FNL; lcov 2.x rejects an end line given beside a plain FN, and
// without one it warns that it derives them), so:
//   kV1: FN:<line>,<name>: lcov 1.x, Coveralls, Codecov; lcov 2.x warns once.
//   kV2: FN:<line>,<end line>,<name> where the end line is known: lcov >= 2.0.
enum class LcovFormat { kV1, kV2 };

// lcov tracefile in the subset lcov 1.16 and 2.x both read (docs/formats.md),
// apart from the end lines of |format|. lcov has no unknown state and no
// comment record: unknown lines, unknown functions and the branches on
// unknown lines are left out (every BRDA and FN keeps its DA).
std::unique_ptr<ReportWriter> MakeLcovWriter(std::filesystem::path path, std::string test_name = "",
                                             LcovFormat format = LcovFormat::kV1);

// The terminal summary of `llvm-cov report`'s shape, followed by the trace
// completeness lines, including the unknown lines, functions and branches
// when the trace had gaps. An empty category shows "-", not a percentage.
struct TextOptions {
  bool color = false;          // highlight low coverage with ANSI colours
  std::filesystem::path root;  // show paths relative to it (else to the working directory)
  bool show_missing = false;   // a last column: the uncovered line ranges of each file
};
std::unique_ptr<ReportWriter> MakeTextWriter(std::ostream& out, TextOptions options = {});

// Cobertura XML (coverage-04.dtd) as GitLab, Jenkins and Azure read it: one
// package per directory, one class per file. File names are relative to
// |root| (which becomes the <source>) when below it, absolute otherwise. Hits
// are clamped to 2^31-1 (Java readers overflow to 0). The timestamp is
// $SOURCE_DATE_EPOCH when set, for reproducible output. Unknown lines and
// functions have no <line>/<method>; their numbers are in an XML comment.
std::unique_ptr<ReportWriter> MakeCoberturaWriter(std::filesystem::path path,
                                                  std::filesystem::path root = {});

// A self-contained HTML report in directory |dir| (created): index.html and
// one annotated-source page per file (file<N>.html, N = index in Coverage).
// Paths are shown relative to |root| when below it. Unknown lines and
// functions get class "unknown" (legend: "unknown: in a trace gap").
std::unique_ptr<ReportWriter> MakeHtmlWriter(std::filesystem::path dir,
                                             std::filesystem::path root = {});

// hwcov's native JSON coverage file (docs/json-format.md): all of Coverage,
// plus Summarize() totals. ReadCoverageJson reads it back exactly; it throws
// hwcov::Error "<path>: <what is wrong>" for anything else, including files
// over 1 GiB, another schema version and broken ordering invariants. It
// writes version 2 (unknown lines and functions have a null count) and reads
// versions 1 and 2.
inline constexpr uint64_t kJsonFormatVersion = 2;
inline constexpr uint64_t kJsonOldestReadVersion = 1;
std::unique_ptr<ReportWriter> MakeJsonWriter(std::filesystem::path path);
mapper::Coverage ReadCoverageJson(const std::filesystem::path& path);

// The sum of |inputs| through mapper::Merge, files sorted by path and trace
// messages sorted: the same result whatever the order of |inputs|. Tests of
// one name merge; every test then has the total's files, lines, functions
// and branch outcomes, with its own counts (0 or "-" where it has none), so
// the lcov test sections sum to the total.
mapper::Coverage MergeCoverage(const std::vector<mapper::Coverage>& inputs);

// What a report covers. Regexes are ECMAScript. With a root, files outside it
// and (unless |system_sources|) under /usr (system headers) are dropped. Source markers
// LCOV_EXCL_LINE/START/STOP, LCOV_EXCL_BR_LINE/ BR_START/BR_STOP and their GCOVR_ spellings apply
// where the source is readable. Files the markers leave with no lines are dropped. Throws
// hwcov::Error for an invalid regex.
// A regex matches a file when it is found in the absolute path or in the path
// relative to |root| (the path the reports show). |counts|, when given, says
// why files were dropped, so that an empty report can name its cause and a
// pattern that matched nothing can be reported.
struct FilterOptions {
  std::filesystem::path root;
  std::vector<std::string> include;  // keep only matching paths (all when empty)
  std::vector<std::string> exclude;  // then drop matching paths
  bool source_markers = true;
  bool system_sources = false;  // keep /usr sources (system headers) below a root
};
struct FilterCounts {
  size_t files = 0;                  // files in the input
  size_t outside_root = 0;           // dropped: not below the root
  size_t system = 0;                 // dropped: under /usr
  size_t not_included = 0;           // dropped: matched no --include
  size_t excluded = 0;               // dropped: matched an --exclude
  size_t emptied = 0;                // dropped: source markers excluded all of their lines
  std::string example_outside_root;  // one dropped path, for messages
  std::vector<std::string> unmatched_patterns;  // --include/--exclude regexes that matched no file
};
mapper::Coverage Filter(mapper::Coverage coverage, const FilterOptions& options,
                        FilterCounts* counts = nullptr);

// CI gates, in percent. CheckThresholds returns why the first failing gate
// fails (one line), or nothing when all pass. Every gate fails on a report
// with no line and no function; an empty category (no branches) in a
// non-empty report passes. Throws hwcov::Error for a threshold outside 0..100.
struct Thresholds {
  std::optional<double> line;
  std::optional<double> function;
  std::optional<double> branch;
};
std::optional<std::string> CheckThresholds(const Summary& summary, const Thresholds& thresholds);

// |path| relative to |root| when |root| is set and |path| lies below it;
// |path| unchanged otherwise.
std::string RelativeTo(const std::string& path, const std::filesystem::path& root);

// Diff coverage: the coverage of the lines a change added or modified, as
// diff-cover and Codecov's patch coverage report it. ParseUnifiedDiff reads
// `git diff` / `diff -u` output (paths relative to |base_dir|, "a/" "b/"
// prefixes stripped); it throws hwcov::Error "<origin>: line N: ..." for a
// malformed hunk header. Changed lines without code are not counted.
struct ChangedLines {
  std::map<std::string, std::vector<uint32_t>> by_file;  // absolute path -> sorted new lines
};
ChangedLines ParseUnifiedDiff(const std::string& diff, const std::filesystem::path& base_dir,
                              const std::string& origin);
struct DiffFile {
  std::string path;
  Ratio lines;                      // changed lines with code: hit and found
  std::vector<uint32_t> uncovered;  // changed lines with code that never ran
};
struct DiffCoverage {
  Ratio lines;
  std::vector<DiffFile> files;  // files with changed code lines, in coverage order
  size_t changed_files = 0;     // files the diff touches
};
DiffCoverage CoverChanges(const mapper::Coverage& coverage, const ChangedLines& changes);
// "Diff: 77.78% of changed lines covered (7 of 9, in 2 files)" and the
// uncovered changed lines per file.
void WriteDiffSummary(std::ostream& out, const DiffCoverage& diff,
                      const std::filesystem::path& root);

}  // namespace hwcov::report
