// Decoding while recording at scale, in CI's time: `hwcov run --backend emu`
// without -o on a loop that makes dense PT (bench/programs/pt_dense.c, about
// 44 MB of trace here) uses far less disk than the trace (no perf.data; the
// emu stream files bounded by back-pressure), and its coverage is that of
// record-then-report. bench/live_decode.sh runs the same at >= 1 GB.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::RunCommand;

const fs::path kDense = HWCOV_PT_DENSE_PROGRAM;
constexpr const char* kIterations = "6";  // millions: about 44 MB of PT
constexpr uint64_t kDiskBound = 32 << 20;

// Bytes allocated (not apparent: punched holes are free) under |dir|.
uint64_t AllocatedBytes(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    struct stat st;
    if (lstat(it->path().c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

TEST(LiveDecode, DiskStaysFarBelowTheTraceAndCoverageIsRecordThenReport) {
  testing::TempDir dir("live-decode");
  const auto probe = RunCommand({HWCOV_BINARY, "record", "--backend", "emu", "-o",
                                 (dir.path() / "probe.data").string(), "--", "/bin/true"});
  if (probe.exit_code != 0) GTEST_SKIP() << "emu backend unavailable: " << probe.err;
  const fs::path tmp = dir.path() / "tmp", cwd = dir.path() / "cwd";
  const fs::path shm = fs::path("/dev/shm") / ("hwcov-live-test-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  fs::create_directories(cwd);
  fs::create_directories(shm);
  struct RemoveShm {
    fs::path path;
    ~RemoveShm() { fs::remove_all(path); }
  } remove_shm{shm};
  const std::string root = (fs::path(HWCOV_SOURCE_DIR) / "bench" / "programs").string();
  const fs::path live_json = dir.path() / "live.json", err = dir.path() / "live.err";

  // The live run, its disk use polled every 20 ms.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("TMPDIR", tmp.c_str(), 1);
    setenv("HWCOV_EMU_DIR", shm.c_str(), 1);
    if (chdir(cwd.c_str()) != 0) _exit(127);
    const int fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = open("/dev/null", O_WRONLY);
    dup2(fd, 2);
    dup2(null, 1);
    execl(HWCOV_BINARY, HWCOV_BINARY, "run", "-q", "--backend", "emu", "--emu-mode", "trace",
          "--no-return-compression", "--root", root.c_str(), "--json", live_json.c_str(), "--",
          kDense.c_str(), kIterations, static_cast<char*>(nullptr));
    _exit(127);
  }
  uint64_t peak = 0;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    peak = std::max({peak, AllocatedBytes(tmp) + AllocatedBytes(cwd) + AllocatedBytes(shm)});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::string live_err = testing::ReadFile(err);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << live_err;
  EXPECT_TRUE(fs::is_empty(tmp)) << "hwcov left files in its TMPDIR";
  EXPECT_TRUE(fs::is_empty(cwd)) << "hwcov wrote into the working directory";

  // Record, then report: the baseline, and the size of the trace.
  const fs::path trace = dir.path() / "t.data", after_json = dir.path() / "after.json";
  const auto rec =
      RunCommand({HWCOV_BINARY, "record", "--backend", "emu", "--no-return-compression", "-o",
                  trace.string(), "--", kDense.string(), kIterations});
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  const auto rep = RunCommand({HWCOV_BINARY, "report", "-q", "--root", root, "--json",
                               after_json.string(), trace.string()});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  const uint64_t trace_size = fs::file_size(trace);
  EXPECT_GT(trace_size, kDiskBound) << "the trace is too small to show the bound";
  EXPECT_LT(peak, kDiskBound) << "peak disk use " << peak << " bytes for a trace of " << trace_size;
  EXPECT_EQ(testing::ReadFile(live_json), testing::ReadFile(after_json));
  RecordProperty("peak_disk_bytes", std::to_string(peak));
  RecordProperty("trace_bytes", std::to_string(trace_size));
}

}  // namespace
}  // namespace hwcov
