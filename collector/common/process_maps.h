// A traced process's executable mappings, as perf's MMAP2 sideband describes
// them, read from /proc/PID/maps.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "hwcov/trace.h"

namespace hwcov::collector {

struct ExecMapping {
  uint64_t start = 0, end = 0, pgoff = 0;
  std::string path;  // file path, or "[vdso]"
  bool executable = false;
  bool anonymous() const { return path.empty() || path[0] == '['; }
  auto key() const { return std::make_tuple(start, end, pgoff, path); }
};

// The file-backed and [vdso] mappings of |pid|, executable or not.
std::vector<ExecMapping> ReadAllMappings(pid_t pid);

// The MMAP2 event for |mapping| (prot r-x, build id read from the file).
trace::MmapEvent ToMmapEvent(pid_t pid, const ExecMapping& mapping);

// Copies |len| bytes at |addr| out of |pid|; returns fewer at unreadable ends.
size_t ReadTraceeMemory(pid_t pid, uint64_t addr, std::span<uint8_t> out);

}  // namespace hwcov::collector
