// The Intel PT hardware backend (perf_event_open with the intel_pt PMU).
#include <filesystem>
#include <fstream>

#include "backend.h"
#include "hwcov/support.h"

namespace hwcov::collector {
namespace {

std::string CpuVendor() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("vendor_id", 0) == 0) {
      auto colon = line.find(':');
      return colon == std::string::npos ? "" : line.substr(colon + 2);
    }
  return "";
}

class IntelPtBackend : public TraceBackend {
 public:
  RecordResult Record(const RecordOptions&) override {
    throw Error("the intel-pt capture backend is not implemented in this build yet");
  }
};

}  // namespace

std::string IntelPtUnavailableReason() {
  const std::filesystem::path pmu = "/sys/bus/event_source/devices/intel_pt/type";
  if (!std::filesystem::exists(pmu)) {
    std::string vendor = CpuVendor();
    std::string what = vendor.empty() ? "this CPU" : "this CPU (" + vendor + ")";
    return "no intel_pt PMU on " + what + ": " + pmu.parent_path().string() + " does not exist";
  }
  return "the intel-pt capture backend is not implemented in this build yet";
}

std::unique_ptr<TraceBackend> MakeIntelPtBackend() { return std::make_unique<IntelPtBackend>(); }

}  // namespace hwcov::collector
