// The address space of a traced process at a point in time, from the
// sideband: MMAP/MMAP2 records add code, an exec (COMM with the exec flag)
// starts afresh, and a forked child starts with its parent's mappings at the
// moment of the fork (perf's thread model).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "hwcov/trace.h"

namespace hwcov::decoder {

class AddressSpaces {
 public:
  explicit AddressSpaces(const trace::Trace& trace);

  // Executable mappings of |pid| at perf time |time|, oldest first (a later
  // overlapping mapping replaces an earlier one).
  std::vector<const trace::MmapEvent*> At(uint32_t pid, uint64_t time) const;

  // Every executable mapping of every process: for traces that cannot be
  // attributed to one process (per-CPU queues without switch handling).
  std::vector<const trace::MmapEvent*> All() const;

  // The process a per-thread queue's thread belonged to.
  uint32_t PidOfThread(uint32_t tid) const;

 private:
  std::vector<const trace::MmapEvent*> At(uint32_t pid, uint64_t time, int depth) const;

  const trace::Trace& trace_;
  std::map<uint32_t, std::vector<const trace::MmapEvent*>> mmaps_;  // by pid, by time
  std::map<uint32_t, std::vector<uint64_t>> execs_;                 // by pid
  std::map<uint32_t, std::pair<uint32_t, uint64_t>> forked_from_;   // child -> (parent, time)
};

}  // namespace hwcov::decoder
