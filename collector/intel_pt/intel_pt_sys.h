// The kernel calls a hardware recording makes, behind one interface so that
// tests can stand in for a kernel with Intel PT (this project's CI has none).
// Every call returns a negative errno on failure, never throws.
#pragma once

#include <linux/perf_event.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace hwcov::collector {

class PerfEventSys {
 public:
  virtual ~PerfEventSys() = default;
  // perf_event_open(2) with PERF_FLAG_FD_CLOEXEC: an fd or -errno.
  virtual int Open(const perf_event_attr& attr, pid_t pid, int cpu) = 0;
  // ioctl(2): PERF_EVENT_IOC_{ENABLE,DISABLE,SET_OUTPUT,SET_FILTER,ID}. >= 0 or -errno.
  virtual int Ioctl(int fd, unsigned long request, uintptr_t arg) = 0;
  // mmap(2) MAP_SHARED of an event fd: the mapping, or nullptr with *error set.
  virtual void* Map(size_t length, int prot, int fd, off_t offset, int* error) = 0;
  virtual void Unmap(void* address, size_t length) = 0;
  virtual void Close(int fd) = 0;
  // Waits up to |timeout_ms| for any of |fds| to be readable (ring
  // watermarks); returns early, never fails.
  virtual void Poll(std::span<const int> fds, int timeout_ms) = 0;
  // setrlimit(RLIMIT_NOFILE): the soft limit up to the hard one, as perf
  // does after EMFILE (tools/perf/util/evsel.c evsel__increase_rlimit).
  // 0, or -errno when it is already there or may not be raised.
  virtual int RaiseFileLimit() = 0;
};

std::unique_ptr<PerfEventSys> MakeKernelPerfEventSys();

}  // namespace hwcov::collector
