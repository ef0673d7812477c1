// `hwcov run --backend emu -- ctest` over a CMake project's suite
// (ctest_project/: ten test programs, a shell script test calling two of
// them, and a test checking that the driver runs natively):
//   - gives the same line, branch and function counts as tracing each test's
//     command alone (as `ctest -N -V` lists it) and merging the JSON files;
//   - with --per-test, each test's lcov section is that test traced alone;
//   - passes ctest's own exit status through, also when a test fails;
//   - runs ctest and sh natively: driver_native.sh finds no QEMU mapped in
//     ctest or in itself, and the same script does find it when sh is put
//     under QEMU (--only-exe '*'), so the check can fail.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::RunCommand;
using testing::RunShell;

const fs::path kProject = HWCOV_CTEST_PROJECT_DIR;
const fs::path kSources = HWCOV_CTEST_SOURCE_DIR;

bool EmuRuns() {
  static const bool runs = [] {
    testing::TempDir dir("emu-ctest-probe");
    return RunCommand({HWCOV_BINARY, "record", "--backend", "emu", "-o",
                       (dir.path() / "t.data").string(), "--", "/bin/true"})
               .exit_code == 0;
  }();
  return runs;
}

#define SKIP_WITHOUT_EMU() \
  if (!EmuRuns()) GTEST_SKIP() << "emu backend unavailable (qemu-x86_64)"

// The command of every test, from `ctest -N -V` ("N: Test command: A "B"").
std::vector<std::vector<std::string>> TestCommands() {
  CommandResult r = RunCommand({"ctest", "-N", "-V"}, kProject);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::vector<std::string>> commands;
  for (const std::string& line : testing::SplitLines(r.out)) {
    const size_t at = line.find("Test command: ");
    if (at == std::string::npos) continue;
    std::istringstream in(line.substr(at + 14));
    std::vector<std::string> argv;
    for (std::string word; in >> word;) {
      if (word.size() >= 2 && word.front() == '"' && word.back() == '"')
        word = word.substr(1, word.size() - 2);
      argv.push_back(word);
    }
    commands.push_back(argv);
  }
  return commands;
}

// A JSON coverage file's coverage (totals and files), without the trace
// quality section, whose byte and instruction counts differ between runs.
std::string Coverage(const fs::path& json) {
  const std::string text = testing::ReadFile(json);
  const size_t at = text.find("\"totals\"");
  EXPECT_NE(at, std::string::npos) << json;
  return at == std::string::npos ? text : text.substr(at);
}

int Hwcov(std::vector<std::string> args) {
  args.insert(args.begin(), HWCOV_BINARY);
  const CommandResult r = RunCommand(args, kProject);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code;
}

