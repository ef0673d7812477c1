// The command line as a user meets it: pass-through of the program's I/O and
// exit status, backend messages, and one-line errors for bad input that
// leave no partial output behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::RunCommand;
using testing::RunShell;

// hwcov's own errors: exactly one line on stderr, "hwcov: <path>: <reason>".
void ExpectOneLineError(const testing::CommandResult& r, const std::string& must_contain) {
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("hwcov: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(must_contain), std::string::npos) << r.err;
}

TEST(Cli, ExitStatusStdoutAndStdinPassThrough) {
  testing::TempDir dir("cli-pass");
  auto r = RunShell(std::string("echo hello | ") + HWCOV_BINARY +
                        " run --backend soft -- /bin/sh -c 'read x; echo got $x; exit 7'",
                    dir.path());
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(r.out.rfind("got hello\n", 0), 0u) << r.out;  // the program's output comes first
  for (const auto& line : testing::SplitLines(r.err))
    EXPECT_EQ(line.rfind("hwcov: ", 0), 0u) << "stray stderr line: " << line;
}

TEST(Cli, KilledProgramReportsShellStatusAndKeepsItsTrace) {
  testing::TempDir dir("cli-kill");
  auto trace = dir.path() / "killed.data";
  std::ofstream(dir.path() / "crash.c") << "#include <signal.h>\n#include <unistd.h>\n"
                                           "int main(void) { kill(getpid(), SIGSEGV); }\n";
  ASSERT_EQ(RunShell("gcc -O0 -g -o crash crash.c", dir.path()).exit_code, 0);
  auto r = RunCommand({HWCOV_BINARY, "record", "--backend", "soft", "-o", trace.string(), "--",
                       (dir.path() / "crash").string()});
  EXPECT_EQ(r.exit_code, 128 + 11) << r.err;
  EXPECT_NE(r.err.find("hwcov: the traced program was killed by SIGSEGV; coverage up to then\n"),
            std::string::npos)
      << r.err;
  auto report = RunCommand({HWCOV_BINARY, "report", trace.string()});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(report.out.find("100.00% of"), std::string::npos) << report.out;
}

TEST(Cli, AutoBackendSaysWhichAndWhy) {
  testing::TempDir dir("cli-auto");
  auto r = RunCommand(
      {HWCOV_BINARY, "record", "-o", (dir.path() / "t.data").string(), "--", "/bin/true"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (fs::exists("/sys/bus/event_source/devices/intel_pt"))
    GTEST_SKIP() << "this machine has Intel PT";
  // Without Intel PT: the emulator where qemu-user runs, else the soft tracer.
  const std::string expected = testing::HaveTool("qemu-x86_64")
                                   ? "hwcov: backend emu: no intel_pt PMU"
                                   : "hwcov: backend soft: no intel_pt PMU";
  EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
}

TEST(Cli, IntelPtBackendWithoutIntelPtFailsWithTheReason) {
  if (fs::exists("/sys/bus/event_source/devices/intel_pt"))
    GTEST_SKIP() << "this machine has Intel PT";
  testing::TempDir dir("cli-pt");
  auto out = dir.path() / "t.data";
  auto r = RunCommand(
      {HWCOV_BINARY, "run", "--backend", "intel-pt", "-o", out.string(), "--", "/bin/true"});
  ExpectOneLineError(r, "no intel_pt PMU");
  EXPECT_NE(r.err.find("--backend soft"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(Cli, MissingProgram) {
  testing::TempDir dir("cli-noprog");
  auto out = dir.path() / "t.data";
  auto r = RunCommand(
      {HWCOV_BINARY, "run", "--backend", "soft", "-o", out.string(), "--", "./no-such-program"});
  ExpectOneLineError(r, "./no-such-program: cannot run: No such file or directory");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::is_empty(dir.path()));  // no temporary left behind
}

TEST(Cli, MissingTrace) {
  auto r = RunCommand({HWCOV_BINARY, "report", "/nonexistent/perf.data"});
  ExpectOneLineError(r, "/nonexistent/perf.data: No such file or directory");
}

TEST(Cli, NotAPerfDataFile) {
  testing::TempDir dir("cli-notperf");
  auto path = dir.path() / "notes.txt";
  std::ofstream(path) << "this is not a trace, just some text that is long enough\n";
  auto lcov = dir.path() / "out.info";
  auto r = RunCommand({HWCOV_BINARY, "report", "--lcov", lcov.string(), path.string()});
  ExpectOneLineError(r, path.string() + ": not a perf.data file");
  EXPECT_FALSE(fs::exists(lcov));
}

TEST(Cli, EmptyAndDirectoryTraces) {
  testing::TempDir dir("cli-empty");
  auto empty = dir.path() / "empty.data";
  std::ofstream(empty).close();
  ExpectOneLineError(RunCommand({HWCOV_BINARY, "report", empty.string()}), "empty file");
  ExpectOneLineError(RunCommand({HWCOV_BINARY, "report", dir.path().string()}), "is a directory");
}

TEST(Cli, TruncatedTrace) {
  testing::TempDir dir("cli-trunc");
  auto trace = dir.path() / "full.data";
  auto rec = RunCommand({HWCOV_BINARY, "record", "--backend", "soft", "-o", trace.string(), "--",
                         HWCOV_EXAMPLE_PRIMES, "10"});
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  auto size = fs::file_size(trace);
  auto cut = dir.path() / "cut.data";
  fs::copy_file(trace, cut);
  fs::resize_file(cut, size / 2);
  auto lcov = dir.path() / "cut.info";
  auto r = RunCommand({HWCOV_BINARY, "report", "--lcov", lcov.string(), cut.string()});
  ExpectOneLineError(r, cut.string() + ": ");
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(lcov));
}

TEST(Cli, UnwritableOutputLeavesNothing) {
  auto r = RunCommand({HWCOV_BINARY, "record", "--backend", "soft", "-o", "/nonexistent-dir/t.data",
                       "--", "/bin/true"});
  ExpectOneLineError(
      r, "/nonexistent-dir/t.data: cannot be written: directory /nonexistent-dir does not exist");
}

TEST(Cli, UsageErrors) {
  auto r = RunCommand({HWCOV_BINARY, "frobnicate"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown command"), std::string::npos);
  r = RunCommand({HWCOV_BINARY, "run", "--backend", "soft"});
  ExpectOneLineError(r, "no command given");
  r = RunCommand({HWCOV_BINARY, "run", "--backend", "quantum", "--", "/bin/true"});
  ExpectOneLineError(r, "unknown backend 'quantum'");
}

// hwcov dump: what a bug report needs, consistent with libipt's own view of
// the same trace (its instruction decoder's count, via decode --list-insns).
TEST(Cli, DumpShowsSetupSidebandAndProfile) {
  testing::TempDir dir("cli-dump");
  const fs::path trace = dir.path() / "t.data";
  ASSERT_EQ(RunCommand({HWCOV_BINARY, "record", "--backend", "soft", "--no-return-compression",
                        "-o", trace.string(), "--", HWCOV_EXAMPLE_PRIMES})
                .exit_code,
            0);
  const testing::CommandResult dump = RunCommand({HWCOV_BINARY, "dump", trace.string()});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("per-thread noretcomp"), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("queue 0 tid "), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find(" PSB=1 "), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find(std::string(" r-x ") + HWCOV_EXAMPLE_PRIMES), std::string::npos)
      << dump.out;
  const testing::CommandResult insns =
      RunCommand({HWCOV_BINARY, "decode", "--list-insns", trace.string()});
  ASSERT_EQ(insns.exit_code, 0) << insns.err;
  const size_t n = testing::SplitLines(insns.out).size();
  ASSERT_GT(n, 1000u);
  EXPECT_NE(dump.out.find("profile: " + std::to_string(n) + " instructions, "), std::string::npos)
      << "libipt's instruction decoder counted " << n << "\n"
      << dump.out.substr(0, 2000);
}

}  // namespace
}  // namespace hwcov
