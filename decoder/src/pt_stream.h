// What every libipt decode loop of hwcov shares: the queue's PT bytes as one
// stream, the decoder configuration, and turning libipt errors into gaps.
#pragma once

#include <intel-pt.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "code_image.h"
#include "hwcov/decoder.h"

namespace hwcov::decoder {

// The PT bytes of one queue: its AUX buffers, one stream, never joined in
// memory as a whole, so that memory does not grow with the trace.
class QueueStream {
 public:
  QueueStream(const trace::Trace& trace, const trace::AuxQueue& queue);
  // Bytes held in memory that are the stream from offset |base| on (a
  // StreamDecoder's unread part); Range() then takes offsets >= |base|.
  QueueStream(std::span<const uint8_t> bytes, uint64_t base);
  uint64_t size() const { return size_; }  // the offset of the end
  // Bytes [begin, end) of the stream: a view into the trace file when they
  // lie in one buffer, else copied into |scratch|; safe to give libipt
  // (ReadableForLibipt).
  std::span<const uint8_t> Range(uint64_t begin, uint64_t end, std::vector<uint8_t>& scratch) const;
  // Lets the pages of [begin, end) go (MappedFile::Release).
  void Release(uint64_t begin, uint64_t end) const;

 private:
  struct Segment {
    uint64_t begin = 0;  // stream offset
    std::span<const uint8_t> bytes;
  };
  std::vector<Segment> segments_;
  uint64_t size_ = 0;
  const MappedFile* file_ = nullptr;
};

// |bytes|, or a copy of them in |scratch| with slack after the end where
// libipt 2.0 would read past it: its pt_sync_forward reads the byte after a
// buffer whose last 8-byte-aligned word is PSB payload (fixed in libipt 2.1,
// commit 037a46c0 "sync: fix out of bounds read"), which faults when the
// buffer ends a mapping, as a trace file's last AUX bytes may.
std::span<const uint8_t> ReadableForLibipt(std::span<const uint8_t> bytes,
                                           std::vector<uint8_t>& scratch);

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
// |queues|, when given, gets each gap's queue (nullptr: none, e.g. lost
// sideband).
std::vector<Gap> RecordedLossGaps(const trace::Trace& trace,
                                  std::vector<const trace::AuxQueue*>* queues = nullptr);

}  // namespace hwcov::decoder
