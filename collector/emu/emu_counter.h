// Counting mode (docs/emu-backend.md): what the plugin counted in a finished
// recording (per-TB entries and successors, emu_format.h) becomes an
// execution profile directly, with no trace in between. Where the counts
// cannot tell how a TB ended (left early, a signal delivered after it, the
// thread's last TB), its events decide with the trace converter's rules
// (emu_converter.cc), so that both modes give the same coverage.
#pragma once

#include "emu_stream.h"
#include "hwcov/collector.h"
#include "hwcov/profile.h"

namespace hwcov::collector {

// |stats| gets the instructions, threads and processes counted.
profile::ExecutionProfile CountEmuRecording(EmuRecording& recording, const RecordOptions& options,
                                            RecordStats& stats);

}  // namespace hwcov::collector
