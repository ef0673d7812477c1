// The intel-pt backend against what real machines do that a plain kernel
// stand-in hides (issue 15): containers (overlayfs, seccomp, other mount
// namespaces), the locked-memory budget CAP_PERFMON does not lift, lld's
// segment layout, descriptor limits, threads that exit mid-attach, and the
// attr size older perf reads. The fake kernel models each the way the
// kernel function named in fake_kernel.h / fake_address_filters.h does, so
// every test here failed against the collector before the fix it covers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "fake_machine.h"
#include "hwcov/trace.h"
#include "intel_pt_access.h"
#include "intel_pt_attr.h"
#include "intel_pt_elf.h"
#include "intel_pt_filter.h"
#include "intel_pt_pmu.h"
#include "intel_pt_session.h"

namespace hwcov {
namespace {

using collector::RecordIntelPt;
using testing::FakeVma;

const fs::path kLoops = fs::path(HWCOV_TEST_PROGRAMS_DIR) / "loops";
const fs::path kLldLoops = HWCOV_LLD_LOOPS;
constexpr uint64_t kBase = 0x555555554000;  // where a PIE lands
constexpr uint64_t kCapIpcLock = uint64_t{1} << 14, kCapPerfmon = uint64_t{1} << 38;

// Whether every range the kernel bound for |fd| lies in an executable
// mapping of |mm| (none bound counts as not).
bool BoundToCode(const FakeKernel& kernel, int fd, const std::vector<FakeVma>& mm,
                 std::string* where) {
  const auto ranges = kernel.HardwareRanges(fd);
  if (ranges.empty()) return false;
  for (const auto& r : ranges) {
    if (!r) {
      *where = "bound to no mapping";
      return false;
    }
    bool in_code = false;
    for (const FakeVma& v : mm) in_code |= v.exec && r->start >= v.start && r->start < v.end;
    if (!in_code) {
      std::ostringstream s;
      s << "bound at 0x" << std::hex << r->start << ", outside the code";
      *where = s.str();
      return false;
    }
  }
  return true;
}

std::optional<FakeKernel::Event> PtEvent(const FakeKernel& kernel) {
  for (const auto& e : kernel.events())
    if (e.attr.type == 8) return e;
  return std::nullopt;
}

// A child that sleeps, to attach to.
struct Sleeper {
  Sleeper() {
    pid = fork();
    if (pid == 0) {
      execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
      _exit(127);
    }
    usleep(100 * 1000);  // let it exec
  }
  ~Sleeper() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  pid_t pid;
};

// --- the kernel model itself -------------------------------------------

TEST(KernelModel, FiltersBindByInodeAndFileOffset) {
  std::vector<testing::FakeFilter> f;
  const std::string real = fs::canonical(kLoops).string();
  ASSERT_EQ(testing::ParseKernelFilters(collector::BinaryFilterString({real}, 2, false).filter, &f),
            0);
  ASSERT_EQ(f.size(), 1u);
  std::vector<FakeVma> mm = testing::LoadElf(real, kBase);
  const auto bound = testing::ApplyAfterExec(f[0], mm);
  ASSERT_TRUE(bound);
  // GNU ld's layout: the code has pages of its own, and the range lands
  // exactly on the code's virtual addresses.
  const collector::ElfCode elf(real);
  EXPECT_EQ(bound->start - kBase, elf.exec_segments()[0].offset + 0x0)
      << "loops' code is mapped at its file offset (vaddr == offset for GNU ld PIEs)";
  // The same file seen through overlayfs: vm_file is the backing file.
  for (FakeVma& v : mm) v.inode = 987654321;
  EXPECT_FALSE(testing::ApplyAfterExec(f[0], mm));
  EXPECT_FALSE(testing::ApplyToRunningTask(f[0], mm));
  // perf_event_parse_addr_filter splits at spaces and commas.
  std::vector<testing::FakeFilter> g;
  EXPECT_EQ(testing::ParseKernelFilters("filter 0x10/0x20@/bin/true b", &g), -EINVAL);
  EXPECT_EQ(testing::ParseKernelFilters("filter 0x10/0x20@/no/such/file", &g), -ENOENT);
}

TEST(KernelModel, MlockBudgetAndItsExemptions) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  FakeKernel k;  // 516 KiB x 2 CPUs for the user, 64 KiB ulimit -l
  perf_event_attr a{};
  a.type = 8;
  const int fd = k.Open(a, 1, 0);
  int error = 0;
  void* big = k.Map(page * (1 + 512), PROT_READ | PROT_WRITE, fd, 0, &error);  // 2 MiB
  EXPECT_EQ(big, nullptr);
  EXPECT_EQ(error, EPERM);
  void* fits = k.Map(page * (1 + 256), PROT_READ | PROT_WRITE, fd, 0, &error);
  ASSERT_NE(fits, nullptr);  // 257 pages <= 258
  k.Unmap(fits, page * (1 + 256));
  EXPECT_EQ(*k.user_locked_pages, 0u);
  k.cap_ipc_lock = true;
  void* lifted = k.Map(page * (1 + 512), PROT_READ | PROT_WRITE, fd, 0, &error);
  EXPECT_NE(lifted, nullptr);
  EXPECT_GT(k.pinned_pages(), 0u);
  if (lifted) k.Unmap(lifted, page * (1 + 512));
}

// --- 1. containers: overlayfs -------------------------------------------

TEST(RealMachine, FilterOnOverlayfsFallsBackToAFullTraceWithAWarning) {
  FakeMachine machine("pt-real-overlay");
  const fs::path root = machine.dir.path() / "container";
  fs::create_directories(root);
  const fs::path prog = root / "loops";
  fs::copy_file(kLoops, prog);
  const std::string real = fs::canonical(prog).string();
  std::ofstream(machine.dir.path() / "proc/self/mountinfo")
      << "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      << "90 22 0:50 / " << fs::canonical(root).string()
      << " rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n";
  FakeKernel kernel;
  kernel.mm[0] = testing::LoadElf(real, kBase);
  for (FakeVma& v : kernel.mm[0]) v.inode = 987654321;  // the backing file's
  std::ostringstream log;
  collector::RecordOptions options = Options(machine.dir.path() / "hw.data", &log);
  options.trace_everything = false;
  options.only_paths = {prog.string()};
  RecordIntelPt(options, machine.Host(&kernel));
  const auto pt = PtEvent(kernel);
  ASSERT_TRUE(pt);
  // A filter here would bind to nothing: a trace without a single PGE.
  EXPECT_EQ(pt->filter, "") << "the kernel binds it to: "
                            << (kernel.HardwareRanges(pt->fd).empty() ||
                                        !kernel.HardwareRanges(pt->fd)[0]
                                    ? "nothing"
                                    : "a range");
  EXPECT_TRUE(Contains(log.str(), "is on overlayfs")) << log.str();
  EXPECT_TRUE(Contains(log.str(), "tracing all user-space code instead")) << log.str();
}

TEST(RealMachine, AttachingIntoAnotherMountNamespaceDoesNotFilterByPath) {
  Sleeper child;
  FakeMachine machine("pt-real-mntns");
  const fs::path ns = machine.dir.path() / "proc" / std::to_string(child.pid) / "ns";
  fs::create_directories(ns);
  fs::create_directories(machine.dir.path() / "proc/self/ns");
  fs::create_symlink("mnt:[4026532301]", ns / "mnt");
  fs::create_symlink("mnt:[4026531841]", machine.dir.path() / "proc/self/ns/mnt");
  FakeKernel kernel;
  std::ostringstream log;
  collector::RecordOptions options = Options(machine.dir.path() / "hw.data", &log);
  options.command.clear();
  options.attach_pid = child.pid;
  options.duration = 0.1;
  options.trace_everything = false;
  RecordIntelPt(options, machine.Host(&kernel));
  ASSERT_TRUE(PtEvent(kernel));
  EXPECT_EQ(PtEvent(kernel)->filter, "");
  EXPECT_TRUE(Contains(log.str(), "another mount namespace")) << log.str();
}

// --- 2. CAP_PERFMON and the mlock budget --------------------------------

TEST(RealMachine, CapPerfmonDefaultsFitTheLockedMemoryBudget) {
  FakeMachine machine("pt-real-perfmon", 2, kCapPerfmon);
  FakeKernel kernel;
  kernel.allow_cpu_wide = true;
  std::ostringstream log;
  collector::RecordOptions options = Options(machine.dir.path() / "hw.data", &log);
  options.buffer_size = 0;  // perf's privileged default: 4 MiB, which perf_mmap refuses here
  EXPECT_EQ(ErrorOf([&] { RecordIntelPt(options, machine.Host(&kernel)); }), "(no error)");
  EXPECT_TRUE(Contains(log.str(), "sized to the locked memory")) << log.str();
  EXPECT_TRUE(Contains(log.str(), "CAP_PERFMON does not")) << log.str();

  // With CAP_IPC_LOCK the budget is gone, and perf's 4 MiB it is.
  FakeMachine locked("pt-real-ipclock", 2, kCapPerfmon | kCapIpcLock);
  FakeKernel unlimited;
  unlimited.allow_cpu_wide = true;
  unlimited.cap_ipc_lock = true;
  std::vector<size_t> sizes;
  // The program runs until the fake kernel has been polled once (else the
  // reader thread may never poll before /bin/true is gone).
  RunWhileKernelWrites(options, unlimited, locked.dir.path());
  unlimited.on_script_done = [&, done = unlimited.on_script_done] {
    sizes = unlimited.aux_sizes();
    done();
  };
  RecordIntelPt(options, locked.Host(&unlimited));
  EXPECT_EQ(sizes, (std::vector<size_t>{4 << 20, 4 << 20}));
}

TEST(RealMachine, AccessReadsTheLimitsTheKernelApplies) {
  testing::TempDir dir("pt-real-limits");
  fs::create_directories(dir.path() / "self");
  std::ofstream(dir.path() / "self/status")
      << "Seccomp:\t2\nVmPin:\t       8 kB\nCapEff:\t0000004000000000\n";
  std::ofstream(dir.path() / "self/limits")
      << "Max locked memory         65536                65536                bytes\n";
  const collector::PerfAccess a = collector::ReadPerfAccess(dir.path());
  EXPECT_TRUE(a.cap_perfmon);
  EXPECT_FALSE(a.unlimited_lock()) << "CAP_PERFMON does not lift perf_mmap's limit";
  EXPECT_EQ(a.seccomp, 2);
  EXPECT_EQ(a.memlock_limit, 65536u);
  // 516 KiB x 2 CPUs = 258 pages, + (64 KiB - 8 KiB pinned) = 14 pages.
  EXPECT_EQ(a.LockBudgetPages(2, 4096), 258u + 14u);
}

// --- 7. a second recording of the same user ------------------------------

TEST(RealMachine, ConcurrentRecordingsShareTheBudgetAndShrink) {
  FakeMachine machine("pt-real-concurrent");
  FakeKernel kernel;
  *kernel.user_locked_pages = 258;  // another hwcov run holds the user's whole allowance
  std::ostringstream log;
  collector::RecordOptions options = Options(machine.dir.path() / "hw.data", &log);
  options.buffer_size = 0;
  std::vector<size_t> sizes;
  // The program runs until the fake kernel has been polled once (else the
  // reader thread may never poll before /bin/true is gone).
  RunWhileKernelWrites(options, kernel, machine.dir.path());
  kernel.on_script_done = [&, done = kernel.on_script_done] {
    sizes = kernel.aux_sizes();
    done();
  };
  EXPECT_EQ(ErrorOf([&] { RecordIntelPt(options, machine.Host(&kernel)); }), "(no error)");
  EXPECT_TRUE(Contains(log.str(), "halved them")) << log.str();
  ASSERT_EQ(sizes.size(), 2u);
  EXPECT_LT(sizes[0], size_t{128} << 10);
  EXPECT_EQ(kernel.live_mappings(), 0u);
  EXPECT_EQ(*kernel.user_locked_pages, 258u);  // ours handed back
  // A size the user chose is not changed behind their back.
  FakeKernel again;
  *again.user_locked_pages = 258;
  options.buffer_size = 128 << 10;
  EXPECT_TRUE(Contains(ErrorOf([&] { RecordIntelPt(options, machine.Host(&again)); }),
                       "refused to map the trace buffers"));
}

// --- 3. lld's layout -----------------------------------------------------

TEST(RealMachine, LldLayoutIsNeverFilteredIntoTheData) {
  const std::string real = fs::canonical(kLldLoops).string();
  const std::vector<FakeVma> mm = testing::LoadElf(real, kBase);
  // Launched (the last overlapping mmap wins) and attached (the first
  // mapping in address order wins).
  for (bool attach : {false, true}) {
    SCOPED_TRACE(attach ? "attached" : "launched");
    std::optional<Sleeper> child;
    if (attach) child.emplace();
    FakeMachine machine("pt-real-lld");
    FakeKernel kernel;
    kernel.mm[0] = mm;
    std::ostringstream log;
    collector::RecordOptions options = Options(machine.dir.path() / "hw.data", &log);
    options.trace_everything = false;
    options.only_paths = {real};
    if (attach) {
      options.command.clear();
      options.attach_pid = child->pid;
      options.duration = 0.1;
    }
    RecordIntelPt(options, machine.Host(&kernel));
    const auto pt = PtEvent(kernel);
    ASSERT_TRUE(pt);
    std::string where;
    if (!pt->filter.empty())
      EXPECT_TRUE(BoundToCode(kernel, pt->fd, mm, &where)) << pt->filter << ": " << where;
    else
      EXPECT_TRUE(Contains(log.str(), "lld's layout")) << log.str();
  }
  // GNU ld's layout keeps its filter, and it binds to the code both ways.
  const std::string gnu = fs::canonical(kLoops).string();
  for (bool attach : {false, true}) {
    const collector::BinaryFilter f = collector::BinaryFilterString({gnu}, 2, attach);
    ASSERT_FALSE(f.filter.empty()) << f.why_unfiltered;
    std::vector<testing::FakeFilter> parsed;
    ASSERT_EQ(testing::ParseKernelFilters(f.filter, &parsed), 0);
    const auto vmas = testing::LoadElf(gnu, kBase);
    const auto r = attach ? testing::ApplyToRunningTask(parsed[0], vmas)
                          : testing::ApplyAfterExec(parsed[0], vmas);
    ASSERT_TRUE(r);
    bool in_code = false;
    for (const FakeVma& v : vmas) in_code |= v.exec && r->start >= v.start && r->start < v.end;
    EXPECT_TRUE(in_code) << attach;
  }
}

// --- 4. EMFILE -------------------------------------------------------------

TEST(RealMachine, TooManyOpenFilesRaisesTheSoftLimitAndRetries) {
  FakeMachine machine("pt-real-emfile");
  FakeKernel kernel;
  kernel.nofile_cur = 3;  // 2 CPUs x (intel_pt + tracking) need 4
  kernel.nofile_max = 64;
  collector::RecordOptions options = Options(machine.dir.path() / "hw.data", nullptr);
  EXPECT_EQ(ErrorOf([&] { RecordIntelPt(options, machine.Host(&kernel)); }), "(no error)");
  EXPECT_EQ(kernel.nofile_cur, 64u);
  // At the hard limit already: the message says which limit to raise.
  FakeKernel capped;
  capped.nofile_cur = capped.nofile_max = 3;
  const std::string e = ErrorOf([&] { RecordIntelPt(options, machine.Host(&capped)); });
  EXPECT_TRUE(Contains(e, "hard limit")) << e;
  EXPECT_EQ(capped.open_fds(), 0u);
}

// --- 5. ESRCH for every event ------------------------------------------------

TEST(RealMachine, AThreadEndingBetweenItsTwoEventsIsSkipped) {
  for (bool per_cpu : {true, false}) {
    FakeKernel kernel;
    // 501 exits right after its intel_pt event opened: the tracking event
    // is the first to see it gone.
    kernel.on_open = [&kernel](const perf_event_attr& a, pid_t pid, int) {
      if (pid == 501 && a.type == 8) kernel.exited.insert(501);
      return 0;
    };
    {
      collector::PtSession session(kernel, AttachPlan(per_cpu), collector::PerfAccess{});
      EXPECT_EQ(session.traced_tids(), (std::vector<pid_t>{500, 502})) << per_cpu;
    }
    EXPECT_EQ(kernel.open_fds(), 0u);
  }
}

TEST(RealMachine, ALaunchedProgramThatIsGoneIsNamedByItsPid) {
  collector::SessionPlan plan = AttachPlan(true);
  plan.attach_pid = 0;  // launched
  plan.tids = {4242};
  FakeKernel kernel;
  kernel.exited.insert(4242);
  const std::string e =
      ErrorOf([&] { collector::PtSession(kernel, plan, collector::PerfAccess{}); });
  EXPECT_TRUE(Contains(e, "pid 4242")) << e;
  EXPECT_FALSE(Contains(e, "process 0")) << e;
}

// --- 6. messages, paths, attr sizes -----------------------------------------

TEST(RealMachine, MessagesNameTheActualCause) {
  collector::PerfAccess a;
  a.paranoid = 2;
  a.seccomp = 2;
  // EPERM: a seccomp profile (Docker's default answers EPERM); the
  // kernel's paranoid checks answer EACCES.
  const std::string eperm = collector::DescribeOpenDenied(a, EPERM, 0);
  EXPECT_TRUE(Contains(eperm, "seccomp")) << eperm;
  EXPECT_FALSE(Contains(eperm, "sysctl kernel.perf_event_paranoid=")) << eperm;
  EXPECT_TRUE(Contains(collector::DescribeOpenDenied(a, EACCES, 0), "perf_event_paranoid is 2"));
  // Attaching: ptrace_may_access in READ mode, which Yama does not restrict.
  const std::string attach = collector::DescribeOpenDenied(a, EACCES, 77);
  EXPECT_TRUE(Contains(attach, "process 77")) << attach;
  EXPECT_FALSE(Contains(attach, "yama")) << attach;
  // EBUSY: another PT/LBR/BTS user (x86_add_exclusive); firmware-enabled
  // PT leaves no PMU to open at all.
  FakeMachine machine("pt-real-ebusy");
  FakeKernel busy;
  busy.on_open = [](const perf_event_attr& e, pid_t, int) { return e.type == 8 ? -EBUSY : 0; };
  collector::RecordOptions options = Options(machine.dir.path() / "x.data", nullptr);
  const std::string e = ErrorOf([&] { RecordIntelPt(options, machine.Host(&busy)); });
  EXPECT_TRUE(Contains(e, "busy")) << e;
  EXPECT_FALSE(Contains(e, "firmware")) << e;
}

TEST(RealMachine, PathsTheKernelParserSplitsAreNotSentToIt) {
  FakeMachine machine("pt-real-space");
  const fs::path dir = machine.dir.path() / "my build, debug";
  fs::create_directories(dir);
  const fs::path prog = dir / "loops";
  fs::copy_file(kLoops, prog);
  FakeKernel kernel;
  std::ostringstream log;
  collector::RecordOptions options = Options(machine.dir.path() / "hw.data", &log);
  options.trace_everything = false;
  options.only_paths = {prog.string()};
  EXPECT_EQ(ErrorOf([&] { RecordIntelPt(options, machine.Host(&kernel)); }), "(no error)");
  ASSERT_TRUE(PtEvent(kernel));
  EXPECT_EQ(PtEvent(kernel)->filter, "");
  EXPECT_TRUE(Contains(log.str(), "space, comma or newline")) << log.str();
  // An explicit --filter on such a path is refused before the kernel sees
  // it (a space or comma already ends the file in perf's --filter syntax;
  // a newline does not).
  const fs::path newline = machine.dir.path() / "line\nbreak";
  fs::create_directories(newline);
  fs::copy_file(kLoops, newline / "loops");
  options.only_paths.clear();
  options.filters = {"filter main @ " + (newline / "loops").string()};
  FakeKernel explicit_kernel;
  const std::string e = ErrorOf([&] { RecordIntelPt(options, machine.Host(&explicit_kernel)); });
  EXPECT_TRUE(Contains(e, "symlink")) << e;
}

// perf before 5.13 refuses a perf.data whose attr is larger than its own
// struct (tools/perf/util/header.c read_attr: "sz > our_sz"); perf 4.14's
// is PERF_ATTR_SIZE_VER5, 112 bytes.
TEST(RealMachine, AttrsInTheFileAreOnesPerf414Reads) {
  FakeMachine machine("pt-real-attr");
  FakeKernel kernel;
  collector::RecordOptions options = Options(machine.dir.path() / "hw.data", nullptr);
  RecordIntelPt(options, machine.Host(&kernel));
  std::ifstream in(options.output, std::ios::binary);
  uint64_t header[3] = {};  // magic, header size, attr entry size
  in.read(reinterpret_cast<char*>(header), sizeof header);
  EXPECT_EQ(header[2], uint64_t{PERF_ATTR_SIZE_VER5} + 16);  // attr + its ids section
  const trace::Trace t = trace::ReadPerfData(options.output);
  EXPECT_EQ(t.attrs.size(), 2u);
}

}  // namespace
}  // namespace hwcov
