#include <fstream>
#include <ostream>
#include <sstream>

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

}  // namespace

Backend ParseBackend(const std::string& name) {
  if (name == "auto") return Backend::kAuto;
  if (name == "intel-pt") return Backend::kIntelPt;
  if (name == "soft") return Backend::kSoft;
  throw Error("unknown backend '" + name + "' (expected auto, intel-pt or soft)");
}

std::string BackendName(Backend backend) {
  switch (backend) {
    case Backend::kAuto:
      return "auto";
    case Backend::kIntelPt:
      return "intel-pt";
    case Backend::kSoft:
      return "soft";
  }
  return "?";
}

std::string IntelPtUnavailableReason() {
  const std::filesystem::path pmu = "/sys/bus/event_source/devices/intel_pt/type";
  if (!std::filesystem::exists(pmu)) {
    std::string vendor = CpuVendor();
    std::string what = vendor.empty() ? "this CPU" : "this CPU (" + vendor + ")";
    return "no intel_pt PMU on " + what + ": " + pmu.parent_path().string() + " does not exist";
  }
  return "the intel-pt capture backend is not implemented in this build yet";
}

BackendChoice ChooseBackend(Backend requested) {
  const std::string pt_reason = IntelPtUnavailableReason();
  switch (requested) {
    case Backend::kIntelPt:
      if (!pt_reason.empty())
        throw Error("--backend intel-pt: " + pt_reason + "; use --backend soft");
      return {Backend::kIntelPt, "requested"};
    case Backend::kSoft:
      return {Backend::kSoft, "requested"};
    case Backend::kAuto:
      break;
  }
  if (pt_reason.empty()) return {Backend::kIntelPt, "intel_pt PMU found"};
  return {Backend::kSoft, pt_reason +
                              ": using the soft tracer, which single-steps the program and is "
                              "about 10^4-10^5 times slower than native"};
}

RecordResult Record(const RecordOptions& options) {
  if (options.command.empty()) throw Error("no command to record");
  BackendChoice choice = ChooseBackend(options.backend);
  if (options.log && options.backend == Backend::kAuto)
    *options.log << "hwcov: backend " << BackendName(choice.backend) << ": " << choice.reason
                 << "\n";
  std::unique_ptr<TraceBackend> backend = MakeSoftBackend();
  RecordResult result = backend->Record(options);
  result.backend = choice.backend;
  return result;
}

}  // namespace hwcov::collector
