// The seam between the CLI-facing Record() and the trace sources.
#pragma once

#include <memory>

#include "hwcov/collector.h"

namespace hwcov::collector {

class TraceBackend {
 public:
  virtual ~TraceBackend() = default;
  virtual RecordResult Record(const RecordOptions& options) = 0;
};

std::unique_ptr<TraceBackend> MakeSoftBackend();

// Why Intel PT cannot be used on this machine, or empty when it can.
std::string IntelPtUnavailableReason();

}  // namespace hwcov::collector
