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

std::unique_ptr<TraceBackend> MakeSoftBackend();     // soft_backend.cc
std::unique_ptr<TraceBackend> MakeIntelPtBackend();  // intel_pt_backend.cc
std::unique_ptr<TraceBackend> MakeEmuBackend();      // emu_backend.cc

// Why a backend cannot be used on this machine, or empty when it can.
std::string IntelPtUnavailableReason();  // intel_pt_backend.cc
std::string EmuUnavailableReason();      // emu_backend.cc

}  // namespace hwcov::collector