// The lcov TN of a test of ctest_project: "pair" names itself
// (HWCOV_TEST_NAME), the others are named by their command lines, the
// program without its directory; lcov's test names are word characters.
std::string LcovTestName(const std::vector<std::string>& argv) {
  std::string name = fs::path(argv[0]).filename().string();
  if (name == "sh") {
    name = "pair";
  } else {
    for (size_t k = 1; k < argv.size(); ++k) name += " " + argv[k];
  }
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

// In both modes of the emu backend: "trace" (-o: Intel PT, decoded per test)
// and "count" (no trace: the plugin's counts, split by each process's test).
class EmuCtestSuite : public ::testing::TestWithParam<const char*> {
 protected:
  bool tracing() const { return std::string(GetParam()) == "trace"; }
  // -o STEM.data in trace mode, nothing in counting mode.
  std::string TraceOption(const std::string& stem) const {
    return tracing() ? " -o " + stem + ".data" : "";
  }
};

TEST_P(EmuCtestSuite, SuiteEqualsEachTestTracedAloneAndMerged) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir(std::string("emu-ctest-") + GetParam());
  const fs::path suite_json = dir.path() / "suite.json";
  std::vector<std::string> argv = {HWCOV_BINARY, "run", "--backend", "emu", "--per-test"};
  if (tracing()) argv.insert(argv.end(), {"-o", (dir.path() / "s.data").string()});
  argv.insert(argv.end(), {"--json", suite_json.string(), "--", "ctest"});
  CommandResult suite = RunCommand(argv, kProject);
  ASSERT_EQ(suite.exit_code, 0) << suite.out << suite.err;
  EXPECT_EQ(suite.err.find("(emu counting mode, no trace)") != std::string::npos, !tracing())
      << suite.err;
  EXPECT_NE(suite.out.find("100% tests passed, 0 tests failed out of 12"), std::string::npos)
      << suite.out;
  const size_t driver = suite.out.find("driver_native ");
  ASSERT_NE(driver, std::string::npos) << suite.out;
  const std::string driver_line = suite.out.substr(driver, suite.out.find('\n', driver) - driver);
  EXPECT_NE(driver_line.find("Passed"), std::string::npos) << suite.out;

  const std::vector<std::vector<std::string>> commands = TestCommands();
  ASSERT_EQ(commands.size(), 12u);
  // Two at a time, as ctest -j2 would; each writes its own JSON file.
  std::string script;
  std::vector<std::string> merge = {HWCOV_BINARY, "merge", "-o",
                                    (dir.path() / "merged.json").string()};
  for (size_t i = 0; i < commands.size(); ++i) {
    const std::string stem = (dir.path() / ("test" + std::to_string(i))).string();
    script += std::string(HWCOV_BINARY) + " run --backend emu" + TraceOption(stem) + " --json " +
              stem + ".json --";
    for (const std::string& arg : commands[i]) script += " '" + arg + "'";
    // A test that runs no program of the project (the driver check) traces
    // nothing: hwcov says so and writes no coverage, which adds nothing.
    script += " > " + stem + ".out 2>&1 || grep -q 'no program of the run was traced' " + stem +
              ".out || cat " + stem + ".out &\n";
    if (i % 2 == 1) script += "wait\n";
  }
  CommandResult alone = RunShell(script + "wait\n", kProject);
  ASSERT_EQ(alone.out, "") << "a test traced alone failed";
  for (size_t i = 0; i < commands.size(); ++i) {
    const fs::path json = dir.path() / ("test" + std::to_string(i) + ".json");
    if (fs::exists(json)) merge.push_back(json.string());
  }
  ASSERT_EQ(merge.size(), 4u + commands.size() - 1) << "one test (the driver check) traces nothing";
  CommandResult merged = RunCommand(merge);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  // The suite's totals (its JSON read without --per-test) are the merge.
  const fs::path totals_json = dir.path() / "totals.json";
  ASSERT_EQ(Hwcov({"report", "-q", "--json", totals_json.string(), suite_json.string()}), 0);
  EXPECT_EQ(Coverage(totals_json), Coverage(dir.path() / "merged.json"));
  // Per test: the suite's section of each test is that test traced alone
  // (and zero in the files only other tests ran).
  const fs::path suite_info = dir.path() / "suite.info";
  ASSERT_EQ(
      Hwcov({"report", "-q", "--per-test", "--lcov", suite_info.string(), suite_json.string()}), 0);
  auto sections = testing::LcovSections(suite_info);
  EXPECT_EQ(sections.size(), commands.size() - 1) << "the driver check traces nothing";
  for (size_t i = 0; i < commands.size(); ++i) {
    const fs::path json = dir.path() / ("test" + std::to_string(i) + ".json");
    if (!fs::exists(json)) continue;
    const std::string name = LcovTestName(commands[i]);
    SCOPED_TRACE(name);
    const fs::path info = dir.path() / ("test" + std::to_string(i) + ".info");
    ASSERT_EQ(Hwcov({"report", "-q", "--lcov", info.string(), json.string()}), 0);
    const testing::LcovRecords by_itself = testing::LcovSections(info)[""];
    ASSERT_TRUE(sections.count(name));
    for (const auto& [key, count] : sections[name]) {
      const auto it = by_itself.find(key);
      EXPECT_EQ(count, it != by_itself.end() ? it->second : count == "-" ? "-" : "0") << key;
    }
    for (const auto& [key, count] : by_itself) EXPECT_TRUE(sections[name].count(key)) << key;
  }
  // All ten programs' sources are in the suite's coverage.
  for (int i = 1; i <= 10; ++i) {
    const std::string prefix = (i < 10 ? "t0" : "t") + std::to_string(i) + "_";
    EXPECT_NE(Coverage(suite_json).find("/" + prefix), std::string::npos) << prefix;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, EmuCtestSuite, ::testing::Values("trace", "count"),
                         [](const auto& mode) { return std::string(mode.param); });

TEST(EmuCtest, CtestExitStatusPassesThrough) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-ctest-fail");
  // t03_fact fails when HWCOV_CTEST_FAIL is set: ctest's status without hwcov...
  CommandResult native = RunShell("HWCOV_CTEST_FAIL=1 ctest -R fact", kProject);
  ASSERT_NE(native.exit_code, 0) << native.out;
  // ...is hwcov's, and the failing program is still traced.
  CommandResult traced =
      RunShell(std::string("HWCOV_CTEST_FAIL=1 ") + HWCOV_BINARY + " run --backend emu -o " +
                   (dir.path() / "t.data").string() + " -- ctest -R fact",
               kProject);
  EXPECT_EQ(traced.exit_code, native.exit_code) << traced.out << traced.err;
  EXPECT_NE(traced.err.find("t03_fact.c"), std::string::npos) << traced.err;  // the summary
}

TEST(EmuCtest, DriverCheckSeesQemuWhenShellIsEmulated) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-ctest-qemu-sh");
  CommandResult r = RunCommand(
      {HWCOV_BINARY, "record", "--backend", "emu", "--only-exe", "*", "-o",
       (dir.path() / "t.data").string(), "--", "sh", (kSources / "driver_native.sh").string()},
      kProject);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("runs under QEMU"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hwcov
