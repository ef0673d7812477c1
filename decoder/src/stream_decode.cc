// StreamDecoder: the sink calls turned into the sideband a perf.data reader
// would read back (trace::Trace, as ReadPerfData fills it from what
// PerfDataWriter writes), and each queue's PT held from its last cut on,
// decoded by a DecodeSession up to its last complete PSB+ when the bytes
// held reach the bound, and to its end at Finish().
#include <algorithm>
#include <optional>

#include "decode_session.h"
#include "hwcov/decoder.h"

namespace hwcov::decoder {
namespace {

// perf's AUXTRACE records carry a multiple of 8 bytes (PerfDataWriter pads
// with zeros, PT PAD packets), and the reader's stream includes them.
constexpr uint64_t kAuxAlign = 8;

trace::SampleId Sample(uint32_t pid, uint32_t tid, uint64_t time) {
  trace::SampleId s;
  s.pid = pid;
  s.tid = tid;
  s.time = time;
  return s;
}

}  // namespace

struct StreamDecoder::Impl {
  explicit Impl(const DecodeOptions& o) : options(o) {
    options.progress = nullptr;  // the recording is the progress
  }

  // One queue's stream from |base| on: what has not been decoded yet.
  struct Pending {
    trace::AuxQueue queue;  // without buffers: the stream is |bytes|
    std::vector<uint8_t> bytes;
    uint64_t base = 0;
    // Where each read lies in the AUX area, as the file's AUXTRACE records
    // say: the recorded losses are placed in the stream by them.
    std::vector<trace::AuxBuffer> buffers;
    uint64_t next_offset = 0;  // AddAux(): the AUX position a file writer gives
  };

  Pending& QueueOf(const trace::AuxtraceChunk& chunk) {
    auto [it, added] = queues.try_emplace(chunk.idx);
    if (added) it->second.queue = trace::AuxQueue{chunk.idx, chunk.tid, chunk.cpu, {}};
    return it->second;
  }

  // Decodes |q| up to its last complete PSB+ (|final|: to its end), a range
  // of about half the bound at a time, each cut at a sync point. False when
  // there is no sync point to cut at after the range's start yet.
  bool DecodeQueue(Pending& q, bool final) {
    std::vector<SyncPoint> syncs = FindSyncPoints(q.bytes);
    // Complete PSB+ after the first sync point: a range must hold one, as
    // the file's first stretch holds what comes before its first PSB (the
    // hardware's PAD packets, with nothing to report).
    std::vector<const SyncPoint*> cuts;
    for (SyncPoint& p : syncs) {
      p.offset += q.base;
      p.end += q.base;
    }
    for (const SyncPoint& p : syncs)
      if (p.offset > syncs.front().offset && p.end > p.offset) cuts.push_back(&p);
    const uint64_t range = std::max<uint64_t>(options.stream_buffer_bytes / 2, 1);
    uint64_t from = q.base;
    for (size_t next = 0; next < cuts.size();) {
      size_t pick = next;  // the last cut within |range|, or the first after
      while (pick + 1 < cuts.size() && cuts[pick + 1]->offset <= from + range) ++pick;
      const SyncPoint cut = *cuts[pick];
      Run(q, from, syncs, &cut);
      from = cut.offset;
      next = pick + 1;
    }
    if (final) {
      Run(q, from, syncs, nullptr);
      from = q.base + q.bytes.size();
    }
    const bool progressed = from > q.base;
    q.bytes.erase(q.bytes.begin(), q.bytes.begin() + static_cast<long>(from - q.base));
    // A queue keeps the room it once needed; many threads' queues must not
    // each keep a bound's worth.
    if (q.bytes.capacity() > 4 * q.bytes.size() + (64 << 10)) q.bytes.shrink_to_fit();
    held -= from - q.base;
    q.base = from;
    return progressed;
  }

  // Decodes |q|'s stream from |from| to |cut| (none: to its end).
  void Run(Pending& q, uint64_t from, const std::vector<SyncPoint>& syncs, const SyncPoint* cut) {
    auto bytes = std::span<const uint8_t>(q.bytes).subspan(from - q.base);
    session->Plan(q.queue, std::make_unique<QueueStream>(bytes, from), from, syncs, cut);
    session->Run();
    ++runs;
  }

  // Decodes the largest queues until half the bound is free (or nothing
  // can be cut yet).
  void MakeRoom() {
    std::vector<Pending*> order;
    for (auto& [idx, q] : queues) order.push_back(&q);
    std::sort(order.begin(), order.end(),
              [](const Pending* a, const Pending* b) { return a->bytes.size() > b->bytes.size(); });
    for (Pending* q : order) {
      if (held < options.stream_buffer_bytes / 2) break;
      DecodeQueue(*q, false);
    }
  }

