// What every libipt decode loop of hwcov shares: the queue's PT bytes as one
// stream, the decoder configuration, and turning libipt errors into gaps.
#pragma once

#include <intel-pt.h>

#include <memory>
#include <string>
#include <vector>

#include "code_image.h"
#include "hwcov/decoder.h"

namespace hwcov::decoder {

// The PT bytes of one queue, contiguous (a view when the queue has one buffer).
class QueueStream {
 public:
  QueueStream(const trace::Trace& trace, const trace::AuxQueue& queue);
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> joined_;
  std::span<const uint8_t> bytes_;
};

// libipt configuration for |bytes| with the recording CPU's errata applied.
pt_config MakeConfig(const trace::Trace& trace, std::span<const uint8_t> bytes);

Gap MakeGap(int error, uint32_t queue, uint64_t offset, uint64_t ip);

// Everything one decode needs for all queues of a trace.
struct DecodeContext {
  DecodeContext(const trace::Trace& t, const DecodeOptions& options);
  ~DecodeContext();
  std::unique_ptr<CodeImage> ImageFor(const std::vector<const trace::MmapEvent*>& mmaps,
                                      std::optional<uint32_t> pid);

  const trace::Trace& trace;
  ModuleTable modules;
  FileCache files;
  pt_image_section_cache* iscache = nullptr;
  std::vector<std::string> warnings;
};

// Gaps for data the kernel reported lost (PERF_RECORD_AUX flags, LOST).
std::vector<Gap> RecordedLossGaps(const trace::Trace& trace);

}  // namespace hwcov::decoder
