#include "intel_pt_access.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

// Capability numbers from linux/capability.h.
constexpr int kCapIpcLock = 14;
constexpr int kCapSysPtrace = 19;
constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;

std::optional<long long> ReadNumber(const fs::path& path) {
  std::ifstream in(path);
  long long v = 0;
  if (in >> v) return v;
  return std::nullopt;
}

std::string Kib(uint64_t bytes) {
  if (bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes >> 10) + " KiB";
}

}  // namespace

PerfAccess ReadPerfAccess(const fs::path& proc) {
  PerfAccess a;
  a.paranoid = static_cast<int>(ReadNumber(proc / "sys/kernel/perf_event_paranoid").value_or(2));
  a.mlock_kb =
      static_cast<uint64_t>(ReadNumber(proc / "sys/kernel/perf_event_mlock_kb").value_or(516));
  std::ifstream status(proc / "self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Seccomp:", 0) == 0) a.seccomp = std::atoi(line.c_str() + 8);
    if (line.rfind("VmPin:", 0) == 0) a.pinned_kb = std::strtoull(line.c_str() + 6, nullptr, 10);
    if (line.rfind("CapEff:", 0) != 0) continue;
    uint64_t caps = std::stoull(line.substr(7), nullptr, 16);
    a.cap_ipc_lock = caps >> kCapIpcLock & 1;
    a.cap_sys_ptrace = caps >> kCapSysPtrace & 1;
    a.cap_sys_admin = caps >> kCapSysAdmin & 1;
    a.cap_perfmon = caps >> kCapPerfmon & 1;
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_MEMLOCK, &limit) == 0)
    a.memlock_limit = limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : limit.rlim_cur;
  // "Max locked memory         8388608              8388608              bytes"
  std::ifstream limits(proc / "self/limits");
  while (std::getline(limits, line)) {
    if (line.rfind("Max locked memory", 0) != 0) continue;
    std::istringstream fields(line.substr(17));
    std::string soft;
    if (fields >> soft)
      a.memlock_limit = soft == "unlimited" ? UINT64_MAX : std::strtoull(soft.c_str(), nullptr, 10);
  }
  return a;
}

uint64_t PerfAccess::LockBudgetPages(size_t online_cpus, uint64_t page_size) const {
  if (unlimited_lock() || memlock_limit == UINT64_MAX) return UINT64_MAX;
  const uint64_t user = mlock_kb * 1024 / page_size * online_cpus;
  const uint64_t rlimit = memlock_limit / page_size;
  const uint64_t pinned = pinned_kb * 1024 / page_size;
  return user + (rlimit > pinned ? rlimit - pinned : 0);
}

std::string PrivilegeAdvice(bool mention_soft) {
  return std::string(
             "lower it with 'sudo sysctl kernel.perf_event_paranoid=2' or give hwcov "
             "CAP_PERFMON ('sudo setcap cap_perfmon=ep $(which hwcov)')") +
         (mention_soft ? ", or use --backend soft" : "");
}

std::string DescribeOpenDenied(const PerfAccess& access, int error, pid_t attach_pid) {
  const std::string err = std::string(" (") + std::strerror(error) + ")";
  if (error == EPERM)
    // The kernel's own refusals are EACCES (perf_allow_kernel/_cpu, the
    // paranoid=3 patch, ptrace_may_access); EPERM comes from a seccomp
    // filter (Docker's default profile answers EPERM) or a security module.
    return std::string("perf_event_open was refused with EPERM") +
           (access.seccomp == 2 ? ", and hwcov runs under a seccomp filter (Seccomp: 2 in "
                                  "/proc/self/status)"
                                : "") +
           ": that is a seccomp profile or security module, not kernel.perf_event_paranoid; "
           "in a container allow perf_event_open (docker run --cap-add PERFMON, or "
           "--security-opt seccomp=unconfined; see docs/howto_capture.md)";
  if (attach_pid > 0 && !access.cap_sys_ptrace)
    // perf_check_permission: ptrace_may_access(PTRACE_MODE_READ_REALCREDS),
    // which Yama's ptrace_scope (ATTACH mode only) does not restrict.
    return "may not trace process " + std::to_string(attach_pid) + err +
           ": attaching needs the same user as the process (and the process dumpable) or "
           "CAP_SYS_PTRACE; run hwcov as that user or with sudo";
  return "perf_event_open was denied" + err + ": kernel.perf_event_paranoid is " +
         std::to_string(access.paranoid) +
         (access.paranoid > 2 ? " (this kernel forbids perf events to "
                                "unprivileged users); "
                              : "; ") +
         PrivilegeAdvice();
}

std::string DescribeMmapFailure(const PerfAccess& access, int error, uint64_t bytes_per_ring,
                                size_t rings, uint64_t aux_bytes) {
  std::ostringstream s;
  s << "the kernel refused to map the trace buffers (" << std::strerror(error) << "): " << rings
    << " buffer(s) of " << Kib(bytes_per_ring) << " exceed what this user may lock ("
    << "kernel.perf_event_mlock_kb = " << access.mlock_kb << " KiB per CPU, then ulimit -l = "
    << (access.memlock_limit == UINT64_MAX ? std::string("unlimited") : Kib(access.memlock_limit))
    << "); use a smaller --buffer-size (now " << Kib(aux_bytes) << ", e.g. 128K), or raise "
    << "'sudo sysctl kernel.perf_event_mlock_kb=" << (bytes_per_ring >> 10) + 4
    << "' or 'ulimit -l', or run with CAP_IPC_LOCK (CAP_PERFMON alone does not lift it)";
  if (error == ENOMEM) s << " (ENOMEM can also mean the kernel found no contiguous pages)";
  return s.str();
}

}  // namespace hwcov::collector
