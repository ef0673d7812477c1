// Data-loss accounting per CPU (per-CPU buffers) or per thread (per-thread
// buffers), from what the kernel reports in the data ring:
//   PERF_RECORD_AUX flags  TRUNCATED  the AUX area was full: trace stopped
//                                     until hwcov freed space (data lost)
//                          PARTIAL    the record has gaps (e.g. VMX root)
//                          COLLISION  a sample collided with another
//   PERF_RECORD_LOST                  sideband records dropped (data ring full)
// The records themselves go into perf.data, where the decoder turns them
// into lost-data gaps that `hwcov report` counts; this is the recording's
// own summary of them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "intel_pt_sideband.h"

namespace hwcov::collector {

struct LossCounts {
  uint64_t aux_records = 0;
  uint64_t aux_bytes = 0;  // what the kernel reports written
  uint64_t truncated = 0;
  uint64_t partial = 0;
  uint64_t collision = 0;
  uint64_t lost_records = 0;
  bool any() const { return truncated || partial || collision || lost_records; }
};

class LossAccount {
 public:
  explicit LossAccount(bool per_cpu) : per_cpu_(per_cpu) {}
  void Add(const SidebandRecord& record);
  // Keyed "cpu N" or "tid N".
  const std::map<std::string, LossCounts>& by_buffer() const { return counts_; }
  LossCounts Total() const;
  // One line per buffer that lost data, with what to do about it.
  std::vector<std::string> Summary(uint64_t aux_bytes_per_buffer) const;

 private:
  bool per_cpu_;
  std::map<std::string, LossCounts> counts_;
};

}  // namespace hwcov::collector
