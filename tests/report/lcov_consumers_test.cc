// hwcov's lcov tracefile read by lcov's own tools (Debian 12: lcov 1.16;
// 2.x is not packaged there; the version is printed in the log): `lcov
// --summary` and `genhtml` state the same line, function and branch totals as
// hwcov's JSON of the same run, and `lcov -a` merges two runs into the same
// per-line, per-function and per-branch counts as `hwcov merge` of their JSON
// files, all without a warning.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>

#include "hwcov/report.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::RunCommand;

constexpr const char* kProgram = R"(#include <stdio.h>
static int rare(int x) {
  int y = x * 2;
  return y + 1;
}
int main(int argc, char** argv) {
  int total = 0;
  for (int i = 1; i < argc; ++i) total += argv[i][0];
  if (argc > 3) total += rare(argc);
  printf("%d\n", total);
  return 0;
}
)";

class LcovConsumers : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::HaveTool("lcov")) << "lcov is not installed: tools/install-deps.sh";
    std::ofstream(dir_.path() / "prog.c") << kProgram;
    ASSERT_EQ(RunCommand({"gcc", "-g", "-O0", "-o", "prog", "prog.c"}, dir_.path()).exit_code, 0);
    Run("a", {});
    Run("b", {"x", "y", "z"});
    std::printf("%s", RunCommand({"lcov", "--version"}).out.c_str());
  }

  void Run(const std::string& name, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {HWCOV_BINARY,   "run",    "-q",           "--backend",
                                     "soft",         "--lcov", name + ".info", "--json",
                                     name + ".json", "--",     "./prog"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = RunCommand(argv, dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Runs an lcov tool; it must succeed without a warning.
  std::string Lcov(const std::vector<std::string>& argv) const {
    const auto r = RunCommand(argv, dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    for (const std::string* text : {&r.out, &r.err}) {
      EXPECT_EQ(text->find("WARNING"), std::string::npos) << *text;
      EXPECT_EQ(text->find("ERROR"), std::string::npos) << *text;
    }
    return r.out + r.err;
  }

  report::Summary Summary(const std::string& json) const {
    return report::Summarize(report::ReadCoverageJson(dir_.path() / json));
  }

  testing::TempDir dir_{"lcov-consumers"};
};

// "  lines......: 53.8% (7 of 13 lines)" -> {7, 13}
std::pair<uint64_t, uint64_t> Stated(const std::string& out, const std::string& what) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(what + R"(\.*: [0-9.]+% \(([0-9]+) of ([0-9]+) )")))
    return {UINT64_MAX, UINT64_MAX};
  return {std::stoull(m[1]), std::stoull(m[2])};
}

// SF -> line -> count, from the DA records of a tracefile.
std::map<std::string, std::map<uint32_t, uint64_t>> LineCounts(const fs::path& info) {
  std::map<std::string, std::map<uint32_t, uint64_t>> out;
  std::string file;
  for (const std::string& line : testing::SplitLines(testing::ReadFile(info))) {
    if (line.rfind("SF:", 0) == 0) file = line.substr(3);
    unsigned number = 0;
    unsigned long long count = 0;
    if (std::sscanf(line.c_str(), "DA:%u,%llu", &number, &count) == 2) out[file][number] = count;
  }
  return out;
}

// "SF ; FNDA:name" -> count and "SF ; BRDA:line,block,branch" -> count ("-"
// when never executed): the function and branch records of a tracefile.
std::map<std::string, std::string> FunctionAndBranchCounts(const fs::path& info) {
  std::map<std::string, std::string> out;
  std::string file;
  for (const std::string& line : testing::SplitLines(testing::ReadFile(info))) {
    if (line.rfind("SF:", 0) == 0) file = line.substr(3);
    std::smatch m;
    if (std::regex_match(line, m, std::regex(R"(FNDA:([0-9]+),(.*))")))
      out[file + " ; FNDA:" + m[2].str()] = m[1];
    else if (std::regex_match(line, m, std::regex(R"((BRDA:[0-9]+,[0-9]+,[0-9]+),(.*))")))
      out[file + " ; " + m[1].str()] = m[2];
  }
  return out;
}

void ExpectTotals(const std::string& out, const report::FileSummary& total) {
  EXPECT_EQ(Stated(out, "lines"), std::make_pair(total.lines.hit, total.lines.found)) << out;
  EXPECT_EQ(Stated(out, "functions"), std::make_pair(total.functions.hit, total.functions.found))
      << out;
  EXPECT_EQ(Stated(out, "branches"), std::make_pair(total.branches.hit, total.branches.found))
      << out;
}

TEST_F(LcovConsumers, SummaryStatesHwcovsTotals) {
  for (const char* run : {"a", "b"}) {
    SCOPED_TRACE(run);
    const std::string out =
        Lcov({"lcov", "--summary", std::string(run) + ".info", "--rc", "lcov_branch_coverage=1"});
    const report::FileSummary total = Summary(std::string(run) + ".json").total;
    ExpectTotals(out, total);
    // All three kinds are there, and run a misses some: nothing trivially equal.
    if (std::string(run) == "a") {
      EXPECT_GT(total.lines.found, total.lines.hit);
    }
    EXPECT_GT(total.branches.found, 0u);
    EXPECT_GT(total.functions.found, 0u);
  }
}

TEST_F(LcovConsumers, GenhtmlRendersIt) {
  // genhtml reads the sources at the SF paths: the test's directory.
  const std::string out = Lcov({"genhtml", "a.info", "-o", "genhtml", "--branch-coverage"});
  EXPECT_TRUE(fs::exists(dir_.path() / "genhtml" / "index.html"));
  // "Overall coverage rate:" with the same figures.
  ExpectTotals(out.substr(out.find("Overall coverage rate")), Summary("a.json").total);
  bool source_page = false;
  for (const auto& entry : fs::recursive_directory_iterator(dir_.path() / "genhtml"))
    source_page |= entry.path().filename() == "prog.c.gcov.html";
  EXPECT_TRUE(source_page) << "genhtml wrote no annotated source for prog.c";
}

TEST_F(LcovConsumers, LcovMergeEqualsHwcovMerge) {
  Lcov({"lcov", "-a", "a.info", "-a", "b.info", "-o", "lcov-merged.info", "--rc",
        "lcov_branch_coverage=1"});
  ASSERT_EQ(RunCommand({HWCOV_BINARY, "merge", "-o", "ab.json", "a.json", "b.json"}, dir_.path())
                .exit_code,
            0);
  const auto r = RunCommand(
      {HWCOV_BINARY, "report", "-q", "--lcov", "hwcov-merged.info", "ab.json"}, dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto merged = LineCounts(dir_.path() / "lcov-merged.info");
  EXPECT_EQ(merged, LineCounts(dir_.path() / "hwcov-merged.info"));
  EXPECT_EQ(FunctionAndBranchCounts(dir_.path() / "lcov-merged.info"),
            FunctionAndBranchCounts(dir_.path() / "hwcov-merged.info"));
  // The runs differed: the merge covers lines that one of them missed.
  EXPECT_NE(merged, LineCounts(dir_.path() / "a.info"));
  EXPECT_NE(merged, LineCounts(dir_.path() / "b.info"));
  const std::string out =
      Lcov({"lcov", "--summary", "lcov-merged.info", "--rc", "lcov_branch_coverage=1"});
  ExpectTotals(out, Summary("ab.json").total);
}

}  // namespace
}  // namespace hwcov
