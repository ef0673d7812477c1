#include <chrono>
#include <ostream>
#include <vector>

#include "backend.h"
#include "hwcov/process.h"
#include "hwcov/support.h"

namespace hwcov::collector {

Backend ParseBackend(const std::string& name) {
  if (name == "auto") return Backend::kAuto;
  if (name == "intel-pt") return Backend::kIntelPt;
  if (name == "emu") return Backend::kEmu;
  if (name == "soft") return Backend::kSoft;
  throw Error("unknown backend '" + name + "' (expected auto, intel-pt, emu or soft)");
}

std::string BackendName(Backend backend) {
  switch (backend) {
    case Backend::kAuto:
      return "auto";
    case Backend::kIntelPt:
      return "intel-pt";
    case Backend::kEmu:
      return "emu";
    case Backend::kSoft:
      return "soft";
  }
  return "?";
}

BackendChoice ChooseBackend(Backend requested) {
  switch (requested) {
    case Backend::kIntelPt:
      if (std::string why = IntelPtUnavailableReason(); !why.empty())
        throw Error("--backend intel-pt: " + why + "; use --backend soft");
      return {Backend::kIntelPt, "requested"};
    case Backend::kEmu:
      if (std::string why = EmuUnavailableReason(); !why.empty())
        throw Error("--backend emu: " + why + "; use --backend soft");
      return {Backend::kEmu, "requested"};
    case Backend::kSoft:
      return {Backend::kSoft, "requested"};
    case Backend::kAuto:
      break;
  }
  const std::string pt_reason = IntelPtUnavailableReason();
  if (pt_reason.empty()) return {Backend::kIntelPt, "intel_pt PMU found"};
  const std::string emu_reason = EmuUnavailableReason();
  if (emu_reason.empty())
    return {Backend::kEmu, pt_reason +
                               ": using the emulator (QEMU user mode), about 15x "
                               "slower than native on CPU-bound code"};
  return {Backend::kSoft, pt_reason + "; " + emu_reason +
                              ": using the soft tracer, which single-steps the program and is "
                              "about 10^4-10^5 times slower than native"};
}

namespace {

// Wall time of |command| run untraced, with its output discarded.
double MeasureBaseline(const std::vector<std::string>& command) {
  const auto start = std::chrono::steady_clock::now();
  try {
    ChildProcess(command, SpawnOptions{.quiet = true}).Wait();
  } catch (const Error&) {  // the traced run says why it cannot run
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

RecordResult Record(const RecordOptions& options) {
  if (options.command.empty() && options.attach_pid == 0) throw Error("no command to record");
  BackendChoice choice = ChooseBackend(options.backend);
  if (options.log && options.backend == Backend::kAuto)
    *options.log << "hwcov: backend " << BackendName(choice.backend) << ": " << choice.reason
                 << "\n";
  std::unique_ptr<TraceBackend> backend;
  switch (choice.backend) {
    case Backend::kIntelPt:
      backend = MakeIntelPtBackend();
      break;
    case Backend::kEmu:
      backend = MakeEmuBackend();
      break;
    default:
      backend = MakeSoftBackend();
      break;
  }
  const double baseline =
      options.measure_baseline && !options.command.empty() ? MeasureBaseline(options.command) : 0;
  RecordResult result = backend->Record(options);
  result.backend = choice.backend;
  result.stats.baseline_seconds = baseline;
  return result;
}

}  // namespace hwcov::collector
