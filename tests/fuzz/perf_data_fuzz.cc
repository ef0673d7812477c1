// Fuzz target: the perf.data reader (trace::ReadPerfData), file and pipe
// mode alike (the header's size field picks the mode, so the corpus holds
// both). Any bytes must give a Trace or an hwcov::Error; a Trace's views
// must lie inside the file. The packet walk of the first queues runs too, on
// real-format inputs that reach it.
#include <cstdint>

#include "fuzz_input.h"
#include "hwcov/decoder.h"
#include "hwcov/trace.h"

namespace {

using hwcov::fuzz::Check;

void CheckTrace(const hwcov::trace::Trace& t, size_t size) {
  uint64_t aux = 0;
  for (const auto& q : t.queues) {
    for (const auto& b : q.buffers) {
      Check(b.file_offset <= size && b.size <= size - b.file_offset, "AUX buffer inside the file");
      Check(b.idx == q.idx, "buffer in its queue");
      aux += b.size;
      auto bytes = t.AuxBytes(b);
      uint8_t x = 0;  // touch every byte: ASan checks the view
      for (uint8_t c : bytes) x ^= c;
      (void)x;
    }
  }
  Check(aux <= size, "AUX data no larger than the file");
  for (size_t i = 1; i < t.queues.size(); ++i)
    Check(t.queues[i - 1].idx < t.queues[i].idx, "queues sorted by idx, one per idx");
  for (const auto& s : t.snapshots) Check(s.bytes.size() <= size, "snapshot from the file");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hwcov::fuzz::ScratchFile file("input.data");
  const auto& path = file.Write(data, size);
  try {
    const hwcov::trace::Trace trace = hwcov::trace::ReadPerfData(path);
    CheckTrace(trace, size);
    constexpr size_t kQueuesWalked = 4;  // bounded time per input
    for (size_t i = 0; i < trace.queues.size() && i < kQueuesWalked; ++i)
      hwcov::decoder::CountPackets(trace, trace.queues[i]);
    hwcov::fuzz::Accepted(std::to_string(trace.queues.size()) + " queues, " +
                          std::to_string(trace.mmaps.size()) + " mmaps, " +
                          std::to_string(trace.warnings.size()) + " warnings");
  } catch (const hwcov::Error& e) {
    hwcov::fuzz::Refused(e.what());
    // The one error convention: a message naming the file. Anything else
    // escaping (std::bad_alloc, std::out_of_range...) is a bug libFuzzer reports.
  }
  return 0;
}
