// Whether this process may open perf events and lock their buffers, and what
// to tell the user when it may not: kernel.perf_event_paranoid, the
// capabilities CAP_PERFMON / CAP_SYS_ADMIN / CAP_IPC_LOCK / CAP_SYS_PTRACE,
// kernel.perf_event_mlock_kb and RLIMIT_MEMLOCK.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace hwcov::collector {

struct PerfAccess {
  int paranoid = 2;            // /proc/sys/kernel/perf_event_paranoid
  uint64_t mlock_kb = 516;     // /proc/sys/kernel/perf_event_mlock_kb (per CPU)
  uint64_t memlock_limit = 0;  // RLIMIT_MEMLOCK soft limit in bytes (UINT64_MAX: unlimited)
  bool cap_perfmon = false;
  bool cap_sys_admin = false;
  bool cap_ipc_lock = false;
  bool cap_sys_ptrace = false;
  int seccomp = -1;        // /proc/self/status Seccomp: 0 none, 1 strict, 2 filter; -1 unknown
  uint64_t pinned_kb = 0;  // /proc/self/status VmPin: (the mm's pinned_vm)

  // perf's perf_event_paranoid_check(-1): what "privileged" means to perf
  // record (4 MiB default AUX buffers, CPU-wide context-switch events).
  bool privileged() const { return cap_perfmon || cap_sys_admin || paranoid < 0; }
  // Kernels carrying Debian's/Ubuntu's/Android's perf_event_paranoid=3
  // patch refuse every perf event to unprivileged users; mainline treats 3
  // as 2, so this is a likelihood the open itself settles.
  bool likely_denied() const { return paranoid > 2 && !privileged(); }
  // perf_mmap lifts the locked-memory limit for CAP_IPC_LOCK or paranoid
  // -1 only (kernel/events/core.c: perf_is_paranoid() && !capable(CAP_IPC_LOCK));
  // CAP_PERFMON and CAP_SYS_ADMIN alone do not.
  bool unlimited_lock() const { return cap_ipc_lock || paranoid < 0; }
  // The pages perf buffers may lock: perf_event_mlock_kb x |online_cpus|
  // for the user, then RLIMIT_MEMLOCK less what the process has pinned.
  // UINT64_MAX when unlimited.
  uint64_t LockBudgetPages(size_t online_cpus, uint64_t page_size) const;
};

// Reads paranoid and mlock_kb under |proc| (proc/sys/kernel/...), the
// effective capabilities, seccomp mode and pinned memory from
// |proc|/self/status and RLIMIT_MEMLOCK from |proc|/self/limits (else
// getrlimit).
PerfAccess ReadPerfAccess(const std::filesystem::path& proc = "/proc");

// What lowers the barrier: the sysctl and the capability, in one clause;
// with |mention_soft|, the soft backend as the way around it.
std::string PrivilegeAdvice(bool mention_soft = true);

// One-line explanations of the usual failures, each with what to do.
std::string DescribeOpenDenied(const PerfAccess& access, int error, pid_t attach_pid);
std::string DescribeMmapFailure(const PerfAccess& access, int error, uint64_t bytes_per_ring,
                                size_t rings, uint64_t aux_bytes);

}  // namespace hwcov::collector
