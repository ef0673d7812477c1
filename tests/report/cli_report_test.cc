// The report options end to end through `hwcov report` on JSON coverage
// files (no tracing needed): formats, filters, CI gates and their exit codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "hwcov/report.h"
#include "profile.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::RunCommand;

fs::path WriteProfile(const fs::path& dir) {
  const fs::path path = dir / "p.json";
  const auto c = testing::FixedProfile();
  report::MakeJsonWriter(path)->Write(c, report::Summarize(c));
  return path;
}

void ExpectOneLineError(const testing::CommandResult& r, int code,
                        const std::string& must_contain) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("hwcov: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(must_contain), std::string::npos) << r.err;
}

TEST(CliReport, GatesExitWithThreeAndSayWhy) {
  testing::TempDir dir("report-cli-gates");
  const fs::path in = WriteProfile(dir.path());
  const fs::path xml = dir.path() / "c.xml";
  // 7/9 lines = 77.78%, 3/4 functions, 5/10 branches.
  auto pass = RunCommand({HWCOV_BINARY, "report", "--all-code", in.string(), "--fail-under-line",
                          "77", "--fail-under-function", "75", "--fail-under-branch", "50"});
  EXPECT_EQ(pass.exit_code, 0) << pass.err;
  EXPECT_EQ(pass.err, "");
  auto line = RunCommand({HWCOV_BINARY, "report", "--all-code", in.string(), "--fail-under-line",
                          "80", "--cobertura", xml.string()});
  ExpectOneLineError(line, 3, "line coverage 77.78% (7 of 9) is below --fail-under-line 80");
  EXPECT_TRUE(fs::exists(xml));  // reports are written before the gate
  EXPECT_NE(line.out.find("TOTAL"), std::string::npos);
  ExpectOneLineError(RunCommand({HWCOV_BINARY, "report", "--all-code", in.string(),
                                 "--fail-under-branch", "50.5"}),
                     3, "branch coverage 50.00% (5 of 10) is below --fail-under-branch 50.5");
  ExpectOneLineError(RunCommand({HWCOV_BINARY, "report", "--all-code", in.string(),
                                 "--fail-under-function", "90"}),
                     3, "function coverage 75.00%");
  ExpectOneLineError(
      RunCommand({HWCOV_BINARY, "report", "--all-code", in.string(), "--fail-under-line", "101"}),
      testing::kHwcovFailure, "--fail-under-line must be a percentage from 0 to 100");
  ExpectOneLineError(
      RunCommand({HWCOV_BINARY, "report", "--all-code", in.string(), "--fail-under-branch", "nan"}),
      testing::kHwcovFailure, "--fail-under-branch must be a percentage from 0 to 100");
}

TEST(CliReport, RootFiltersAndRelativeCoberturaPaths) {
  testing::TempDir dir("report-cli-root");
  const fs::path in = WriteProfile(dir.path());
  const fs::path xml = dir.path() / "c.xml", json = dir.path() / "out.json";
  auto r = RunCommand({HWCOV_BINARY, "report", in.string(), "--root", "/src/proj", "--exclude",
                       "lib/", "--cobertura", xml.string(), "--json", json.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string cobertura = ReadFile(xml);
  EXPECT_NE(cobertura.find("filename=\"main.cc\""), std::string::npos) << cobertura;
  EXPECT_EQ(cobertura.find("vector.h"), std::string::npos);
  EXPECT_EQ(cobertura.find("a&amp;b"), std::string::npos);
  EXPECT_EQ(report::ReadCoverageJson(json).files.size(), 1u);  // JSON is filtered the same
  EXPECT_EQ(r.out.find("vector.h"), std::string::npos) << r.out;
  ExpectOneLineError(RunCommand({HWCOV_BINARY, "report", in.string(), "--include", "[a"}),
                     testing::kHwcovFailure, "invalid --include regular expression");
}

// run: the program's status first, the gate's 3 only when the program passed;
// bad report options fail before anything is recorded.
TEST(CliReport, RunGatesAndWritesCobertura) {
  testing::TempDir dir("report-cli-run");
  const fs::path xml = dir.path() / "c.xml";
  auto gate = RunCommand({HWCOV_BINARY, "run", "--backend", "soft", "--fail-under-function", "100",
                          "--all-code", "--cobertura", xml.string(), "--", "/bin/true"});
  // /bin/true has no DWARF: functions from its symbols, most never entered.
  EXPECT_EQ(gate.exit_code, 3) << gate.err;
  EXPECT_NE(gate.err.find("hwcov: function coverage"), std::string::npos) << gate.err;
  EXPECT_NE(ReadFile(xml).find("<coverage line-rate="), std::string::npos);
  auto failing = RunCommand({HWCOV_BINARY, "run", "--backend", "soft", "--fail-under-function",
                             "100", "--", "/bin/false"});
  EXPECT_EQ(failing.exit_code, 1) << failing.err;
  auto bad =
      RunCommand({HWCOV_BINARY, "run", "--backend", "soft", "--exclude", "(", "--", "/bin/true"});
  ExpectOneLineError(bad, testing::kHwcovFailure, "invalid --exclude regular expression");
}

TEST(CliReport, BadJsonInputIsOneLineError) {
  testing::TempDir dir("report-cli-badjson");
  const fs::path bad = dir.path() / "bad.json";
  std::ofstream(bad) << "{\"format\": \"hwcov-coverage\", \"version\": 7}";
  ExpectOneLineError(RunCommand({HWCOV_BINARY, "report", bad.string()}), testing::kHwcovFailure,
                     bad.string() + ": schema version 7 is not supported");
  ExpectOneLineError(
      RunCommand({HWCOV_BINARY, "merge", "-o", (dir.path() / "o.json").string(), bad.string()}),
      testing::kHwcovFailure, "schema version 7");
  EXPECT_FALSE(fs::exists(dir.path() / "o.json"));
}

}  // namespace
}  // namespace hwcov
