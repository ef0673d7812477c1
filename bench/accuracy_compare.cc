// accuracy_compare GCOV_DIR LCOV PREFIX [EXCLUDE...]: hwcov's lcov tracefile
// against the *.gcov files of the same sources (gcov or `llvm-cov gcov`),
// over the files whose path starts with PREFIX and contains none of the
// EXCLUDE strings. Each subdirectory of GCOV_DIR holds one gcov run (one
// .gcno): a source compiled into several objects (cJSON's tests #include
// cJSON.c) has one .gcov per object, and their counts add up, as hwcov adds
// up every copy of a line's code. Prints the agreement and every difference
// (tests/mapper/agreement.h), then one machine-readable line:
//   [figures] lines AGREE TOTAL ran_only_in_hwcov N branch_lines AGREE TOTAL
// bench/accuracy_suite.sh runs it for each project and build.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "agreement.h"
#include "coverage_records.h"

namespace {

using namespace hwcov::testing;

void Add(CoverageRecords& into, const CoverageRecords& from) {
  for (const auto& [path, file] : from) {
    FileRecord& total = into[path];
    for (const auto& [line, count] : file.lines) total.lines[line] += count;
    for (const auto& [name, count] : file.functions) total.functions[name] += count;
    for (const auto& [line, outcomes] : file.branches) {
      auto& all = total.branches[line];
      all.insert(all.end(), outcomes.begin(), outcomes.end());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: accuracy_compare GCOV_DIR LCOV PREFIX [EXCLUDE...]\n";
    return 2;
  }
  try {
    const std::string prefix = argv[3];
    const std::vector<std::string> excluded(argv + 4, argv + argc);
    CoverageRecords reference;
    for (const auto& run : std::filesystem::directory_iterator(argv[1]))
      if (run.is_directory()) Add(reference, ReadGcovDir(run.path()));
    const CoverageRecords hwcov = ReadLcov(argv[2]);
    const Agreement a = Compare(reference, hwcov, [&](const std::string& path) {
      if (path.rfind(prefix, 0) != 0) return false;
      for (const std::string& e : excluded)
        if (path.find(e) != std::string::npos) return false;
      return true;
    });
    Print(std::cout, argv[2], a);
    std::cout << "[figures] lines " << a.lines.agree << " " << a.lines.total
              << " ran_only_in_hwcov " << a.ran_only_in_hwcov.size() << " branch_lines "
              << a.branch_lines.agree << " " << a.branch_lines.total << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "accuracy_compare: " << e.what() << "\n";
    return 1;
  }
}
