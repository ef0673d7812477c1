// The coverage-specialised decoder: PT packets, parsed inline, walked over a
// map of basic blocks built from the code (block_map.h), a whole TNT packet
// at a time through the step cache (step_cache.h), counting blocks and
// conditional-branch outcomes. It produces exactly what libipt's block
// decoder produces for the same stretch (RuntimeCounts, LoopResult), or
// declines: anything outside the common flow (overflow, TSX, packets it does
// not model, inconsistent or undecodable trace, code with no image) makes it
// give the stretch back, untouched, to libipt's decoder, which then finds and
// reports the gap exactly as before.
#pragma once

#include <intel-pt.h>

#include <cstdint>

#include "block_counts.h"
#include "block_map.h"
#include "decode_loop.h"
#include "step_cache.h"

namespace hwcov::decoder {

// Decodes the stretch of |config| (bounded at |stop_offset|, relative to
// config.begin, like RunDecodeLoop) into |counts| and |result|. Returns false,
// with |counts| and |result| unchanged, when it declines the stretch. |steps|
// is the worker's step cache (disabled: the walk goes bit by bit).
bool FastDecodeStretch(const pt_config& config, BlockMap& blocks, StepCache& steps,
                       uint64_t stop_offset, RuntimeCounts& counts, LoopResult& result);

}  // namespace hwcov::decoder
