#include "intel_pt_loss.h"

#include <linux/perf_event.h>

namespace hwcov::collector {

void LossAccount::Add(const SidebandRecord& r) {
  if (r.type != PERF_RECORD_AUX && r.type != PERF_RECORD_LOST) return;
  const std::string key =
      per_cpu_ ? "cpu " + std::to_string(r.sample.cpu) : "tid " + std::to_string(r.sample.tid);
  LossCounts& c = counts_[key];
  if (r.type == PERF_RECORD_LOST) {
    c.lost_records += r.lost;
    return;
  }
  ++c.aux_records;
  c.aux_bytes += r.aux_size;
  if (r.aux_flags & PERF_AUX_FLAG_TRUNCATED) ++c.truncated;
  if (r.aux_flags & PERF_AUX_FLAG_PARTIAL) ++c.partial;
  if (r.aux_flags & PERF_AUX_FLAG_COLLISION) ++c.collision;
}

LossCounts LossAccount::Total() const {
  LossCounts t;
  for (const auto& [key, c] : counts_) {
    t.aux_records += c.aux_records;
    t.aux_bytes += c.aux_bytes;
    t.truncated += c.truncated;
    t.partial += c.partial;
    t.collision += c.collision;
    t.lost_records += c.lost_records;
  }
  return t;
}

std::vector<std::string> LossAccount::Summary(uint64_t aux_bytes_per_buffer) const {
  std::vector<std::string> lines;
  for (const auto& [key, c] : counts_) {
    if (!c.any()) continue;
    std::string line = key + ":";
    if (c.truncated)
      line += " trace stopped " + std::to_string(c.truncated) + " time(s) with the " +
              std::to_string(aux_bytes_per_buffer >> 10) +
              " KiB AUX buffer full (data lost; use a larger --buffer-size or --filter)";
    if (c.partial)
      line += " " + std::to_string(c.partial) +
              " AUX record(s) with gaps (PARTIAL: e.g. the CPU "
              "entered VMX root mode)";
    if (c.collision) line += " " + std::to_string(c.collision) + " AUX collision(s)";
    if (c.lost_records)
      line += " " + std::to_string(c.lost_records) +
              " sideband record(s) lost (the data buffer was full)";
    lines.push_back(line);
  }
  return lines;
}

}  // namespace hwcov::collector
