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
#include "sync_points.h"

namespace hwcov::decoder {

// A stretch of a stream that one decoder decodes on its own.
struct Stretch {
  uint64_t begin = 0;  // a PSB (or the stream start)
  // Bytes to decode: up to the next stretch's PSB, plus its PSB+ when that
  // carries a FUP, so the decoder walks exactly to the FUP's IP...
  uint64_t end = 0;
  // ...where it reports the PSB+'s status events: decoding stops at the
  // first event beyond this offset (the next stretch's PSB).
  uint64_t stop_offset = UINT64_MAX;
  // Tracing was on at |begin| (its PSB+ has a FUP): execution continues here
  // from where the previous stretch stopped.
  bool continues = false;
};

struct Epoch : Stretch {
  std::vector<const trace::MmapEvent*> mmaps;
};

// The perf time of a TSC value (perf_event_mmap_page time conversion, kept in
// AUXTRACE_INFO), or nullopt when the trace is timeless.
std::optional<uint64_t> PerfTime(const trace::PtInfo& pt, uint64_t tsc);

// Epochs of bytes [begin, size) of a per-thread queue's stream with sync
// points |syncs|, traced in process |pid|; a single epoch with every mapping
// when the process is unknown or the trace has no usable time. |initial|:
// the mappings of the epoch |begin| is in, when the stream is planned a
// range at a time (StreamDecoder); else the first timed sync point's.
std::vector<Epoch> PlanEpochs(const trace::Trace& trace, const AddressSpaces& spaces,
                              std::optional<uint32_t> pid, uint64_t begin, uint64_t size,
                              const std::vector<SyncPoint>& syncs,
                              const std::vector<const trace::MmapEvent*>* initial = nullptr);

// Ends |previous| at |sync|, where the next stretch begins.
void EndAt(Stretch& previous, const SyncPoint& sync);

// Cuts |whole| at its sync points into stretches of at least |target| bytes.
std::vector<Stretch> SplitStretch(const Stretch& whole, const std::vector<SyncPoint>& syncs,
                                  uint64_t target);

}  // namespace hwcov::decoder
