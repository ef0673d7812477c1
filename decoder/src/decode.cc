// Decode(): every queue's stream cut into stretches at its sync points (and
// where the address space changed), the stretches decoded in parallel (by
// the fast path, or libipt's block decoder where it declines), the counts
// summed into one profile. DecodeSession does it a range of stream at a
// time, for Decode(), DecodeByTest() (a session per test, of its queues)
// and StreamDecoder.
// ListInstructions(): the same stretches, serially, with the instruction
// decoder, in trace order.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "address_spaces.h"
#include "block_counts.h"
#include "decode_loop.h"
#include "decode_session.h"
#include "epochs.h"
#include "fast_decode.h"
#include "test_names.h"

namespace hwcov::decoder {
namespace {

// Stretches smaller than this are not worth a decoder of their own; larger
// ones would make memory grow with the trace (each worker holds its
// stretch's bytes, and a copy when the stretch spans AUX buffers).
constexpr uint64_t kMinStretchBytes = 64 << 10;
constexpr uint64_t kMaxStretchBytes = 4 << 20;

// One planned range of a queue's stream and the images of its epochs.
struct QueueRange {
  const trace::AuxQueue* queue = nullptr;
  std::unique_ptr<QueueStream> stream;
  std::vector<const CodeImage*> images;  // one per epoch, owned by the session
};

// A stretch decoded by one worker, and what it found.
struct Piece {
  size_t range = 0;  // index into the planned ranges
  size_t epoch = 0;
  Stretch stretch;
  pt_image* image = nullptr;  // the worker's own copy
  RuntimeCounts counts;
  LoopResult loop;
  std::vector<Gap> overflows;
  bool by_libipt = false;  // the fast path declined it
};

// A worker thread's block maps, one per image it has decoded with.
using BlockMaps = std::map<const CodeImage*, std::unique_ptr<BlockMap>>;

// A worker thread's fast path: its block maps and its step cache, kept from
// one run to the next.
struct FastPathState {
  BlockMaps block_maps;
  StepCache steps;
};

// Where a queue's last planned range left it: the next range's first piece
// continues its last one (the edge between them), in its last epoch.
struct QueueCarry {
  bool has_piece = false;
  bool stopped_at_bound = false;
  std::optional<uint64_t> pending_end;
  const CodeImage* image = nullptr;
  std::optional<std::vector<uint32_t>> mmaps;  // the last epoch's, as indices
};

// Mappings named by their index in trace.mmaps (a list that only grows):
// pointers would not survive its growth between runs.
using MmapKey = std::vector<uint32_t>;

MmapKey KeyOf(const trace::Trace& trace, const std::vector<const trace::MmapEvent*>& mmaps) {
  MmapKey key;
  key.reserve(mmaps.size());
  for (const trace::MmapEvent* m : mmaps)
    key.push_back(static_cast<uint32_t>(m - trace.mmaps.data()));
  return key;
}

std::vector<const trace::MmapEvent*> MmapsOf(const trace::Trace& trace, const MmapKey& key) {
  std::vector<const trace::MmapEvent*> out;
  out.reserve(key.size());
  for (uint32_t i : key) out.push_back(&trace.mmaps[i]);
  return out;
}

std::optional<uint32_t> ProcessOf(const trace::AuxQueue& queue, const AddressSpaces& spaces) {
  if (queue.cpu != UINT32_MAX) return std::nullopt;  // per-CPU: the process changes
  return spaces.PidOfThread(queue.tid);
}

unsigned Jobs(const DecodeOptions& options) {
  if (options.jobs) return options.jobs;
  return std::max(1u, std::thread::hardware_concurrency());
}

void AddCounts(const RuntimeCounts& from, RuntimeCounts& to) {
  for (const auto& [range, b] : from.blocks) {
    RuntimeBlock& total = to.blocks[range];
    total.count += b.count;
    total.instructions = b.instructions;
  }
  for (const auto& [edge, n] : from.edges) to.edges[edge] += n;
}

}  // namespace

struct DecodeSession::State {
  State(const trace::Trace& t, const DecodeOptions& o)
      : trace(t), options(o), jobs(Jobs(o)), context(t, o) {}
  ~State() {
    for (Piece& p : pieces) pt_image_free(p.image);
  }

