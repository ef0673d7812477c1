// `hwcov record` killed with SIGKILL mid-recording: no trace appears under
// the output name (nothing that looks complete), the partial trace is in
// "<output>.tmp.<pid>" with a perf.data header that says "not properly
// terminated", and `hwcov report` of it gives a report of what was recorded,
// saying that the trace is incomplete.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "corrupt_trace.h"
#include "hwcov/trace.h"
#include "test_support.h"

extern char** environ;

namespace hwcov::robustness {
namespace {

namespace fs = std::filesystem;

// PT bytes in a trace being written (0 while it cannot be read yet).
uint64_t PtBytes(const fs::path& path) {
  try {
    const trace::Trace t = trace::ReadPerfData(path);
    uint64_t n = 0;
    for (const auto& q : t.queues)
      for (const auto& b : q.buffers) n += b.size;
    return n;
  } catch (const Error&) {
    return 0;
  }
}

TEST(robustness, RecordingKilledWithSigkillIsReportable) {
  testing::TempDir dir("robust-sigkill");
  const fs::path out = dir.path() / "killed.data";
  std::vector<std::string> args = {HWCOV_BINARY, "record", "--backend",          "soft",     "-o",
                                   out.string(), "--",     HWCOV_EXAMPLE_PRIMES, "100000000"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  const fs::path partial = out.string() + ".tmp." + std::to_string(pid);

  // Until the partial trace holds a few PSB periods of PT (the soft tracer
  // hands PT to the file at the first sync point a second after the last), at
  // most two minutes.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  uint64_t pt_bytes = 0;
  while (pt_bytes < 3 * 4096 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    pt_bytes = PtBytes(partial);
  }
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_GE(pt_bytes, 3u * 4096) << "too little PT written in two minutes";

  EXPECT_FALSE(fs::exists(out)) << "a killed recording must not look complete";
  const fs::path lcov = dir.path() / "partial.info";
  const testing::CommandResult r =
      testing::RunCommand({HWCOV_BINARY, "report", "--lcov", lcov.string(), partial.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("hwcov: " + partial.string() + ": perf.data not properly terminated"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("lost-data"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the trace is incomplete"), std::string::npos) << r.out;
  // What was recorded is there: main ran once, is_prime many times.
  const std::string info = testing::ReadFile(lcov);
  EXPECT_NE(info.find("SF:"), std::string::npos) << info;
  EXPECT_NE(info.find("FNDA:1,main"), std::string::npos) << info;
  const auto at = info.find(",is_prime\n", info.find("FNDA:"));
  ASSERT_NE(at, std::string::npos) << info;
  const auto begin = info.rfind(':', at) + 1;
  EXPECT_GT(std::stoull(info.substr(begin, at - begin)), 1000u) << info;
}

}  // namespace
}  // namespace hwcov::robustness
