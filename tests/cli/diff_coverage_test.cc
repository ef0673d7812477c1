// Diff coverage (issue 18): `hwcov report --diff REV` on a scratch git
// repository with a known change, checked against gcov's counts for the added
// lines; the diff parser on hand-worked diffs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hwcov/report.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::RunCommand;
using testing::RunShell;

TEST(DiffParser, HandWorkedHunks) {
  const std::string diff =
      "diff --git a/src/a.c b/src/a.c\n"
      "--- a/src/a.c\n"
      "+++ b/src/a.c\n"
      "@@ -3,0 +4,2 @@ int f(void)\n"
      "+  int x = 1;\n"
      "+  return x;\n"
      "@@ -10 +12 @@\n"
      "-old\n"
      "+new\n"
      "\\ No newline at end of file\n"
      "--- a/gone.c\n"
      "+++ /dev/null\n"
      "@@ -1,2 +0,0 @@\n"
      "-a\n"
      "-b\n"
      "--- /dev/null\n"
      "+++ b/new.c\n"
      "@@ -0,0 +1,3 @@\n"
      "+x\n"
      "+y\n"
      "+z\n";
  const report::ChangedLines c = report::ParseUnifiedDiff(diff, "/p", "t.diff");
  ASSERT_EQ(c.by_file.size(), 2u);
  EXPECT_EQ(c.by_file.at("/p/src/a.c"), (std::vector<uint32_t>{4, 5, 12}));
  EXPECT_EQ(c.by_file.at("/p/new.c"), (std::vector<uint32_t>{1, 2, 3}));
}

TEST(DiffParser, ContextLinesAdvanceTheNewSide) {
  const std::string diff = "+++ b/x.c\n@@ -1,4 +1,5 @@\n a\n-b\n+B\n+C\n c\n d\n";
  EXPECT_EQ(report::ParseUnifiedDiff(diff, "/r", "d").by_file.at("/r/x.c"),
            (std::vector<uint32_t>{2, 3}));
}

TEST(DiffParser, MalformedHunkHeaderNamesTheLine) {
  try {
    report::ParseUnifiedDiff("+++ b/x.c\n@@ -1 +x @@\n", "/r", "bad.diff");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("bad.diff: line 2: malformed hunk header", 0), 0u)
        << e.what();
  }
}

const char kVersion1[] =
    "int main(void) {\n"
    "  return 0;\n"
    "}\n";

// Version 2 adds lines 1-7 (a function, one branch arm of which never runs)
// and changes main's body (line 9).
const char kVersion2[] =
    "static int grow(int n) {\n"
    "  int twice = n * 2;\n"
    "  if (n > 5)\n"
    "    return twice;\n"
    "  return n;\n"
    "}\n"
    "\n"
    "int main(void) {\n"
    "  return grow(1) - 1;\n"
    "}\n";

TEST(DiffCoverage, ChangedLinesAgainstGcov) {
  if (!testing::HaveTool("git")) GTEST_SKIP() << "no git";
  testing::TempDir dir("diff-cov");
  const fs::path d = dir.path();
  std::ofstream(d / "prog.c") << kVersion1;
  ASSERT_EQ(RunShell("git init -q . && git add prog.c && git -c user.name=t -c user.email=t@t "
                     "commit -qm v1",
                     d)
                .exit_code,
            0);
  std::ofstream(d / "prog.c") << kVersion2;
  ASSERT_EQ(RunShell("gcc -O0 -g -o prog prog.c", d).exit_code, 0);
  const CommandResult rec =
      RunCommand({HWCOV_BINARY, "record", "--backend", "soft", "-o", "t.data", "--", "./prog"}, d);
  ASSERT_EQ(rec.exit_code, 0) << rec.err;

  // gcov's verdict on the changed lines 1-7 and 9.
  ASSERT_EQ(RunShell("mkdir g && cd g && gcc -O0 --coverage -o prog ../prog.c && ./prog; "
                     "gcov -o . ../prog.c >/dev/null",
                     d)
                .exit_code,
            0);
  uint64_t found = 0, hit = 0;
  std::string uncovered;
  for (const std::string& line : testing::SplitLines(testing::ReadFile(d / "g/prog.c.gcov"))) {
    const size_t c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    const std::string count = line.substr(0, c1);
    const unsigned number = static_cast<unsigned>(std::stoul(line.substr(c1 + 1, c2 - c1 - 1)));
    if (!((number >= 1 && number <= 7) || number == 9)) continue;
    if (count.find('-') != std::string::npos) continue;  // no code
    ++found;
    if (count.find('#') == std::string::npos)
      ++hit;
    else
      uncovered += (uncovered.empty() ? " " : ", ") + std::to_string(number);
  }
  ASSERT_GT(found, hit);

  const CommandResult r = RunCommand({HWCOV_BINARY, "report", "-q", "--diff", "HEAD", "t.data"}, d);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The uncovered changed lines are gcov's "#####" ones exactly. hwcov may
  // count a line gcov does not (the closing brace holds the epilogue at
  // -O0, which gcov gives to no line here): as many or more lines found,
  // the same number missed.
  EXPECT_NE(r.out.find("prog.c: not covered:" + uncovered + "\n"), std::string::npos) << r.out;
  unsigned long long hw_hit = 0, hw_found = 0;
  const size_t at = r.out.find("of changed lines covered (");
  ASSERT_NE(at, std::string::npos) << r.out;
  ASSERT_EQ(
      std::sscanf(r.out.c_str() + at, "of changed lines covered (%llu of %llu", &hw_hit, &hw_found),
      2);
  EXPECT_GE(hw_found, found);
  EXPECT_EQ(hw_found - hw_hit, found - hit);
  const std::string expected =
      "(" + std::to_string(hw_hit) + " of " + std::to_string(hw_found) + ", in 1 file)";

  // The gate, and the same change given as a diff file.
  const CommandResult gate = RunCommand(
      {HWCOV_BINARY, "report", "-q", "--diff", "HEAD", "--fail-under-diff", "99", "t.data"}, d);
  EXPECT_EQ(gate.exit_code, 3);
  EXPECT_NE(gate.err.find("is below --fail-under-diff 99"), std::string::npos) << gate.err;
  ASSERT_EQ(RunShell("git diff HEAD > change.diff", d).exit_code, 0);
  const CommandResult file =
      RunCommand({HWCOV_BINARY, "report", "-q", "--diff-file", "change.diff", "t.data"}, d);
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_NE(file.out.find(expected), std::string::npos) << file.out;

  const CommandResult bad =
      RunCommand({HWCOV_BINARY, "report", "-q", "--diff", "no-such-rev", "t.data"}, d);
  EXPECT_EQ(bad.exit_code, testing::kHwcovFailure);
  EXPECT_NE(bad.err.find("hwcov: --diff no-such-rev: "), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace hwcov
