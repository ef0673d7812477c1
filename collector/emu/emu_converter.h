// Turns what the QEMU plugin recorded into the trace the other backends
// write: per-thread Intel PT from PtEncoder (TNT, TIP, return compression,
// TIP.PGE/PGD at the filter's edges, FUP at signals and faults) and COMM,
// FORK, MMAP2, ITRACE_START and EXIT sideband, so that the decoder, the
// mapper and perf cannot tell an emulated run from a single-stepped one.
#pragma once

#include <functional>

#include "emu_stream.h"
#include "hwcov/collector.h"
#include "hwcov/trace.h"

namespace hwcov::collector {

// Writes |recording| into |writer| while the programs run, each thread's
// stream as it is written, until |finished| (the run is over) and every
// stream is done; the caller finishes the writer. Returns the
// instructions, threads and processes traced.
RecordStats ConvertEmuRecording(EmuRecording& recording, const RecordOptions& options,
                                trace::TraceSink& writer, std::function<bool()> finished);

}  // namespace hwcov::collector
