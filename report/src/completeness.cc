#include "completeness.h"

#include <cstdio>

namespace hwcov::report {

uint64_t GapCount(const mapper::TraceQuality& q) {
  uint64_t gaps = 0;
  for (const auto& [kind, n] : q.gaps_by_kind) gaps += n;
  return gaps;
}

std::string CompletenessLine(const mapper::TraceQuality& q) {
  char line[256];
  // Instructions without a single trace byte: nothing was decoded, the
  // plugin counted them (no trace bytes can be lost).
  if (q.trace_bytes == 0 && q.instructions > 0)
    std::snprintf(line, sizeof line,
                  "Counted in QEMU (emu counting mode, no trace): %llu instructions, %llu gaps",
                  static_cast<unsigned long long>(q.instructions),
                  static_cast<unsigned long long>(GapCount(q)));
  else
    std::snprintf(line, sizeof line,
                  "Trace: %.2f%% of %llu PT bytes decoded cleanly, %llu instructions, %llu gaps",
                  100.0 * q.decoded_share(), static_cast<unsigned long long>(q.trace_bytes),
                  static_cast<unsigned long long>(q.instructions),
                  static_cast<unsigned long long>(GapCount(q)));
  return line;
}

}  // namespace hwcov::report
