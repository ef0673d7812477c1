#include "epochs.h"

#include "sync_points.h"

namespace hwcov::decoder {

std::optional<uint64_t> PerfTime(const trace::PtInfo& pt, uint64_t tsc) {
  if (pt.priv.size() < 5 || pt.priv[4] == 0 || !(pt.config & pt.priv[5])) return std::nullopt;
  const uint64_t shift = pt.priv[1], mult = pt.priv[2], zero = pt.priv[3];
  if (shift >= 64) return std::nullopt;
  const uint64_t quot = tsc >> shift;
  const uint64_t rem = tsc & ((uint64_t{1} << shift) - 1);
  return zero + quot * mult + ((rem * mult) >> shift);
}

std::vector<Epoch> PlanEpochs(const trace::Trace& trace, const AddressSpaces& spaces,
                              std::optional<uint32_t> pid, std::span<const uint8_t> bytes) {
  Epoch whole;
  whole.end = bytes.size();
  whole.mmaps = pid ? spaces.At(*pid, UINT64_MAX) : spaces.All();
  if (!pid || !trace.pt) return {whole};

  std::vector<Epoch> epochs;
  for (const SyncPoint& sync : FindSyncPoints(bytes)) {
    if (!sync.tsc) continue;
    std::optional<uint64_t> time = PerfTime(*trace.pt, *sync.tsc);
    if (!time) return {whole};
    std::vector<const trace::MmapEvent*> mmaps = spaces.At(*pid, *time);
    if (!epochs.empty() && mmaps == epochs.back().mmaps) continue;
    if (!epochs.empty()) {
      Epoch& previous = epochs.back();
      previous.end = sync.tracing ? sync.end : sync.offset;
      previous.stop_offset = sync.offset;
    }
    Epoch epoch;
    epoch.begin = epochs.empty() ? 0 : sync.offset;
    epoch.end = bytes.size();
    epoch.mmaps = std::move(mmaps);
    epochs.push_back(std::move(epoch));
  }
  if (epochs.empty()) return {whole};
  return epochs;
}

}  // namespace hwcov::decoder
