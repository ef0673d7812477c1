// What the two software trace sources, the soft tracer and the emulator,
// write the same way: the intel_pt event they claim to come from, their
// clock, which code the filter takes in, and how an observed instruction
// becomes packets at the filter's edges.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "hwcov/collector.h"
#include "hwcov/trace.h"
#include "pt_encoder.h"

namespace hwcov::collector {

// The intel_pt attr and AUXTRACE_INFO of a software trace: branch tracing
// with return compression unless options.no_return_compression (then the
// config has noretcomp, as perf would record it), TSC packets in the
// sideband's clock (CLOCK_MONOTONIC, identity time conversion). See
// docs/soft-tracer.md.
trace::PtEventParams SoftwarePtEventParams(const SoftwarePtOptions& options);

// The packet choices of options (no_return_compression, tnt8_only).
PtEncoding EncodingOf(const SoftwarePtOptions& options);

// CLOCK_MONOTONIC in nanoseconds: the time of sideband records and TSC packets.
uint64_t NowNs();

// Whether code in the binary at |path| is traced: --all-code, --only globs,
// or by default every binary outside the system directories
// (program_selection.h: IsSystemPath), whichever program loaded it.
bool InCodeFilter(const CommonOptions& options, const std::string& path);

// A thread's encoder writing its own AUX queue (perf's per-thread mode),
// announced by ITRACE_START. |clock| gives the time of its TSC packets and
// of the AUX records; options.psb_period (0: 4 KiB) and EncodingOf(options)
// how it encodes.
std::unique_ptr<PtEncoder> StartThreadTrace(trace::TraceSink& writer, uint32_t queue,
                                            uint32_t pid, uint32_t tid,
                                            const SoftwarePtOptions& options,
                                            PtEncoder::Clock clock);

// The instruction at |ip|, inside the filter, ran and control went to
// |next|: packets as an address filter makes them (TIP.PGD when |next| is
// outside; far transfers leave user tracing through their own TIP.PGD).
inline void EncodeInFilter(PtEncoder& encoder, uint64_t ip, const InsnInfo& insn, uint64_t next,
                           bool next_in_filter) {
  if (insn.kind == InsnKind::kFarTransfer || next_in_filter)
    encoder.Executed(ip, insn, next);
  else
    encoder.Left(ip, insn, next);
}

}  // namespace hwcov::collector
