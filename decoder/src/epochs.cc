#include "epochs.h"

namespace hwcov::decoder {
void EndAt(Stretch& previous, const SyncPoint& sync) {
  previous.end = sync.tracing ? sync.end : sync.offset;
  previous.stop_offset = sync.offset;
}

std::optional<uint64_t> PerfTime(const trace::PtInfo& pt, uint64_t tsc) {
  if (pt.priv.size() < 6 || pt.priv[4] == 0 || !(pt.config & pt.priv[5])) return std::nullopt;
  const uint64_t shift = pt.priv[1], mult = pt.priv[2], zero = pt.priv[3];
  if (shift >= 64) return std::nullopt;
  const uint64_t quot = tsc >> shift;
  const uint64_t rem = tsc & ((uint64_t{1} << shift) - 1);
  return zero + quot * mult + ((rem * mult) >> shift);
}

std::vector<Epoch> PlanEpochs(const trace::Trace& trace, const AddressSpaces& spaces,
                              std::optional<uint32_t> pid, uint64_t begin, uint64_t size,
                              const std::vector<SyncPoint>& syncs,
                              const std::vector<const trace::MmapEvent*>* initial) {
  Epoch whole;
  whole.begin = begin;
  whole.end = size;
  whole.mmaps = pid ? spaces.At(*pid, UINT64_MAX) : spaces.All();
  if (!pid || !trace.pt) return {whole};

  std::vector<Epoch> epochs;
  if (initial) {
    Epoch& epoch = epochs.emplace_back();
    epoch.begin = begin;
    epoch.end = size;
    epoch.mmaps = *initial;
  }
  for (const SyncPoint& sync : syncs) {
    if (!sync.tsc) continue;
    std::optional<uint64_t> time = PerfTime(*trace.pt, *sync.tsc);
    if (!time) return {whole};
    std::vector<const trace::MmapEvent*> mmaps = spaces.At(*pid, *time);
    if (!epochs.empty() && mmaps == epochs.back().mmaps) continue;
    if (!epochs.empty()) EndAt(epochs.back(), sync);
    Epoch epoch;
    epoch.begin = epochs.empty() ? begin : sync.offset;
    epoch.continues = !epochs.empty() && sync.tracing;
    epoch.end = size;
    epoch.mmaps = std::move(mmaps);
    epochs.push_back(std::move(epoch));
  }
  if (epochs.empty()) return {whole};
  return epochs;
}

std::vector<Stretch> SplitStretch(const Stretch& whole, const std::vector<SyncPoint>& syncs,
                                  uint64_t target) {
  std::vector<Stretch> out{whole};
  for (const SyncPoint& sync : syncs) {
    if (sync.offset <= whole.begin || sync.offset >= whole.stop_offset || sync.offset >= whole.end)
      continue;
    if (sync.offset - out.back().begin < target) continue;
    Stretch next;
    next.begin = sync.offset;
    next.continues = sync.tracing;
    next.end = whole.end;
    next.stop_offset = whole.stop_offset;
    EndAt(out.back(), sync);
    out.push_back(next);
  }
  return out;
}

}  // namespace hwcov::decoder
