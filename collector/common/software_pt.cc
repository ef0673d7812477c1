#include "software_pt.h"

#include <time.h>

#include "code_filter.h"
#include "program_selection.h"

namespace hwcov::collector {
namespace {

constexpr uint32_t kSoftPmuType = 10;  // perf only requires attr.type == priv[0]
// pt | tsc | branch: branch tracing with return compression; TSC packets in
// each PSB+ order the trace against the timestamped sideband.
constexpr uint64_t kSoftPtConfig = 0x2401;
constexpr uint64_t kNoRetComp = 0x800;  // intel_pt's noretcomp: config:11
constexpr uint64_t kPsbPeriod = 4096;

}  // namespace

trace::PtEventParams SoftwarePtEventParams(const SoftwarePtOptions& options) {
  // AUXTRACE_INFO priv[] as perf's intel_pt_info_fill writes it. Time
  // conversion is the identity (time_mult 1, shift 0, zero 0,
  // cap_user_time_zero 1): TSC packets carry the sideband's clock.
  const uint64_t config = kSoftPtConfig | (options.no_return_compression ? kNoRetComp : 0);
  trace::PtEventParams params;
  params.pmu_type = kSoftPmuType;
  params.config = config;
  params.auxtrace_priv = {kSoftPmuType, 0,       1, 0, 1,   0x400, 0x800, 0, 0, 0,
                          0x200,        0x3c000, 0, 0, 0x2, 0,     0,     0};
  return params;
}

PtEncoding EncodingOf(const SoftwarePtOptions& options) {
  PtEncoding encoding;
  encoding.return_compression = !options.no_return_compression;
  encoding.long_tnt = !options.tnt8_only;
  return encoding;
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

bool InCodeFilter(const CommonOptions& options, const std::string& path) {
  if (options.trace_everything) return true;
  if (!options.only_paths.empty()) return MatchesAny(options.only_paths, path);
  // The project's binaries: its executables and its own shared libraries
  // (a libtool .libs/libfoo.so.0 included), not libc, ctest or the shell
  // running a test script; --only or --all-code trace system binaries.
  return !IsSystemPath(path);
}

std::unique_ptr<PtEncoder> StartThreadTrace(trace::TraceSink& writer, uint32_t queue, uint32_t pid,
                                            uint32_t tid, const SoftwarePtOptions& options,
                                            PtEncoder::Clock clock) {
  auto encoder = std::make_unique<PtEncoder>(
      [&writer, queue, tid, clock](std::span<const uint8_t> bytes) {
        writer.AddAux(queue, tid, bytes, clock());
      },
      options.psb_period ? options.psb_period : kPsbPeriod, clock, EncodingOf(options));
  writer.AddItraceStart(pid, tid, clock());
  return encoder;
}

}  // namespace hwcov::collector
