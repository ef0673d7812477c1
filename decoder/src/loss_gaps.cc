// Data the kernel reported lost while recording, as gaps of the queue it
// belongs to: PERF_RECORD_AUX flags (TRUNCATED: the AUX buffer was full and
// the CPU stopped tracing until it was drained; PARTIAL: the trace has
// holes, e.g. while the CPU was in VMX root mode; COLLISION) and
// PERF_RECORD_LOST (sideband records dropped from a full data buffer).
#include "pt_stream.h"

namespace hwcov::decoder {
namespace {

std::string Where(const trace::SampleId& s) {
  std::string out;
  if (s.cpu != UINT32_MAX) out = "cpu " + std::to_string(s.cpu);
  if (s.tid != UINT32_MAX) out += (out.empty() ? "tid " : ", tid ") + std::to_string(s.tid);
  return out.empty() ? "" : " (" + out + ")";
}

// The queue a kernel report belongs to: the CPU's queue with per-CPU
// buffers, the thread's with per-thread ones.
const trace::AuxQueue* QueueOf(const trace::Trace& trace, const trace::SampleId& s) {
  for (const trace::AuxQueue& q : trace.queues) {
    if (q.cpu != UINT32_MAX ? q.cpu == s.cpu : q.tid == s.tid) return &q;
  }
  return nullptr;
}

// Where AUX-area position |pos| lies in the queue's stream (its buffers
// joined in file order, as QueueStream joins them).
std::optional<uint64_t> StreamOffset(const trace::AuxQueue& q, uint64_t pos) {
  uint64_t base = 0;
  for (const trace::AuxBuffer& b : q.buffers) {
    if (pos >= b.offset && pos - b.offset <= b.size) return base + (pos - b.offset);
    base += b.size;
  }
  return std::nullopt;
}

Gap LossGap(const trace::Trace& trace, const trace::SampleId& s, std::optional<uint64_t> pos) {
  Gap gap;
  gap.kind = GapKind::kLostData;
  if (const trace::AuxQueue* q = QueueOf(trace, s)) {
    gap.queue = q->idx;
    if (pos) gap.trace_offset = StreamOffset(*q, *pos).value_or(*pos);
  } else if (pos) {
    gap.trace_offset = *pos;
  }
  return gap;
}

// A trace that does not end as a finished recording does (hwcov or perf
// killed mid-recording, a copy cut short): whatever ran after its end is
// missing, and the report must not look complete. The reader says why.
Gap UnfinishedGap(const trace::Trace& trace) {
  Gap gap;
  gap.kind = GapKind::kLostData;
  gap.detail = "the trace is incomplete";
  std::string sep = ": ";
  for (const std::string& why : trace.warnings) {
    gap.detail += sep + why;
    sep = "; ";
  }
  gap.detail += "; what is missing from it is not in the coverage";
  return gap;
}

}  // namespace

std::vector<Gap> RecordedLossGaps(const trace::Trace& trace,
                                  std::vector<const trace::AuxQueue*>* queues) {
  std::vector<Gap> gaps;
  auto add = [&](const trace::SampleId* sample, Gap gap) {
    if (queues) queues->push_back(sample ? QueueOf(trace, *sample) : nullptr);
    gaps.push_back(std::move(gap));
  };
  for (const auto& aux : trace.aux_events) {
    if (aux.flags & trace::kAuxTruncated) {
      // The record covers what was written; the loss follows it.
      Gap gap = LossGap(trace, aux.sample, aux.aux_offset + aux.aux_size);
      gap.detail = "AUX buffer full" + Where(aux.sample) +
                   ": the CPU stopped tracing until hwcov drained it, so execution in between "
                   "is missing (TRUNCATED; record with a larger --buffer-size or a --filter)";
      add(&aux.sample, gap);
    }
    if (aux.flags & trace::kAuxPartial) {
      Gap gap = LossGap(trace, aux.sample, aux.aux_offset);
      gap.detail = "trace has holes in the " + std::to_string(aux.aux_size) + " bytes here" +
                   Where(aux.sample) + " (PARTIAL: tracing was suspended, e.g. in VMX root mode)";
      add(&aux.sample, gap);
    }
    if (aux.flags & trace::kAuxCollision) {
      Gap gap = LossGap(trace, aux.sample, aux.aux_offset);
      gap.detail = "AUX data collided with another sample" + Where(aux.sample) + " (COLLISION)";
      add(&aux.sample, gap);
    }
  }
  for (const auto& lost : trace.lost) {
    Gap gap = LossGap(trace, lost.sample, std::nullopt);
    gap.detail = std::to_string(lost.lost) + " sideband records lost" + Where(lost.sample) +
                 " (the data buffer was full): mappings or context switches may be missing";
    add(&lost.sample, gap);
  }
  if (!trace.finished) add(nullptr, UnfinishedGap(trace));
  return gaps;
}

}  // namespace hwcov::decoder
