// Turns what the QEMU plugin recorded into the trace the other backends
// write: per-thread Intel PT from PtEncoder (TNT, TIP, return compression,
// TIP.PGE/PGD at the filter's edges, FUP at signals and faults) and COMM,
// FORK, MMAP2, ITRACE_START and EXIT sideband, so that the decoder, the
// mapper and perf cannot tell an emulated run from a single-stepped one.
#pragma once

#include <vector>

#include "emu_stream.h"
#include "hwcov/collector.h"
#include "hwcov/trace.h"

namespace hwcov::collector {

// Writes |instances| (ReadEmuRecording) into |writer|; the caller finishes
// it. Returns the instructions, threads and processes traced.
RecordStats ConvertEmuRecording(const std::vector<EmuInstance>& instances,
                                const RecordOptions& options, trace::PerfDataWriter& writer);

}  // namespace hwcov::collector
