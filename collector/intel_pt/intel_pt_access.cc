#include "intel_pt_access.h"

#include <sys/resource.h>

#include <cerrno>
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
  return a;
}

std::string PrivilegeAdvice(bool mention_soft) {
  return std::string(
             "lower it with 'sudo sysctl kernel.perf_event_paranoid=2' or give hwcov "
             "CAP_PERFMON ('sudo setcap cap_perfmon=ep $(which hwcov)')") +
         (mention_soft ? ", or use --backend soft" : "");
}

std::string DescribeOpenDenied(const PerfAccess& access, int error, pid_t attach_pid) {
  const std::string err = std::string(" (") + std::strerror(error) + ")";
  if (attach_pid > 0 && !access.cap_sys_ptrace && !access.privileged())
    return "may not trace process " + std::to_string(attach_pid) + err +
           ": attaching needs the same user as the process (and kernel.yama.ptrace_scope "
           "permitting it) or CAP_PERFMON / CAP_SYS_PTRACE; run hwcov as that user or with sudo";
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
    << "' or 'ulimit -l', or run with CAP_IPC_LOCK";
  if (error == ENOMEM) s << " (ENOMEM can also mean the kernel found no contiguous pages)";
  return s.str();
}

}  // namespace hwcov::collector
