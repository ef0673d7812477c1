// Permissions and the messages people get when the kernel says no:
// perf_event_paranoid, capabilities, locked-memory limits, buffer sizes.
#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>

#include "hwcov/support.h"
#include "intel_pt_access.h"
#include "intel_pt_recorder.h"
#include "test_support.h"

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

fs::path FakeProc(const testing::TempDir& dir, int paranoid, uint64_t mlock_kb, uint64_t cap_eff) {
  fs::create_directories(dir.path() / "sys/kernel");
  fs::create_directories(dir.path() / "self");
  std::ofstream(dir.path() / "sys/kernel/perf_event_paranoid") << paranoid << "\n";
  std::ofstream(dir.path() / "sys/kernel/perf_event_mlock_kb") << mlock_kb << "\n";
  char caps[32];
  std::snprintf(caps, sizeof caps, "%016llx", static_cast<unsigned long long>(cap_eff));
  std::ofstream(dir.path() / "self/status")
      << "Name:\thwcov\nCapInh:\t0000000000000000\nCapPrm:\t" << caps << "\nCapEff:\t" << caps
      << "\nCapBnd:\t000001ffffffffff\n";
  return dir.path();
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(Access, ReadsParanoidAndCapabilities) {
  testing::TempDir dir("pt-proc");
  PerfAccess a = ReadPerfAccess(FakeProc(dir, 3, 516, 0));
  EXPECT_EQ(a.paranoid, 3);
  EXPECT_EQ(a.mlock_kb, 516u);
  EXPECT_FALSE(a.privileged());
  EXPECT_TRUE(a.likely_denied());

  PerfAccess perfmon = ReadPerfAccess(FakeProc(dir, 3, 516, uint64_t{1} << 38));
  EXPECT_TRUE(perfmon.cap_perfmon);
  EXPECT_TRUE(perfmon.privileged());
  EXPECT_FALSE(perfmon.likely_denied());

  PerfAccess admin = ReadPerfAccess(FakeProc(dir, 2, 516, uint64_t{1} << 21));
  EXPECT_TRUE(admin.cap_sys_admin);
  EXPECT_TRUE(admin.privileged());

  PerfAccess open = ReadPerfAccess(FakeProc(dir, -1, 2048, uint64_t{1} << 14));
  EXPECT_TRUE(open.privileged());  // paranoid -1 is perf's "privileged"
  EXPECT_TRUE(open.cap_ipc_lock);
  EXPECT_EQ(open.mlock_kb, 2048u);
}

TEST(Access, DeniedOpenSaysWhichSysctlAndCapability) {
  PerfAccess a;
  a.paranoid = 3;
  const std::string m = DescribeOpenDenied(a, EACCES, 0);
  EXPECT_TRUE(Contains(m, "kernel.perf_event_paranoid is 3")) << m;
  EXPECT_TRUE(Contains(m, "sysctl kernel.perf_event_paranoid=2")) << m;
  EXPECT_TRUE(Contains(m, "CAP_PERFMON")) << m;
  EXPECT_TRUE(Contains(m, "--backend soft")) << m;
  EXPECT_FALSE(Contains(m, "\n"));

  const std::string attach = DescribeOpenDenied(a, EACCES, 4242);
  EXPECT_TRUE(Contains(attach, "process 4242")) << attach;
  EXPECT_TRUE(Contains(attach, "CAP_SYS_PTRACE")) << attach;
}

TEST(Access, RefusedBufferSaysMlockAndUlimit) {
  PerfAccess a;
  a.memlock_limit = 8 << 20;
  for (int err : {EPERM, ENOMEM}) {
    const std::string m = DescribeMmapFailure(a, err, (4 << 20) + (260 << 10), 8, 4 << 20);
    EXPECT_TRUE(Contains(m, "perf_event_mlock_kb = 516 KiB")) << m;
    EXPECT_TRUE(Contains(m, "ulimit -l")) << m;
    EXPECT_TRUE(Contains(m, "--buffer-size")) << m;
    EXPECT_TRUE(Contains(m, "8 buffer(s)")) << m;
    EXPECT_FALSE(Contains(m, "\n"));
  }
}

TEST(Access, BufferSizesFollowPerfsRules) {
  PerfAccess user;
  PerfAccess root;
  root.cap_sys_admin = true;
  EXPECT_EQ(AuxBufferSize(0, user, 4096), 128u << 10);  // perf's unprivileged default
  EXPECT_EQ(AuxBufferSize(0, root, 4096), 4u << 20);
  EXPECT_EQ(AuxBufferSize(64 << 10, user, 4096), 64u << 10);
  EXPECT_EQ(AuxBufferSize(8 << 10, user, 4096), 8u << 10);
  for (uint64_t bad : {uint64_t{4096}, uint64_t{100 << 10}, uint64_t{(4 << 20) + 4096}}) {
    try {
      AuxBufferSize(bad, user, 4096);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_TRUE(Contains(e.what(), "power of two")) << e.what();
    }
  }
}

TEST(Access, CpuList) {
  EXPECT_EQ(ParseCpuList("0-3,5\n"), (std::vector<int>{0, 1, 2, 3, 5}));
  EXPECT_EQ(ParseCpuList("0"), (std::vector<int>{0}));
  EXPECT_TRUE(ParseCpuList("").empty());
}

}  // namespace
}  // namespace hwcov::collector
