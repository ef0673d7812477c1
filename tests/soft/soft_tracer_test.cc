// The soft tracer on the shapes of real test suites: several threads, child
// processes, a shell running the programs under test, dlopen/dlclose,
// signals, exceptions, and being stopped. Every trace must decode without
// gaps, and Linux perf's decoder must see the same instructions in it.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "test_support.h"
#include "trace_helpers.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::ExpectNoGaps;
using testing::SplitLines;
using testing::Traced;

const fs::path kPrograms = HWCOV_TEST_PROGRAMS_DIR;

// Source files with an lcov record.
std::set<std::string> LcovFiles(const fs::path& lcov) {
  std::set<std::string> files;
  for (const std::string& line : SplitLines(testing::ReadFile(lcov)))
    if (line.rfind("SF:", 0) == 0) files.insert(fs::path(line.substr(3)).filename().string());
  return files;
}

// `hwcov run --backend soft`, writing NAME.data and NAME.info in |dir|.
Traced Trace(const testing::TempDir& dir, const std::string& name,
             const std::vector<std::string>& options, const std::vector<std::string>& command) {
  return testing::TraceRun(dir, "soft", name, options, command);
}

// Skips the test where perf is not installed.
void ExpectPerfAgrees(const fs::path& trace) {
  testing::ExpectPerfAgrees(trace, 100, testing::WithoutPerf::kSkipTest);
}

TEST(SoftTracer, FourThreadsEachWithItsOwnStream) {
  testing::TempDir dir("soft-threads");
  Traced t = Trace(dir, "threads", {}, {(kPrograms / "threads").string()});
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  ExpectNoGaps(t);
  EXPECT_NE(t.run.err.find("of 1 process(es), 5 thread(s)"), std::string::npos) << t.run.err;
  ExpectPerfAgrees(t.trace);
}

TEST(SoftTracer, ForkedChildIsFollowed) {
  testing::TempDir dir("soft-fork");
  Traced t = Trace(dir, "forker", {}, {(kPrograms / "forker").string(), "7"});
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  EXPECT_NE(t.run.out.find("child: 21"), std::string::npos) << t.run.out;
  ExpectNoGaps(t);
  EXPECT_NE(t.run.err.find("of 2 process(es)"), std::string::npos) << t.run.err;
  ExpectPerfAgrees(t.trace);
  // The child's code counts: child_work ran (in the child only).
  EXPECT_NE(testing::ReadFile(t.lcov).find("FNDA:1,child_work"), std::string::npos);
}

TEST(SoftTracer, NoInheritTracesOnlyTheFirstProcess) {
  testing::TempDir dir("soft-noinherit");
  Traced t = Trace(dir, "forker", {"--no-inherit"}, {(kPrograms / "forker").string(), "7"});
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  ExpectNoGaps(t);
  EXPECT_NE(t.run.err.find("of 1 process(es)"), std::string::npos) << t.run.err;
  EXPECT_NE(testing::ReadFile(t.lcov).find("FNDA:0,child_work"), std::string::npos);
}

TEST(SoftTracer, ShellScriptRunsTwoTracedProgramsAndIsNotTraced) {
  testing::TempDir dir("soft-shell");
  const std::string script =
      (kPrograms / "loops").string() + " 3 && " + (kPrograms / "recursion").string() + " 4";
  Traced t = Trace(dir, "shell", {"--only-exe", "loops", "--only-exe", "recursion"},
                   {"/bin/sh", "-c", script});
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  ExpectNoGaps(t);
  EXPECT_NE(t.run.err.find("of 2 process(es)"), std::string::npos) << t.run.err;
  EXPECT_EQ(LcovFiles(t.lcov), (std::set<std::string>{"loops.c", "recursion.c"}));
  ExpectPerfAgrees(t.trace);
}

TEST(SoftTracer, LibrariesLoadedAndUnloadedAtOneAddressDecodeWithTheirOwnCode) {
  testing::TempDir dir("soft-dl");
  Traced t =
      Trace(dir, "dl", {"--only", "dl", "--only", "libplugin_*.so"}, {(kPrograms / "dl").string()});
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  EXPECT_NE(t.run.out.find("6 60 60"), std::string::npos) << t.run.out;
  ExpectNoGaps(t);
  ExpectPerfAgrees(t.trace);
  // Both plugins' functions ran; each is reported for its own library build.
  const std::string lcov = testing::ReadFile(t.lcov);
  EXPECT_NE(lcov.find("SF:" + (fs::path(HWCOV_SOURCE_DIR) / "tests/programs/plugin.c").string()),
            std::string::npos)
      << lcov;
}

TEST(SoftTracer, SignalsAndExceptionsDecodeWithoutGaps) {
  testing::TempDir dir("soft-sig");
  for (const char* program : {"sig", "exc"}) {
    Traced t = Trace(dir, program, {}, {(kPrograms / program).string()});
    ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
    ExpectNoGaps(t);
    ExpectPerfAgrees(t.trace);
  }
}

TEST(SoftTracer, AllCodeTracesLibcAndTheVdsoToo) {
  testing::TempDir dir("soft-all");
  Traced t = Trace(dir, "all", {"--all-code"}, {(kPrograms / "threads").string()});
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  ExpectNoGaps(t);
}

TEST(SoftTracer, SigtermToHwcovStopsTheProgramsAndKeepsTheTrace) {
  testing::TempDir dir("soft-term");
  testing::ExpectSigtermKeepsTrace({"--backend", "soft"}, dir.path() / "term.data");
}

}  // namespace
}  // namespace hwcov
