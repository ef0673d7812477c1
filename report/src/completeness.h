// The line every report states about how much of the run it saw: the share
// of the trace decoded cleanly, or, for a profile counted in QEMU without a
// trace (the emu backend's counting mode), that it was counted.
#pragma once

#include <cstdint>
#include <string>

#include "hwcov/mapper.h"

namespace hwcov::report {

uint64_t GapCount(const mapper::TraceQuality& q);
// "Trace: 99.50% of 1234 PT bytes decoded cleanly, 567 instructions, 1 gaps"
std::string CompletenessLine(const mapper::TraceQuality& q);

}  // namespace hwcov::report
