// The Intel PT hardware backend: perf_event_open with the intel_pt PMU.
// The work is in intel_pt_recorder.cc; this is the TraceBackend seam.
#include "backend.h"
#include "intel_pt_recorder.h"

namespace hwcov::collector {
namespace {

class IntelPtBackend : public TraceBackend {
 public:
  RecordResult Record(const RecordOptions& options) override {
    return RecordIntelPt(options, IntelPtHost{});
  }
};

}  // namespace

std::string IntelPtUnavailableReason() { return IntelPtUnavailable(IntelPtHost{}); }

std::unique_ptr<TraceBackend> MakeIntelPtBackend() { return std::make_unique<IntelPtBackend>(); }

}  // namespace hwcov::collector
