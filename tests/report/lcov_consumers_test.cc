// hwcov's lcov tracefile read by lcov's own tools: Debian 12's lcov 1.16
// (the version is printed in the log) and lcov 2.3.2 from ../shared/oracles.
// `lcov --summary` and `genhtml` state the same line, function and branch
// totals as hwcov's JSON of the same run, and `lcov -a` merges two runs into
// the same per-line, per-function and per-branch counts as `hwcov merge` of
// their JSON files, all without a warning: lcov 1.16 on the default (1.x)
// tracefile, lcov 2.3.2 on `--lcov-format-version 2.0`'s (no format gives
// function end lines to both: lcov_writer.cc). gcovr 8.6 reads the Cobertura
// file of the same run back with the JSON's totals.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>

#include "hwcov/report.h"
#include "oracles.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::RunCommand;
using testing::With;

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
    const auto r = RunCommand(With({HWCOV_BINARY, "run", "-q", "--backend", "soft", "-o",
                                    name + ".data", "--lcov", name + ".info", "--json",
                                    name + ".json", "--cobertura", name + ".xml", "--", "./prog"},
                                   args),
                              dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The same trace's tracefile for lcov 2.x.
    const auto v2 = RunCommand({HWCOV_BINARY, "report", "-q", "--lcov-format-version", "2.0",
                                "--lcov", name + "-v2.info", name + ".data"},
                               dir_.path());
    ASSERT_EQ(v2.exit_code, 0) << v2.err;
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

  // Runs lcov 2.3.2's |tool|: no warning, and its message summary says so.
  std::string Lcov2(const std::string& tool, const std::vector<std::string>& args) const {
    const std::string out = Lcov(With(*testing::Lcov2(tool), args));
    EXPECT_NE(out.find("no messages were reported"), std::string::npos) << out;
    return out;
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

// Hand-worked from kProgram: rare() is lines 2-5, main() lines 6-12. The
// default tracefile has lcov 1.x's FN records; 2.0 adds the end lines.
TEST_F(LcovConsumers, FunctionEndLinesOnlyInTheV2Format) {
  const std::string v1 = testing::ReadFile(dir_.path() / "a.info");
  EXPECT_NE(v1.find("\nFN:2,rare\n"), std::string::npos) << v1;
  EXPECT_NE(v1.find("\nFN:6,main\n"), std::string::npos) << v1;
  const std::string v2 = testing::ReadFile(dir_.path() / "a-v2.info");
  EXPECT_NE(v2.find("\nFN:2,5,rare\n"), std::string::npos) << v2;
  EXPECT_NE(v2.find("\nFN:6,12,main\n"), std::string::npos) << v2;
  // Nothing else differs.
  EXPECT_EQ(std::regex_replace(v2, std::regex("FN:([0-9]+),[0-9]+,"), "FN:$1,"), v1);
  // The JSON keeps the end lines: the same tracefile from the run's JSON.
  const auto r = RunCommand({HWCOV_BINARY, "report", "-q", "--lcov-format-version", "2.0", "--lcov",
                             "from-json-v2.info", "a.json"},
                            dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::ReadFile(dir_.path() / "from-json-v2.info"), v2);
}

class Lcov2Consumers : public LcovConsumers {
 protected:
  void SetUp() override {
    if (!testing::Lcov2("lcov")) GTEST_SKIP() << testing::NoOracle("lcov 2.3.2");
    LcovConsumers::SetUp();
  }
};

TEST_F(Lcov2Consumers, SummaryStatesHwcovsTotalsWithoutWarning) {
  for (const char* run : {"a", "b"}) {
    SCOPED_TRACE(run);
    const std::string out =
        Lcov2("lcov", {"--summary", std::string(run) + "-v2.info", "--branch-coverage"});
    ExpectTotals(out, Summary(std::string(run) + ".json").total);
  }
}

// Why the 2.0 format exists: without end lines lcov 2.3.2 derives them and
// says so, with otherwise the same totals.
TEST_F(Lcov2Consumers, WarnsAboutTheV1FormatsMissingEndLines) {
  const auto r = RunCommand(
      With(*testing::Lcov2("lcov"), {"--summary", "a.info", "--branch-coverage"}), dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string out = r.out + r.err;
  EXPECT_NE(out.find("attempting to derive function end lines"), std::string::npos) << out;
  ExpectTotals(out, Summary("a.json").total);
}

TEST_F(Lcov2Consumers, GenhtmlRendersItWithoutWarning) {
  const std::string out = Lcov2("genhtml", {"a-v2.info", "-o", "genhtml", "--branch-coverage"});
  EXPECT_TRUE(fs::exists(dir_.path() / "genhtml" / "index.html"));
  ASSERT_NE(out.find("Overall coverage rate"), std::string::npos) << out;
  ExpectTotals(out.substr(out.find("Overall coverage rate")), Summary("a.json").total);
  bool source_page = false;
  for (const auto& entry : fs::recursive_directory_iterator(dir_.path() / "genhtml"))
    source_page |= entry.path().filename() == "prog.c.gcov.html";
  EXPECT_TRUE(source_page) << "genhtml wrote no annotated source for prog.c";
}

TEST_F(Lcov2Consumers, MergeEqualsHwcovMerge) {
  Lcov2("lcov",
        {"-a", "a-v2.info", "-a", "b-v2.info", "-o", "lcov-merged.info", "--branch-coverage"});
  ASSERT_EQ(RunCommand({HWCOV_BINARY, "merge", "-o", "ab.json", "a.json", "b.json"}, dir_.path())
                .exit_code,
            0);
  const auto r = RunCommand(
      {HWCOV_BINARY, "report", "-q", "--lcov", "hwcov-merged.info", "ab.json"}, dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto merged = LineCounts(dir_.path() / "lcov-merged.info");
  EXPECT_EQ(merged, LineCounts(dir_.path() / "hwcov-merged.info"));
  EXPECT_NE(merged, LineCounts(dir_.path() / "a.info"));
  const std::string out = Lcov2("lcov", {"--summary", "lcov-merged.info", "--branch-coverage"});
  ExpectTotals(out, Summary("ab.json").total);
}

// Per-test coverage: one run of a two-test suite (./prog, then ./prog x y z,
// each a test named by its command line) against each test traced alone.
class PerTest : public LcovConsumers {
 protected:
  void SetUp() override {
    LcovConsumers::SetUp();
    if (HasFatalFailure()) return;
    Hwcov({"run", "-q", "--backend", "soft", "--per-test", "-o", "s.data", "--lcov", "s.info",
           "--json", "s.json", "--", "sh", "-c", "./prog; ./prog x y z"});
    Hwcov({"report", "-q", "--per-test", "--lcov-format-version", "2.0", "--lcov", "s-v2.info",
           "s.data"});
    Hwcov({"merge", "-o", "ab.json", "a.json", "b.json"});
  }

  testing::CommandResult Hwcov(const std::vector<std::string>& args, int status = 0) const {
    const auto r = RunCommand(With({HWCOV_BINARY}, args), dir_.path());
    EXPECT_EQ(r.exit_code, status) << r.err;
    return r;
  }

  // The JSON's coverage without the trace quality (bytes differ between runs).
  std::string Coverage(const std::string& json) const {
    const std::string text = testing::ReadFile(dir_.path() / json);
    return text.substr(std::min(text.find("\"totals\""), text.size()));
  }
};

std::map<std::string, testing::LcovRecords> Sections(const fs::path& info) {
  return testing::LcovSections(info);
}

TEST_F(PerTest, EachSectionIsThatTestTracedAlone) {
  const auto suite = Sections(dir_.path() / "s.info");
  ASSERT_EQ(suite.size(), 2u) << testing::ReadFile(dir_.path() / "s.info");
  ASSERT_TRUE(suite.count("prog") && suite.count("prog_x_y_z"));
  EXPECT_EQ(suite.at("prog"), Sections(dir_.path() / "a.info").at(""));
  EXPECT_EQ(suite.at("prog_x_y_z"), Sections(dir_.path() / "b.info").at(""));
  EXPECT_NE(suite.at("prog"), suite.at("prog_x_y_z"))
      << "the tests differ: nothing trivially equal";
}

TEST_F(PerTest, Lcov116ReadsTheSectionsAsTheMergedRuns) {
  ExpectTotals(Lcov({"lcov", "--summary", "s.info", "--rc", "lcov_branch_coverage=1"}),
               Summary("ab.json").total);
  const std::string out =
      Lcov({"genhtml", "s.info", "-o", "genhtml", "--branch-coverage", "--show-details"});
  ExpectTotals(out.substr(out.find("Overall coverage rate")), Summary("ab.json").total);
  bool listed = false;  // genhtml names the tests on its detail pages
  for (const auto& entry : fs::recursive_directory_iterator(dir_.path() / "genhtml"))
    listed |= entry.path().filename() == "index-detail.html" &&
              testing::ReadFile(entry.path()).find("prog_x_y_z") != std::string::npos;
  EXPECT_TRUE(listed);
}

TEST_F(PerTest, Lcov2ReadsTheSectionsWithoutWarning) {
  if (!testing::Lcov2("lcov")) GTEST_SKIP() << testing::NoOracle("lcov 2.3.2");
  ExpectTotals(Lcov2("lcov", {"--summary", "s-v2.info", "--branch-coverage"}),
               Summary("ab.json").total);
  const std::string out =
      Lcov2("genhtml", {"s-v2.info", "-o", "genhtml2", "--branch-coverage", "--show-details"});
  ExpectTotals(out.substr(out.find("Overall coverage rate")), Summary("ab.json").total);
}

TEST_F(PerTest, MergeKeepsTheTests) {
  // Each test traced alone with --per-test, merged: the suite's run.
  Hwcov({"run", "-q", "--backend", "soft", "--per-test", "-o", "pa.data", "--json", "pa.json", "--",
         "./prog"});
  Hwcov({"run", "-q", "--backend", "soft", "--per-test", "-o", "pb.data", "--json", "pb.json", "--",
         "./prog", "x", "y", "z"});
  Hwcov({"merge", "-o", "pab.json", "pb.json", "pa.json"});
  EXPECT_EQ(Coverage("pab.json"), Coverage("s.json"));
  // Read back, the per-test JSON gives the same tracefile as its trace did.
  Hwcov({"report", "-q", "--per-test", "--lcov", "from-json.info", "s.json"});
  EXPECT_EQ(testing::ReadFile(dir_.path() / "from-json.info"),
            testing::ReadFile(dir_.path() / "s.info"));
  // A test of the same name in two inputs is one test, with the counts summed.
  Hwcov({"merge", "-o", "twice.json", "s.json", "pa.json"});
  Hwcov({"report", "-q", "--per-test", "--lcov", "twice.info", "twice.json"});
  auto twice = Sections(dir_.path() / "twice.info");
  ASSERT_EQ(twice.size(), 2u) << testing::ReadFile(dir_.path() / "twice.info");
  EXPECT_EQ(twice["prog_x_y_z"], Sections(dir_.path() / "s.info")["prog_x_y_z"]);
  auto alone = Sections(dir_.path() / "a.info")[""];
  ASSERT_FALSE(alone.empty());
  for (const auto& [key, count] : alone) {
    if (count == "-") continue;
    EXPECT_EQ(twice["prog"][key], std::to_string(2 * std::stoull(count))) << key;
  }
  // Without --per-test, the per-test JSON is read as its totals.
  Hwcov({"report", "-q", "--lcov", "plain.info", "s.json"});
  Hwcov({"report", "-q", "--lcov", "ab.info", "ab.json"});
  EXPECT_EQ(testing::ReadFile(dir_.path() / "plain.info"),
            testing::ReadFile(dir_.path() / "ab.info"));
}

TEST_F(PerTest, NeedsPerTestInputs) {
  const auto r = Hwcov({"report", "-q", "--per-test", "--lcov", "x.info", "a.json"}, 70);
  EXPECT_NE(r.err.find("a.json: has no per-test coverage"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "x.info"));
  // Nor does merge mix them: the tests' sum would not be the total.
  const auto m = Hwcov({"merge", "-o", "m.json", "s.json", "a.json"}, 70);
  EXPECT_NE(m.err.find("a.json: has no per-test coverage"), std::string::npos) << m.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "m.json"));
}

TEST_F(PerTest, OneNameGivenByTheEnvironmentIsOneTest) {
  const auto r = Hwcov(
      {"run", "-q", "--backend", "soft", "--per-test", "-o", "n.data", "--json", "n.json", "--",
       "sh", "-c", "HWCOV_TEST_NAME=both ./prog; HWCOV_TEST_NAME=both ./prog x y z; ./prog 1"});
  EXPECT_NE(r.err.find("\nTests: 2 (per-test coverage"), std::string::npos) << r.err;
  const mapper::Coverage c = report::ReadCoverageJson(dir_.path() / "n.json");
  ASSERT_EQ(c.tests.size(), 2u);
  EXPECT_EQ(c.tests[0].name, "both");
  EXPECT_EQ(c.tests[1].name, "prog 1");
  // "both" is the two runs: the suite's totals.
  mapper::Coverage both;
  both.files = c.tests[0].files;
  const report::FileSummary expected = Summary("ab.json").total;
  const report::FileSummary got = report::Summarize(both).total;
  EXPECT_EQ(std::tie(got.lines.hit, got.functions.hit, got.branches.hit),
            std::tie(expected.lines.hit, expected.functions.hit, expected.branches.hit));
}

// "lines: 53.8% (7 out of 13)" -> {7, 13}
std::pair<uint64_t, uint64_t> GcovrStated(const std::string& out, const std::string& what) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(what + R"(: [0-9.]+% \(([0-9]+) out of ([0-9]+)\))")))
    return {UINT64_MAX, UINT64_MAX};
  return {std::stoull(m[1]), std::stoull(m[2])};
}

TEST_F(LcovConsumers, Gcovr8ReadsTheCoberturaWithTheJsonsTotals) {
  const auto gcovr = testing::Gcovr8();
  if (!gcovr) GTEST_SKIP() << testing::NoOracle("gcovr 8.6");
  for (const char* run : {"a", "b"}) {
    SCOPED_TRACE(run);
    const auto r = RunCommand(With(*gcovr, {"--cobertura-add-tracefile", std::string(run) + ".xml",
                                            "--txt-summary", "-o", std::string(run) + ".txt"}),
                              dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    const report::FileSummary total = Summary(std::string(run) + ".json").total;
    EXPECT_EQ(GcovrStated(r.out, "lines"), std::make_pair(total.lines.hit, total.lines.found))
        << r.out << r.err;
    EXPECT_EQ(GcovrStated(r.out, "branches"),
              std::make_pair(total.branches.hit, total.branches.found))
        << r.out << r.err;
  }
}

}  // namespace
}  // namespace hwcov
