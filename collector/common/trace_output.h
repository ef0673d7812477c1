// Where a recording's trace goes: RecordOptions::output (a perf.data file),
// RecordOptions::live (the decoder, decoding while recording), or both,
// through one sink. Begun with the software backends' event, or with the
// events a hardware recording opened.
#pragma once

#include <memory>

#include "hwcov/collector.h"
#include "hwcov/trace.h"

namespace hwcov::collector {

class TraceOutput {
 public:
  explicit TraceOutput(const RecordOptions& options);
  TraceOutput(const RecordOptions& options, const trace::PtEventParams& params);
  trace::TraceSink& sink() { return tee_; }
  uint64_t aux_bytes() const { return tee_.aux_bytes(); }

 private:
  std::unique_ptr<trace::PerfDataWriter> file_;  // none without an output path
  trace::TraceTee tee_;
};

}  // namespace hwcov::collector
