#include "trace_helpers.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace hwcov::testing {

namespace fs = std::filesystem;

namespace {

// The first whitespace-separated field of every line of |text|, sorted.
std::vector<std::string> SortedFirstColumn(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& line : SplitLines(text)) {
    std::istringstream in(line);
    std::string field;
    if (in >> field) out.push_back(field);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Traced TraceRun(const TempDir& dir, const std::string& backend, const std::string& stem,
                const std::vector<std::string>& options, const std::vector<std::string>& command) {
  Traced t{{}, dir.path() / (stem + ".data"), dir.path() / (stem + ".info")};
  std::vector<std::string> argv = {HWCOV_BINARY,     "run",    "--backend",    backend, "-o",
                                   t.trace.string(), "--lcov", t.lcov.string()};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  t.run = RunCommand(argv, dir.path());
  return t;
}

// hwcov run's summary is on stderr: stdout is the program's.
void ExpectNoGaps(const Traced& t) {
  EXPECT_NE(t.run.err.find("100.00% of"), std::string::npos) << t.run.err;
  EXPECT_NE(t.run.err.find(" 0 gaps"), std::string::npos) << t.run.err;
}

void ExpectPerfAgrees(const fs::path& trace, size_t min_instructions, WithoutPerf without_perf) {
  if (!HaveTool("perf")) {
    if (without_perf == WithoutPerf::kSkipTest) GTEST_SKIP() << "perf (linux-perf) not installed";
    return;
  }
  auto perf =
      RunCommand({"perf", "script", "-f", "--itrace=i1i", "-F", "ip", "-i", trace.string()});
  ASSERT_EQ(perf.exit_code, 0) << perf.err;
  auto ours = RunCommand({HWCOV_BINARY, "decode", "--list-insns", trace.string()});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  auto a = SortedFirstColumn(perf.out), b = SortedFirstColumn(ours.out);
  EXPECT_GT(b.size(), min_instructions);
  EXPECT_TRUE(a == b) << "perf: " << a.size() << " instructions, hwcov: " << b.size();
}

void ExpectSigtermKeepsTrace(const std::vector<std::string>& record_options,
                             const fs::path& trace) {
  // A program of the project's that never ends: the default scope traces it.
  const fs::path spin = trace.parent_path() / "spin";
  std::ofstream(spin.string() + ".c") << "int main(void) { for (volatile int i = 0;; ++i) {} }\n";
  ASSERT_EQ(RunCommand({"gcc", "-O0", "-g", "-o", spin.string(), spin.string() + ".c"}).exit_code,
            0);
  std::vector<std::string> argv = {HWCOV_BINARY, "record"};
  argv.insert(argv.end(), record_options.begin(), record_options.end());
  argv.insert(argv.end(), {"-o", trace.string(), "--", spin.string()});
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    execv(HWCOV_BINARY, args.data());
    _exit(127);
  }
  sleep(1);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);  // the program's own fate
  auto report = RunCommand({HWCOV_BINARY, "report", trace.string()}, trace.parent_path());
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(report.out.find(" 0 gaps"), std::string::npos) << report.out;
  EXPECT_NE(report.out.find("spin.c "), std::string::npos) << report.out;
}

}  // namespace hwcov::testing
