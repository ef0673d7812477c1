#include "intel_pt_sys.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace hwcov::collector {
namespace {

class KernelPerfEventSys : public PerfEventSys {
 public:
  int Open(const perf_event_attr& attr, pid_t pid, int cpu) override {
    long fd = syscall(SYS_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : static_cast<int>(fd);
  }
  int Ioctl(int fd, unsigned long request, uintptr_t arg) override {
    int r = ioctl(fd, request, arg);
    return r < 0 ? -errno : r;
  }
  void* Map(size_t length, int prot, int fd, off_t offset, int* error) override {
    void* p = mmap(nullptr, length, prot, MAP_SHARED, fd, offset);
    if (p != MAP_FAILED) return p;
    *error = errno;
    return nullptr;
  }
  void Unmap(void* address, size_t length) override { munmap(address, length); }
  void Close(int fd) override { close(fd); }
  void Poll(std::span<const int> fds, int timeout_ms) override {
    std::vector<pollfd> p;
    for (int fd : fds) p.push_back({fd, POLLIN, 0});
    poll(p.data(), p.size(), timeout_ms);  // EINTR or a timeout: the caller drains anyway
  }
  int RaiseFileLimit() override {
    rlimit l{};
    if (getrlimit(RLIMIT_NOFILE, &l) != 0) return -errno;
    if (l.rlim_cur == l.rlim_max) return -EPERM;
    l.rlim_cur = l.rlim_max;
    return setrlimit(RLIMIT_NOFILE, &l) == 0 ? 0 : -errno;
  }
};

}  // namespace

std::unique_ptr<PerfEventSys> MakeKernelPerfEventSys() {
  return std::make_unique<KernelPerfEventSys>();
}

}  // namespace hwcov::collector
