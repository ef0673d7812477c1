// The PSB+ sync points of a PT stream: where a decoder can start, the time
// the stream had there, and whether tracing was on (a FUP in the PSB+).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace hwcov::decoder {

struct SyncPoint {
  uint64_t offset = 0;  // of the PSB
  uint64_t end = 0;     // just after the PSBEND
  std::optional<uint64_t> tsc;
  bool tracing = false;  // the PSB+ has a FUP: execution was inside the trace
  uint64_t fup_ip = 0;   // where execution was (with tracing)
};

std::vector<SyncPoint> FindSyncPoints(std::span<const uint8_t> bytes);

class QueueStream;
// The sync points of a whole queue, read a window at a time (each window's
// pages released after), so that memory does not grow with the stream.
std::vector<SyncPoint> FindSyncPoints(const QueueStream& stream);

}  // namespace hwcov::decoder
