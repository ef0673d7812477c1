// Merging is how runs from many test jobs are combined: the merge of two
// runs of a program with different inputs must equal the coverage of both
// runs traced in one `hwcov run`, whatever the order of the inputs.
#include <gtest/gtest.h>

#include <fstream>

#include "hwcov/report.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::RunCommand;

constexpr const char* kProgram = R"(#include <stdio.h>
#include <string.h>
static int classify(const char* s) {
  if (strcmp(s, "small") == 0) return 1;
  if (strcmp(s, "big") == 0) return 2;
  return 0;
}
int main(int argc, char** argv) {
  int total = 0;
  for (int i = 1; i < argc; ++i) {
    switch (classify(argv[i])) {
      case 1: total += 1; break;
      case 2: total += 100; break;
      default: printf("unknown %s\n", argv[i]);
    }
  }
  printf("%d\n", total);
  return 0;
}
)";

void Hwcov(const fs::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), HWCOV_BINARY);
  const auto r = RunCommand(args, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// The source coverage of a JSON file, without its trace figures (three
// recordings have different trace sizes).
std::vector<mapper::FileCoverage> Files(const fs::path& json) {
  return report::ReadCoverageJson(json).files;
}

void ExpectSameFiles(const std::vector<mapper::FileCoverage>& a,
                     const std::vector<mapper::FileCoverage>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t f = 0; f < a.size(); ++f) {
    SCOPED_TRACE(a[f].path);
    EXPECT_EQ(a[f].path, b[f].path);
    ASSERT_EQ(a[f].lines.size(), b[f].lines.size());
    for (size_t i = 0; i < a[f].lines.size(); ++i) {
      EXPECT_EQ(a[f].lines[i].line, b[f].lines[i].line);
      EXPECT_EQ(a[f].lines[i].count, b[f].lines[i].count) << "line " << a[f].lines[i].line;
    }
    ASSERT_EQ(a[f].functions.size(), b[f].functions.size());
    for (size_t i = 0; i < a[f].functions.size(); ++i) {
      EXPECT_EQ(a[f].functions[i].name, b[f].functions[i].name);
      EXPECT_EQ(a[f].functions[i].entry_count, b[f].functions[i].entry_count);
    }
    ASSERT_EQ(a[f].branches.size(), b[f].branches.size());
    for (size_t i = 0; i < a[f].branches.size(); ++i) {
      EXPECT_EQ(a[f].branches[i].line, b[f].branches[i].line);
      EXPECT_EQ(a[f].branches[i].count, b[f].branches[i].count)
          << "branch on line " << a[f].branches[i].line;
    }
  }
}

TEST(MergeRuns, TwoRunsMergedEqualBothInOneRun) {
  testing::TempDir dir("merge-runs");
  std::ofstream(dir.path() / "prog.c") << kProgram;
  ASSERT_EQ(RunCommand({"gcc", "-g", "-O0", "-o", "prog", "prog.c"}, dir.path()).exit_code, 0);

  Hwcov(dir.path(), {"run", "-q", "--json", "a.json", "--", "./prog", "small"});
  Hwcov(dir.path(), {"run", "-q", "--json", "b.json", "--", "./prog", "big", "other"});
  // Both runs under one hwcov: a shell running the program twice, the
  // program's own code traced in each child.
  Hwcov(dir.path(), {"run", "-q", "--only-exe", "prog", "--json", "both.json", "--", "sh", "-c",
                     "./prog small; ./prog big other"});
  Hwcov(dir.path(), {"merge", "-o", "ab.json", "a.json", "b.json"});
  Hwcov(dir.path(), {"merge", "-o", "ba.json", "b.json", "a.json"});

  EXPECT_EQ(testing::ReadFile(dir.path() / "ab.json"), testing::ReadFile(dir.path() / "ba.json"));
  const auto merged = Files(dir.path() / "ab.json");
  ExpectSameFiles(merged, Files(dir.path() / "both.json"));

  // The inputs did differ: each run alone misses what the other covered.
  const auto a = Files(dir.path() / "a.json");
  const auto b = Files(dir.path() / "b.json");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  uint64_t only_in_merge = 0;
  ASSERT_EQ(a[0].lines.size(), merged[0].lines.size());
  ASSERT_EQ(b[0].lines.size(), merged[0].lines.size());
  for (size_t i = 0; i < merged[0].lines.size(); ++i)
    if (merged[0].lines[i].count > 0 && (a[0].lines[i].count == 0 || b[0].lines[i].count == 0))
      ++only_in_merge;
  EXPECT_GT(only_in_merge, 0u);
}

}  // namespace
}  // namespace hwcov