  const trace::Trace& trace;
  DecodeOptions options;
  unsigned jobs;
  // Binaries are located and images built once, on the calling thread.
  DecodeContext context;
  // Images by address space: epochs that see the same mappings (a program
  // that dlopens and dlcloses in a loop) share one.
  std::map<MmapKey, std::unique_ptr<CodeImage>> images;
  // Counts summed per image as pieces finish, so that memory does not grow
  // with the trace: a piece keeps only what joins it to its neighbours. The
  // fast path's block counts wait in the workers' block maps until Finish().
  std::map<const CodeImage*, RuntimeCounts> by_image;
  std::mutex by_image_mutex;
  std::vector<QueueRange> ranges;                    // planned, not yet run
  std::vector<Piece> pieces;                         // in stream order per queue
  std::map<uint32_t, QueueCarry> carry;              // by queue idx
  std::vector<std::unique_ptr<FastPathState>> fast;  // per worker thread
  ExecutionProfile profile;                          // what the runs so far added
  uint64_t total_bytes = 0;                          // of all ranges planned
  uint64_t planned_bytes = 0;                        // of the ranges not yet run
};

namespace {

using State = DecodeSession::State;

// Single-threaded: binaries are located and images built here.
void PlanRange(State& s, const trace::AuxQueue& queue, std::unique_ptr<QueueStream> stream,
               uint64_t begin, std::vector<SyncPoint> syncs, const SyncPoint* cut) {
  AddressSpaces spaces(s.trace);
  const size_t index = s.ranges.size();
  QueueRange& r = s.ranges.emplace_back();
  r.queue = &queue;
  r.stream = std::move(stream);
  const uint64_t end = cut ? cut->offset : r.stream->size();
  s.total_bytes += end - begin;
  s.planned_bytes += end - begin;
  const std::optional<uint32_t> pid = ProcessOf(queue, spaces);
  std::erase_if(syncs, [&](const SyncPoint& p) { return p.offset < begin || p.offset >= end; });
  const uint64_t target = s.options.stretch_bytes
                              ? s.options.stretch_bytes
                              : std::clamp<uint64_t>((end - begin) / (16 * s.jobs) + 1,
                                                     kMinStretchBytes, kMaxStretchBytes);
  QueueCarry& carry = s.carry[queue.idx];
  std::vector<const trace::MmapEvent*> initial;
  if (carry.mmaps) initial = MmapsOf(s.trace, *carry.mmaps);
  std::vector<Epoch> epochs = PlanEpochs(s.trace, spaces, pid, begin, r.stream->size(), syncs,
                                         carry.mmaps ? &initial : nullptr);
  // A range after a cut starts at the cut's PSB: execution continues there
  // when its PSB+ has a FUP, as at any stretch boundary.
  if (begin > 0 && !syncs.empty() && syncs.front().offset == begin)
    epochs.front().continues = syncs.front().tracing;
  if (cut) EndAt(epochs.back(), *cut);
  std::erase_if(epochs, [](const Epoch& e) { return e.stop_offset <= e.begin; });
  for (size_t e = 0; e < epochs.size(); ++e) {
    MmapKey key = KeyOf(s.trace, epochs[e].mmaps);
    std::unique_ptr<CodeImage>& image = s.images[key];
    if (!image) image = s.context.ImageFor(epochs[e].mmaps, pid);
    r.images.push_back(image.get());
    if (e + 1 == epochs.size()) carry.mmaps = std::move(key);
    for (const Stretch& stretch : SplitStretch(epochs[e], syncs, target)) {
      Piece& piece = s.pieces.emplace_back();
      piece.range = index;
      piece.epoch = e;
      piece.stretch = stretch;
    }
  }
}

// Folds a decoded piece's counts into its image's sum and frees them.
void Fold(State& s, Piece& piece) {
  const CodeImage* image = s.ranges[piece.range].images[piece.epoch];
  {
    std::lock_guard<std::mutex> lock(s.by_image_mutex);
    AddCounts(piece.counts, s.by_image[image]);
  }
  piece.counts.blocks = {};
  piece.counts.edges = {};
  pt_image_free(piece.image);
  piece.image = nullptr;
}

void DecodePiece(State& s, Piece& piece, FastPathState* fast) {
  const QueueRange& q = s.ranges[piece.range];
  const Stretch& st = piece.stretch;
  std::vector<uint8_t> scratch;
  auto bytes = q.stream->Range(st.begin, st.end, scratch);
  const uint64_t stop = st.stop_offset == UINT64_MAX ? UINT64_MAX : st.stop_offset - st.begin;
  struct Releaser {  // the stretch's own bytes: the next stretch reads its PSB+ again
    const QueueStream& stream;
    uint64_t begin, end;
    ~Releaser() { stream.Release(begin, end); }
  } releaser{*q.stream, st.begin, std::min(st.stop_offset, st.end)};
  if (fast) {
    const CodeImage* image = q.images[piece.epoch];
    std::unique_ptr<BlockMap>& blocks = fast->block_maps[image];
    if (!blocks) blocks = std::make_unique<BlockMap>(*image);
    if (FastDecodeStretch(MakeConfig(s.trace, bytes), *blocks, fast->steps, stop, piece.counts,
                          piece.loop))
      return;
    piece.by_libipt = true;
  }
  {
    // A libipt image per decoder, copied from the epoch's when needed, so
    // that a long trace never holds one per stretch.
    std::lock_guard<std::mutex> lock(s.by_image_mutex);
    piece.image = q.images[piece.epoch]->NewDecoderImage();
  }
  auto on_block = [&](const pt_block& block) {
    piece.counts.AddBlock(block.ip, block.end_ip, block.ninsn);
  };
  auto on_event = [&](const pt_event& event, uint64_t offset) {
    // Status updates (a PSB+ restating what is already known) do not
    // interrupt the flow; anything else does, so no edge spans it.
    if (!event.status_update) piece.counts.pending_end.reset();
    if (event.type == ptev_overflow) {
      Gap gap;
      gap.kind = GapKind::kOverflow;
      gap.queue = q.queue->idx;
      gap.trace_offset = offset;
      gap.ip = event.ip_suppressed ? 0 : event.variant.overflow.ip;
      gap.detail = "trace buffer overflow (OVF): trace lost until the next sync";
      piece.overflows.push_back(gap);
    }
  };
  piece.loop = RunDecodeLoop<BlockApi>(MakeConfig(s.trace, bytes), piece.image, q.queue->idx,
                                       on_block, on_event, st.begin, stop);
}

// Runs DecodePiece over all pieces on the session's threads, reporting
// progress from the calling thread.
void DecodeAll(State& s) {
  const bool fast_path = !s.options.libipt_only;
  const auto& progress = s.options.progress;
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done_bytes{0};
  std::atomic<unsigned> running{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  // The last worker to finish wakes the progress loop at once (a per-test
  // decode runs one such loop per test: a full poll period each would add up).
  std::mutex finish_mutex;
  std::condition_variable finished;
  const unsigned threads = std::max(1u, std::min<unsigned>(s.jobs, s.pieces.size()));
  while (s.fast.size() < threads)
    s.fast.push_back(std::make_unique<FastPathState>(
        FastPathState{{}, StepCache(fast_path ? s.options.step_cache_entries : 0)}));
  auto worker = [&](FastPathState& fast) {
    for (size_t i = next++; i < s.pieces.size(); i = next++) {
      try {
        DecodePiece(s, s.pieces[i], fast_path ? &fast : nullptr);
        Fold(s, s.pieces[i]);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
      const Stretch& st = s.pieces[i].stretch;
      done_bytes += std::min(st.stop_offset, st.end) - st.begin;
    }
    std::lock_guard<std::mutex> lock(finish_mutex);
    if (--running == 0) finished.notify_all();
  };
  if (threads == 1 && !progress) {
    running = 1;
    worker(*s.fast[0]);
  } else {
    std::vector<std::thread> pool;
    running = threads;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker, std::ref(*s.fast[t]));
    if (progress) {
      std::unique_lock<std::mutex> lock(finish_mutex);
      while (running > 0) {
        lock.unlock();
        progress(done_bytes, s.planned_bytes);
        lock.lock();
        finished.wait_for(lock, std::chrono::milliseconds(100), [&] { return running == 0; });
      }
    }
    for (std::thread& t : pool) t.join();
    if (progress) progress(s.planned_bytes, s.planned_bytes);
  }
  if (failure) std::rethrow_exception(failure);
}

// Adds the decoded pieces to the profile in stream order. Where a stretch
// stopped at its bound and the next one continues there, the edge between
// them (a conditional branch at the end of one, the next block at the start
// of the other) is restored, across runs too.
void MergePieces(State& s) {
  ExecutionProfile& profile = s.profile;
  for (Piece& p : s.pieces) {
    const QueueRange& r = s.ranges[p.range];
    const CodeImage* image = r.images[p.epoch];
    QueueCarry& carry = s.carry[r.queue->idx];
    if (carry.has_piece && carry.stopped_at_bound && carry.pending_end && p.stretch.continues &&
        p.counts.first_ip)
      ++s.by_image[carry.image].edges[{*carry.pending_end, *p.counts.first_ip}];
    carry.has_piece = true;
    carry.stopped_at_bound = p.loop.stopped_at_bound;
    carry.pending_end = p.counts.pending_end;
    carry.image = image;
    profile.decoded_bytes += p.loop.decoded_bytes;
    if (p.by_libipt) profile.libipt_stretch_bytes += p.stretch.end - p.stretch.begin;
    profile.instructions += p.counts.instructions;
    for (std::vector<Gap>* gaps : {&p.loop.gaps, &p.overflows})
      for (Gap& gap : *gaps) {
        gap.location = image->Locate(gap.ip);
        profile.gaps.push_back(std::move(gap));
      }
  }
}

// The counts of the whole session translated to module offsets, shared out
// over the session's threads: the translation decodes every instruction of
// every distinct block, which serial took a fifth of a -j2 decode of a large
// program.
ProfileBuilder TranslateCounts(State& s) {
  for (const auto& fast : s.fast)
    for (const auto& [image, blocks] : fast->block_maps) blocks->MoveTotalsInto(s.by_image[image]);
  const size_t parts = std::max<size_t>(1, std::min<size_t>(s.jobs, s.fast.size()));
  std::vector<ProfileBuilder> builders(parts);
  std::vector<std::exception_ptr> failures(parts);
  auto translate = [&](size_t part) {
    try {
      for (const auto& [image, counts] : s.by_image)
        builders[part].Add(counts, *image, {part, parts});
      builders[part].Sum();
    } catch (...) {
      failures[part] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (size_t part = 1; part < parts; ++part) threads.emplace_back(translate, part);
  translate(0);
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& failure : failures)
    if (failure) std::rethrow_exception(failure);
  for (size_t part = 1; part < parts; ++part) builders[0].Join(std::move(builders[part]));
  return std::move(builders[0]);
}

}  // namespace

DecodeSession::DecodeSession(const trace::Trace& trace, const DecodeOptions& options)
    : state_(std::make_unique<State>(trace, options)) {}

DecodeSession::~DecodeSession() = default;

void DecodeSession::Plan(const trace::AuxQueue& queue, std::unique_ptr<QueueStream> stream,
                         uint64_t begin, std::vector<SyncPoint> syncs, const SyncPoint* cut) {
  PlanRange(*state_, queue, std::move(stream), begin, std::move(syncs), cut);
}

void DecodeSession::Run() {
  State& s = *state_;
  DecodeAll(s);
  MergePieces(s);
  s.pieces.clear();
  s.ranges.clear();
  s.planned_bytes = 0;
}

ExecutionProfile DecodeSession::Finish() { return Finish(RecordedLossGaps(state_->trace)); }

ExecutionProfile DecodeSession::Finish(std::vector<Gap> loss_gaps) {
  State& s = *state_;
  ExecutionProfile profile = std::move(s.profile);
  // Gaps by queue, in stream order within each (runs interleave queues).
  std::stable_sort(profile.gaps.begin(), profile.gaps.end(),
                   [](const Gap& a, const Gap& b) { return a.queue < b.queue; });
  profile.trace_bytes = s.total_bytes;
  for (const auto& fast : s.fast) {
    profile.fast_path_step_lookups += fast->steps.lookups();
    profile.fast_path_step_misses += fast->steps.misses();
    profile.fast_path_steps_built += fast->steps.built();
  }
  ProfileBuilder builder = TranslateCounts(s);
  for (Gap& gap : loss_gaps) profile.gaps.push_back(std::move(gap));
  builder.MoveInto(profile);
  profile.modules = std::move(s.context.modules.modules());
  profile.warnings.insert(profile.warnings.begin(), s.context.warnings.begin(),
                          s.context.warnings.end());
  if (profile.trace_bytes > 0 && profile.instructions == 0)
    // The hardware writes sync and timing packets while the filter keeps
    // tracing off: a trace without one TIP.PGE. Never a silent 0%.
    profile.warnings.push_back(
        "the trace holds " + std::to_string(profile.trace_bytes) +
        " bytes of Intel PT but not one executed instruction: tracing never switched on "
        "(no TIP.PGE). An address filter matched nothing (a binary on overlayfs or in another "
        "mount namespace, see docs/howto_capture.md) or the traced code never ran");
  // Each distinct warning once, in first-seen order.
  std::set<std::string> seen;
  std::erase_if(profile.warnings, [&](const std::string& w) { return !seen.insert(w).second; });
  return profile;
}

namespace {

// Queues a decode takes (empty: all).
using QueueSelection = std::set<const trace::AuxQueue*>;

// Plans the whole stream of every queue (of the |selected| ones).
void PlanWholeTrace(const trace::Trace& trace, DecodeSession& session,
                    const QueueSelection& selected = {}) {
  for (const trace::AuxQueue& queue : trace.queues) {
    if (!selected.empty() && !selected.count(&queue)) continue;
    auto stream = std::make_unique<QueueStream>(trace, queue);
    std::vector<SyncPoint> syncs = FindSyncPoints(*stream);
    session.Plan(queue, std::move(stream), 0, std::move(syncs), nullptr);
  }
}

}  // namespace

ExecutionProfile Decode(const trace::Trace& trace, const DecodeOptions& options) {
  DecodeSession session(trace, options);
  PlanWholeTrace(trace, session);
  session.Run();
  return session.Finish();
}

std::vector<TestProfile> DecodeByTest(const trace::Trace& trace, const DecodeOptions& options) {
  std::map<std::string, QueueSelection> tests;
  std::map<const trace::AuxQueue*, std::string> test_of_queue;
  const AddressSpaces spaces(trace);
  for (const trace::AuxQueue& queue : trace.queues) {
    const std::optional<uint32_t> pid = ProcessOf(queue, spaces);
    if (!pid)
      throw Error(trace.path.string() +
                  ": per-test coverage needs a per-thread trace (this one was recorded per "
                  "CPU, where one queue holds every process)");
    const std::string name = TestNameOfProcess(trace, *pid);
    tests[name].insert(&queue);
    test_of_queue[&queue] = name;
  }
  // Each recorded loss goes to the test of its queue; one no queue holds
  // (lost sideband, an unfinished file) to the first test, once.
  std::vector<const trace::AuxQueue*> loss_queues;
  std::vector<Gap> losses = RecordedLossGaps(trace, &loss_queues);
  std::map<std::string, std::vector<Gap>> losses_of_test;
  for (size_t i = 0; i < losses.size(); ++i) {
    const auto it = test_of_queue.find(loss_queues[i]);
    if (it != test_of_queue.end())
      losses_of_test[it->second].push_back(std::move(losses[i]));
    else if (!tests.empty())
      losses_of_test[tests.begin()->first].push_back(std::move(losses[i]));
  }
  // A session per test: its queues planned whole, as Decode() plans all.
  std::vector<TestProfile> out;
  for (const auto& [name, queues] : tests) {
    DecodeSession session(trace, options);
    PlanWholeTrace(trace, session, queues);
    session.Run();
    out.push_back({name, session.Finish(std::move(losses_of_test[name]))});
  }
  return out;
}

void ListInstructions(const trace::Trace& trace, const std::function<void(uint64_t ip)>& on_insn,
                      const std::function<void(const Gap&)>& on_gap, const DecodeOptions& options) {
  DecodeOptions serial = options;
  serial.jobs = 1;
  State s(trace, serial);
  for (const trace::AuxQueue& queue : trace.queues) {
    auto stream = std::make_unique<QueueStream>(trace, queue);
    std::vector<SyncPoint> syncs = FindSyncPoints(*stream);
    PlanRange(s, queue, std::move(stream), 0, std::move(syncs), nullptr);
  }
  for (Piece& piece : s.pieces) {
    const QueueRange& q = s.ranges[piece.range];
    const Stretch& st = piece.stretch;
    piece.image = q.images[piece.epoch]->NewDecoderImage();
    std::vector<uint8_t> scratch;
    auto bytes = q.stream->Range(st.begin, st.end, scratch);
    const uint64_t stop = st.stop_offset == UINT64_MAX ? UINT64_MAX : st.stop_offset - st.begin;
    LoopResult loop = RunDecodeLoop<InsnApi>(
        MakeConfig(trace, bytes), piece.image, q.queue->idx,
        [&](const pt_insn& insn) { on_insn(insn.ip); }, [](const pt_event&, uint64_t) {}, st.begin,
        stop);
    for (const Gap& gap : loop.gaps) on_gap(gap);
  }
}

}  // namespace hwcov::decoder