  DecodeOptions options;
  trace::Trace trace;  // the sideband so far; queues are kept apart
  std::unique_ptr<DecodeSession> session;
  std::map<uint32_t, Pending> queues;  // by idx
  uint64_t held = 0, peak = 0, runs = 0;
  bool begun = false, finished = false;
  std::optional<ExecutionProfile> profile;
};

StreamDecoder::StreamDecoder(const DecodeOptions& options)
    : impl_(std::make_unique<Impl>(options)) {
  impl_->session = std::make_unique<DecodeSession>(impl_->trace, impl_->options);
}

StreamDecoder::~StreamDecoder() = default;

void StreamDecoder::Begin(const trace::PtEventParams& params) {
  if (impl_->begun) throw Error("StreamDecoder: the trace's event was already given");
  impl_->begun = true;
  trace::PtInfo pt;
  pt.priv = params.auxtrace_priv;
  pt.pmu_type = pt.priv.empty() ? params.pmu_type : static_cast<uint32_t>(pt.priv[0]);
  pt.config = params.config;
  impl_->trace.pt = std::move(pt);
}

void StreamDecoder::AddComm(uint32_t pid, uint32_t tid, const std::string& name, bool exec,
                            uint64_t time) {
  trace::CommEvent e;
  e.sample = Sample(pid, tid, time);
  e.pid = pid;
  e.tid = tid;
  e.exec = exec;
  e.name = name.substr(0, 15);  // as PerfDataWriter stores it
  impl_->trace.comms.push_back(std::move(e));
}

void StreamDecoder::AddMmap(const trace::MmapEvent& mmap, uint64_t time) {
  trace::MmapEvent e = mmap;
  e.sample = Sample(mmap.pid, mmap.tid, time);
  e.executable = e.prot & 4;  // PROT_EXEC, as the reader derives it
  if (mmap.build_id && !mmap.build_id->empty()) {
    e.build_id = BuildId{mmap.build_id->bytes.substr(0, 20)};
    impl_->trace.build_ids.push_back({-1, mmap.filename, *e.build_id});
  } else {
    e.build_id.reset();
  }
  impl_->trace.mmaps.push_back(std::move(e));
}

void StreamDecoder::AddItraceStart(uint32_t pid, uint32_t tid, uint64_t time) {
  impl_->trace.itrace_starts.push_back({Sample(pid, tid, time), pid, tid});
}

void StreamDecoder::AddFork(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid,
                            uint64_t time) {
  impl_->trace.tasks.push_back({Sample(pid, tid, time), false, pid, ppid, tid, ptid, time});
}

void StreamDecoder::AddExit(uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid,
                            uint64_t time) {
  impl_->trace.tasks.push_back({Sample(pid, tid, time), true, pid, ppid, tid, ptid, time});
}

void StreamDecoder::AddAux(uint32_t idx, uint32_t tid, std::span<const uint8_t> bytes,
                           uint64_t time) {
  Impl::Pending& q = impl_->QueueOf({idx, tid, UINT32_MAX, 0, time});
  AddAuxtrace({idx, tid, UINT32_MAX, q.next_offset, time}, bytes, {});
}

void StreamDecoder::AddAuxtrace(const trace::AuxtraceChunk& chunk, std::span<const uint8_t> first,
                                std::span<const uint8_t> second) {
  Impl& d = *impl_;
  if (d.finished) throw Error("StreamDecoder: PT after the end of the trace");
  const uint64_t size = first.size() + second.size();
  if (size == 0) return;  // no AUXTRACE record either
  Impl::Pending& q = d.QueueOf(chunk);
  const uint64_t padded = (size + kAuxAlign - 1) / kAuxAlign * kAuxAlign;
  q.buffers.push_back(
      {0, 0, padded, chunk.offset, chunk.reference, chunk.idx, chunk.tid, chunk.cpu});
  q.next_offset = chunk.offset + padded;
  q.bytes.insert(q.bytes.end(), first.begin(), first.end());
  q.bytes.insert(q.bytes.end(), second.begin(), second.end());
  q.bytes.resize(q.bytes.size() + (padded - size), 0);
  d.held += padded;
  d.peak = std::max(d.peak, d.held);
  if (d.held >= d.options.stream_buffer_bytes) d.MakeRoom();
}

void StreamDecoder::AddKernelRecord(const trace::KernelRecord& record,
                                    std::span<const uint8_t> /*raw*/) {
  trace::AddToSideband(record, impl_->trace);
}

void StreamDecoder::AddBuildId(const trace::BuildIdEntry& entry) {
  impl_->trace.build_ids.push_back(entry);
}

void StreamDecoder::AddFinishedRound() {}  // each call's records are in order already

void StreamDecoder::AddSnapshot(const trace::CodeSnapshot& snapshot) {
  impl_->trace.snapshots.push_back(snapshot);
}

void StreamDecoder::AddTestName(uint32_t pid, const std::string& name) {
  impl_->trace.test_names.emplace(pid, name);
}

void StreamDecoder::SetStrings(const std::map<std::string, std::string>& strings) {
  impl_->trace.strings = strings;
}

void StreamDecoder::Finish() {
  Impl& d = *impl_;
  if (d.finished) return;
  d.finished = true;
  for (auto& [idx, q] : d.queues) d.DecodeQueue(q, true);
  // The queues as the file lists them, for placing the recorded losses.
  for (auto& [idx, q] : d.queues) {
    d.trace.queues.push_back(q.queue);
    d.trace.queues.back().buffers = std::move(q.buffers);
  }
  d.profile = d.session->Finish();
}

ExecutionProfile StreamDecoder::TakeProfile() {
  if (!impl_->profile) throw Error("StreamDecoder: the trace has not finished");
  ExecutionProfile out = std::move(*impl_->profile);
  impl_->profile.reset();
  return out;
}

uint64_t StreamDecoder::peak_buffered_bytes() const { return impl_->peak; }
uint64_t StreamDecoder::decode_runs() const { return impl_->runs; }

}  // namespace hwcov::decoder
