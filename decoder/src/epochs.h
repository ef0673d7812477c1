// Splits one queue's PT stream where the traced process's address space
// changed (dlopen, dlclose, exec...), so that each stretch is decoded with
// the image that was current when it ran.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "address_spaces.h"
#include "hwcov/trace.h"

namespace hwcov::decoder {

struct Epoch {
  uint64_t begin = 0;  // a PSB (or the stream start)
  // Bytes to decode: up to the next epoch's PSB, plus its PSB+ when that
  // carries a FUP, so the decoder walks exactly to the FUP's IP...
  uint64_t end = 0;
  // ...where it reports the PSB+'s status events: decoding stops at the
  // first event beyond this offset (the next epoch's PSB).
  uint64_t stop_offset = UINT64_MAX;
  std::vector<const trace::MmapEvent*> mmaps;
};

// The perf time of a TSC value (perf_event_mmap_page time conversion, kept in
// AUXTRACE_INFO), or nullopt when the trace is timeless.
std::optional<uint64_t> PerfTime(const trace::PtInfo& pt, uint64_t tsc);

// Epochs of |bytes|, the stream of a per-thread queue of process |pid|; a
// single epoch with every mapping when the trace has no usable time.
std::vector<Epoch> PlanEpochs(const trace::Trace& trace, const AddressSpaces& spaces,
                              std::optional<uint32_t> pid, std::span<const uint8_t> bytes);

}  // namespace hwcov::decoder
