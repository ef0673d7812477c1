// What perf record adds to a recording for the binaries it maps, given to
// the trace sink as soon as their MMAP2 is read, before the PT that runs in
// them: the build id of each file mapped executable (perf's BUILD_ID table:
// the decoder checks, and finds in a build-id cache, what ran) and the
// [vdso] bytes, which no file holds. A decoder reading the trace while it is
// recorded then builds the images a reader of the finished file builds.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "hwcov/trace.h"
#include "intel_pt_sideband.h"

namespace hwcov::collector {

class MappedBinaries {
 public:
  // |mmap| is a PROT_EXEC MMAP2.
  void Add(const SidebandRecord& mmap, trace::TraceSink& sink);

 private:
  std::set<std::string> files_;  // whose build id was given
  std::vector<uint8_t> vdso_;
  bool vdso_read_ = false;
};

}  // namespace hwcov::collector
