// lcov tracefile writer. Grammar (geninfo(1), "TRACEFILE FORMAT"), in the
// subset both lcov 1.16 and 2.x accept without warnings:
//
//   TN:<test name>                  word characters only
//   SF:<absolute source path>
//   FN:<line>,<mangled name>        LcovFormat::kV1: no end line
//   FN:<line>,<end>,<mangled name>  LcovFormat::kV2 (lcov >= 2.0), when the
//                                   end line is known
//   FNDA:<count>,<mangled name>
//   FNF:<functions found>  FNH:<functions hit>
//   DA:<line>,<count>               one per instrumentable line; function
//                                   lines always have one (lcov 2.x checks)
//   BRDA:<line>,<block>,<branch>,<taken>
//                                   after its line's DA; integer ids (lcov
//                                   1.16 drops others); taken is "-" when the
//                                   jump never ran, a count otherwise
//   BRF:<branches found>  BRH:<branches hit>
//   LF:<lines found>  LH:<lines hit>
//   end_of_record
//
// Every BRDA line has a DA (lcov 2.x: "has branchcov but no linecov"); the
// mapper guarantees it, and Write() refuses coverage that breaks it rather
// than write a tracefile genhtml 2.x would reject.
//
// lcov cannot say "unknown" (a line in a trace gap, mapper.h), and lcov 2.x
// refuses records it does not know (there is no comment record), so unknown
// lines have no DA, unknown functions no FN/FNDA and the branches on unknown
// lines no BRDA; the summary records count the rest, as Summarize() does. A
// function on an unknown line is always unknown, so every FN keeps its DA.
//
// Per-test coverage (Coverage::tests) is written as geninfo writes several
// tests: every file once per test, under that test's TN (names sanitized to
// word characters); lcov 1.16 and 2.x sum the sections into the total.
#include <cctype>
#include <set>

#include "hwcov/report.h"
#include "hwcov/support.h"
#include "test_alignment.h"

namespace hwcov::report {
namespace {

std::string SanitizeTestName(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

class LcovWriter : public ReportWriter {
 public:
  LcovWriter(std::filesystem::path path, std::string test_name, LcovFormat format)
      : path_(std::move(path)), test_name_(SanitizeTestName(test_name)), format_(format) {}

  void Write(const mapper::Coverage& coverage, const Summary& summary) const override {
    AtomicFile file(path_);
    std::ostream& out = file.stream();
    if (coverage.tests.empty()) {
      WriteSections(out, test_name_, coverage.files, summary);
    } else {
      // One section per file and test, as geninfo writes the data of several
      // tests; lcov sums them (the tests have the total's shape).
      CheckTestsAligned(coverage);
      std::set<std::string> used;
      for (const mapper::TestCoverage& test : coverage.tests) {
        // Names that sanitize alike stay apart ("a b", "a_b": a_b, a_b_2).
        const std::string base = SanitizeTestName(test.name);
        std::string name = base;
        for (int n = 2; !used.insert(name).second; ++n) name = base + "_" + std::to_string(n);
        mapper::Coverage alone;
        alone.files = test.files;
        WriteSections(out, name, test.files, Summarize(alone));
      }
    }
    file.Commit();
  }

 private:
  void WriteSections(std::ostream& out, const std::string& test_name,
                     const std::vector<mapper::FileCoverage>& files, const Summary& summary) const {
    for (size_t i = 0; i < files.size(); ++i) {
      const mapper::FileCoverage& f = files[i];
      const FileSummary& s = summary.files[i];
      out << "TN:" << test_name << "\n";
      out << "SF:" << f.path << "\n";
      for (const auto& fn : f.functions) {
        if (fn.unknown) continue;
        if (fn.line && IsUnknownLine(f, fn.line))
          throw Error(f.path + ": internal error: function " + fn.name + " on unknown line " +
                      std::to_string(fn.line) + " is not unknown");
        out << "FN:" << fn.line << ",";
        if (format_ == LcovFormat::kV2 && fn.line && fn.end_line >= fn.line)
          out << fn.end_line << ",";
        out << fn.name << "\n";
      }
      for (const auto& fn : f.functions)
        if (!fn.unknown) out << "FNDA:" << fn.entry_count << "," << fn.name << "\n";
      out << "FNF:" << s.functions.found << "\n";
      out << "FNH:" << s.functions.hit << "\n";
      WriteLines(out, f);
      out << "BRF:" << s.branches.found << "\n";
      out << "BRH:" << s.branches.hit << "\n";
      out << "LF:" << s.lines.found << "\n";
      out << "LH:" << s.lines.hit << "\n";
      out << "end_of_record\n";
    }
  }

  // DA and BRDA records interleaved in line order, as geninfo writes them.
  static void WriteLines(std::ostream& out, const mapper::FileCoverage& f) {
    auto branch = f.branches.begin();
    for (const mapper::LineCount& line : f.lines) {
      if (branch != f.branches.end() && branch->line < line.line) NoLine(f, *branch);
      if (line.unknown) {
        while (branch != f.branches.end() && branch->line == line.line) ++branch;
        continue;
      }
      out << "DA:" << line.line << "," << line.count << "\n";
      for (; branch != f.branches.end() && branch->line == line.line; ++branch) {
        out << "BRDA:" << branch->line << "," << branch->block << "," << branch->branch << ",";
        if (branch->count)
          out << *branch->count << "\n";
        else
          out << "-\n";
      }
    }
    if (branch != f.branches.end()) NoLine(f, *branch);
  }

  [[noreturn]] static void NoLine(const mapper::FileCoverage& f, const mapper::BranchOutcome& b) {
    throw Error(f.path + ": internal error: branch on line " + std::to_string(b.line) +
                " has no line count");
  }

  std::filesystem::path path_;
  std::string test_name_;
  LcovFormat format_;
};

}  // namespace

std::unique_ptr<ReportWriter> MakeLcovWriter(std::filesystem::path path, std::string test_name,
                                             LcovFormat format) {
  return std::make_unique<LcovWriter>(std::move(path), std::move(test_name), format);
}

}  // namespace hwcov::report
