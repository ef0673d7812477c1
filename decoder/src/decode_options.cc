// Decode and ListInstructions with DecodeOptions: the options-less versions
// run with the options published for this thread (see module_table.h).
#include "hwcov/decoder.h"
#include "module_table.h"

namespace hwcov::decoder {

ExecutionProfile Decode(const trace::Trace& trace, const DecodeOptions& options) {
  ScopedDecodeOptions scope(options);
  return Decode(trace);
}

void ListInstructions(const trace::Trace& trace, const std::function<void(uint64_t ip)>& on_insn,
                      const std::function<void(const Gap&)>& on_gap,
                      const DecodeOptions& options) {
  ScopedDecodeOptions scope(options);
  ListInstructions(trace, on_insn, on_gap);
}

}  // namespace hwcov::decoder
