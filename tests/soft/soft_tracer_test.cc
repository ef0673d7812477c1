// The soft tracer on the shapes of real test suites: several threads, child
// processes, a shell running the programs under test, dlopen/dlclose,
// signals, exceptions, and being stopped. Every trace must decode without
// gaps, and Linux perf's decoder must see the same instructions in it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::RunCommand;
using testing::SplitLines;

const fs::path kPrograms = HWCOV_TEST_PROGRAMS_DIR;

std::vector<std::string> Sorted(const std::string& text, int column) {
  std::vector<std::string> out;
  for (const std::string& line : SplitLines(text)) {
    std::istringstream in(line);
    std::string field;
    for (int i = 0; i <= column && in >> field; ++i) {
    }
    if (!field.empty()) out.push_back(field);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Source files with an lcov record.
std::set<std::string> LcovFiles(const fs::path& lcov) {
  std::set<std::string> files;
  for (const std::string& line : SplitLines(testing::ReadFile(lcov)))
    if (line.rfind("SF:", 0) == 0) files.insert(fs::path(line.substr(3)).filename().string());
  return files;
}

struct Traced {
  CommandResult run;
  fs::path trace, lcov;
};

Traced Trace(const testing::TempDir& dir, const std::string& name,
             const std::vector<std::string>& options, const std::vector<std::string>& command) {
  Traced t{{}, dir.path() / (name + ".data"), dir.path() / (name + ".info")};
  std::vector<std::string> argv = {HWCOV_BINARY, "run", "--backend", "soft", "-o", t.trace.string(),
                                   "--lcov", t.lcov.string()};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  t.run = RunCommand(argv, dir.path());
  return t;
}

void ExpectNoGaps(const Traced& t) {
  EXPECT_NE(t.run.out.find("100.00% of"), std::string::npos) << t.run.out;
  EXPECT_NE(t.run.out.find(" 0 gaps"), std::string::npos) << t.run.out;
}

// perf and hwcov list the same executed instructions (as multisets: the
// order across threads and processes differs between the two listings).
void ExpectPerfAgrees(const fs::path& trace) {
  if (!testing::HaveTool("perf")) GTEST_SKIP() << "perf (linux-perf) not installed";
  auto perf = RunCommand({"perf", "script", "-f", "--itrace=i1i", "-F", "ip", "-i", trace.string()});
  ASSERT_EQ(perf.exit_code, 0) << perf.err;
  auto ours = RunCommand({HWCOV_BINARY, "decode", "--list-insns", trace.string()});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  auto a = Sorted(perf.out, 0), b = Sorted(ours.out, 0);
  EXPECT_GT(b.size(), 100u);
  EXPECT_EQ(a, b) << "perf: " << a.size() << " instructions, hwcov: " << b.size();
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
  const std::string script = (kPrograms / "loops").string() + " 3 && " +
                             (kPrograms / "recursion").string() + " 4";
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
  Traced t = Trace(dir, "dl", {"--only", "dl", "--only", "libplugin_*.so"},
                   {(kPrograms / "dl").string()});
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
  const fs::path trace = dir.path() / "term.data";
  pid_t pid = fork();
  if (pid == 0) {
    execl(HWCOV_BINARY, HWCOV_BINARY, "record", "--backend", "soft", "-o", trace.c_str(), "--",
          "/bin/sh", "-c", "while :; do :; done", static_cast<char*>(nullptr));
    _exit(127);
  }
  sleep(1);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);  // the program's own fate
  auto report = RunCommand({HWCOV_BINARY, "report", trace.string()});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(report.out.find(" 0 gaps"), std::string::npos) << report.out;
}

}  // namespace
}  // namespace hwcov
