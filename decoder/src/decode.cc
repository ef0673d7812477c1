// Decode(): every queue's stream cut into stretches at its sync points (and
// where the address space changed), the stretches decoded in parallel with
// libipt's block decoder, the counts summed into one profile.
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

// One queue's stream and the images of its epochs.
struct QueuePlan {
  const trace::AuxQueue* queue = nullptr;
  std::unique_ptr<QueueStream> stream;
  std::vector<const CodeImage*> images;  // one per epoch, owned by the Plan
};

// A stretch decoded by one worker, and what it found.
struct Piece {
  size_t queue = 0;  // index into the plans
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

struct Plan {
  std::vector<QueuePlan> queues;
  // Images by address space: epochs that see the same mappings (a program
  // that dlopens and dlcloses in a loop) share one.
  std::map<std::vector<const trace::MmapEvent*>, std::unique_ptr<CodeImage>> images;
  // Counts summed per image as pieces finish, so that memory does not grow
  // with the trace: a piece keeps only what joins it to its neighbours.
  std::map<const CodeImage*, RuntimeCounts> by_image;
  std::mutex by_image_mutex;
  std::vector<Piece> pieces;  // in stream order per queue
  uint64_t total_bytes = 0;
  std::atomic<uint64_t> step_lookups{0}, step_misses{0};  // of all workers' step caches
  ~Plan() {
    for (Piece& p : pieces) pt_image_free(p.image);
  }
};

std::optional<uint32_t> ProcessOf(const trace::AuxQueue& queue, const AddressSpaces& spaces) {
  if (queue.cpu != UINT32_MAX) return std::nullopt;  // per-CPU: the process changes
  return spaces.PidOfThread(queue.tid);
}

// Single-threaded: binaries are located and images built once, here.
// Queues a decode takes (empty: all).
using QueueSelection = std::set<const trace::AuxQueue*>;

void BuildPlan(const trace::Trace& trace, DecodeContext& context, unsigned jobs,
               uint64_t stretch_bytes, Plan& plan, const QueueSelection& selected = {}) {
  AddressSpaces spaces(trace);
  for (const trace::AuxQueue& queue : trace.queues) {
    if (!selected.empty() && !selected.count(&queue)) continue;
    QueuePlan& q = plan.queues.emplace_back();
    q.queue = &queue;
    q.stream = std::make_unique<QueueStream>(trace, queue);
    const uint64_t size = q.stream->size();
    plan.total_bytes += size;
    const std::optional<uint32_t> pid = ProcessOf(queue, spaces);
    const std::vector<SyncPoint> syncs = FindSyncPoints(*q.stream);
    const uint64_t target =
        stretch_bytes
            ? stretch_bytes
            : std::clamp<uint64_t>(size / (16 * jobs) + 1, kMinStretchBytes, kMaxStretchBytes);
    std::vector<Epoch> epochs = PlanEpochs(trace, spaces, pid, size, syncs);
    for (size_t e = 0; e < epochs.size(); ++e) {
      std::unique_ptr<CodeImage>& image = plan.images[epochs[e].mmaps];
      if (!image) image = context.ImageFor(epochs[e].mmaps, pid);
      q.images.push_back(image.get());
      for (const Stretch& stretch : SplitStretch(epochs[e], syncs, target)) {
        Piece& piece = plan.pieces.emplace_back();
        piece.queue = plan.queues.size() - 1;
        piece.epoch = e;
        piece.stretch = stretch;
      }
    }
  }
}

void AddCounts(const RuntimeCounts& from, RuntimeCounts& to) {
  for (const auto& [range, b] : from.blocks) {
    RuntimeBlock& total = to.blocks[range];
    total.count += b.count;
    total.instructions = b.instructions;
  }
  for (const auto& [edge, n] : from.edges) to.edges[edge] += n;
}

// Folds a decoded piece's counts into its image's sum and frees them.
void Fold(Plan& plan, Piece& piece) {
  const CodeImage* image = plan.queues[piece.queue].images[piece.epoch];
  {
    std::lock_guard<std::mutex> lock(plan.by_image_mutex);
    AddCounts(piece.counts, plan.by_image[image]);
  }
  piece.counts.blocks = {};
  piece.counts.edges = {};
  pt_image_free(piece.image);
  piece.image = nullptr;
}

// A worker thread's fast path: its block maps and its step cache.
struct FastPathState {
  BlockMaps block_maps;
  StepCache steps;
};

void DecodePiece(const trace::Trace& trace, Plan& plan, Piece& piece, FastPathState* fast) {
  const QueuePlan& q = plan.queues[piece.queue];
  const Stretch& s = piece.stretch;
  std::vector<uint8_t> scratch;
  auto bytes = q.stream->Range(s.begin, s.end, scratch);
  const uint64_t stop = s.stop_offset == UINT64_MAX ? UINT64_MAX : s.stop_offset - s.begin;
  struct Releaser {  // the stretch's own bytes: the next stretch reads its PSB+ again
    const QueueStream& stream;
    uint64_t begin, end;
    ~Releaser() { stream.Release(begin, end); }
  } releaser{*q.stream, s.begin, std::min(s.stop_offset, s.end)};
  if (fast) {
    const CodeImage* image = q.images[piece.epoch];
    std::unique_ptr<BlockMap>& blocks = fast->block_maps[image];
    if (!blocks) blocks = std::make_unique<BlockMap>(*image);
    if (FastDecodeStretch(MakeConfig(trace, bytes), *blocks, fast->steps, stop, piece.counts,
                          piece.loop))
      return;
    piece.by_libipt = true;
  }
  {
    // A libipt image per decoder, copied from the epoch's when needed, so
    // that a long trace never holds one per stretch.
    std::lock_guard<std::mutex> lock(plan.by_image_mutex);
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
  piece.loop = RunDecodeLoop<BlockApi>(MakeConfig(trace, bytes), piece.image, q.queue->idx,
                                       on_block, on_event, s.begin, stop);
}

// Runs DecodePiece over all pieces on |jobs| threads, reporting progress
// from the calling thread.
void DecodeAll(const trace::Trace& trace, Plan& plan, unsigned jobs, const DecodeOptions& options) {
  const bool fast_path = !options.libipt_only;
  const auto& progress = options.progress;
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done_bytes{0};
  std::atomic<unsigned> running{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  // The last worker to finish wakes the progress loop at once (a per-test
  // decode runs one such loop per test: a full poll period each would add up).
  std::mutex finish_mutex;
  std::condition_variable finished;
  auto worker = [&] {
    FastPathState fast{{}, StepCache(fast_path ? options.step_cache_entries : 0)};
    for (size_t i = next++; i < plan.pieces.size(); i = next++) {
      try {
        DecodePiece(trace, plan, plan.pieces[i], fast_path ? &fast : nullptr);
        Fold(plan, plan.pieces[i]);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
      const Stretch& s = plan.pieces[i].stretch;
      done_bytes += std::min(s.stop_offset, s.end) - s.begin;
    }
    plan.step_lookups += fast.steps.lookups();
    plan.step_misses += fast.steps.misses();
    std::lock_guard<std::mutex> lock(finish_mutex);
    if (--running == 0) finished.notify_all();
  };
  const unsigned threads = std::max(1u, std::min<unsigned>(jobs, plan.pieces.size()));
  if (threads == 1 && !progress) {
    running = 1;
    worker();
  } else {
    std::vector<std::thread> pool;
    running = threads;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    std::unique_lock<std::mutex> lock(finish_mutex);
    while (running > 0) {
      if (progress) {
        lock.unlock();
        progress(done_bytes, plan.total_bytes);
        lock.lock();
      }
      finished.wait_for(lock, std::chrono::milliseconds(100), [&] { return running == 0; });
    }
    lock.unlock();
    for (std::thread& t : pool) t.join();
    if (progress) progress(plan.total_bytes, plan.total_bytes);
  }
  if (failure) std::rethrow_exception(failure);
}

unsigned Jobs(const DecodeOptions& options) {
  if (options.jobs) return options.jobs;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

std::string GapKindName(GapKind kind) {
  switch (kind) {
    case GapKind::kOverflow:
      return "overflow";
    case GapKind::kLostData:
      return "lost-data";
    case GapKind::kNoImage:
      return "no-image";
    case GapKind::kDecodeError:
      return "decode-error";
  }
  return "?";
}

namespace {

// Decode() of the |selected| queues, with |loss_gaps| as the recorded losses.
ExecutionProfile DecodeQueues(const trace::Trace& trace, const DecodeOptions& options,
                              const QueueSelection& selected, std::vector<Gap> loss_gaps) {
  ExecutionProfile profile;
  DecodeContext context(trace, options);
  const unsigned jobs = Jobs(options);
  Plan plan;
  BuildPlan(trace, context, jobs, options.stretch_bytes, plan, selected);
  DecodeAll(trace, plan, jobs, options);

  // Merge in stream order. Where a stretch stopped at its bound and the next
  // one continues there, the edge between them (a conditional branch at the
  // end of one, the next block at the start of the other) is restored. The
  // counts of all stretches decoded with one image are summed first and
  // translated once.
  for (size_t j = 0; j < plan.pieces.size(); ++j) {
    Piece& p = plan.pieces[j];
    const bool has_next = j + 1 < plan.pieces.size() && plan.pieces[j + 1].queue == p.queue;
    if (has_next && p.loop.stopped_at_bound && p.counts.pending_end &&
        plan.pieces[j + 1].stretch.continues && plan.pieces[j + 1].counts.first_ip)
      ++plan.by_image[plan.queues[p.queue].images[p.epoch]]
            .edges[{*p.counts.pending_end, *plan.pieces[j + 1].counts.first_ip}];
    profile.decoded_bytes += p.loop.decoded_bytes;
    if (p.by_libipt) profile.libipt_stretch_bytes += p.stretch.end - p.stretch.begin;
    profile.instructions += p.counts.instructions;
    const CodeImage& image = *plan.queues[p.queue].images[p.epoch];
    for (std::vector<Gap>* gaps : {&p.loop.gaps, &p.overflows})
      for (Gap& gap : *gaps) {
        gap.location = image.Locate(gap.ip);
        profile.gaps.push_back(std::move(gap));
      }
  }
  ProfileBuilder builder;
  profile.trace_bytes = plan.total_bytes;
  profile.fast_path_step_lookups = plan.step_lookups;
  profile.fast_path_step_misses = plan.step_misses;
  for (const auto& [image, counts] : plan.by_image) builder.Add(counts, *image, profile);
  for (Gap& gap : loss_gaps) profile.gaps.push_back(std::move(gap));
  builder.MoveInto(profile);
  profile.modules = std::move(context.modules.modules());
  profile.warnings.insert(profile.warnings.begin(), context.warnings.begin(),
                          context.warnings.end());
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

}  // namespace

ExecutionProfile Decode(const trace::Trace& trace, const DecodeOptions& options) {
  return DecodeQueues(trace, options, {}, RecordedLossGaps(trace));
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
  std::vector<TestProfile> out;
  for (const auto& [name, queues] : tests)
    out.push_back({name, DecodeQueues(trace, options, queues, std::move(losses_of_test[name]))});
  return out;
}

void ListInstructions(const trace::Trace& trace, const std::function<void(uint64_t ip)>& on_insn,
                      const std::function<void(const Gap&)>& on_gap, const DecodeOptions& options) {
  DecodeContext context(trace, options);
  Plan plan;
  BuildPlan(trace, context, 1, options.stretch_bytes, plan);
  for (Piece& piece : plan.pieces) {
    const QueuePlan& q = plan.queues[piece.queue];
    const Stretch& s = piece.stretch;
    piece.image = q.images[piece.epoch]->NewDecoderImage();
    std::vector<uint8_t> scratch;
    auto bytes = q.stream->Range(s.begin, s.end, scratch);
    const uint64_t stop = s.stop_offset == UINT64_MAX ? UINT64_MAX : s.stop_offset - s.begin;
    LoopResult loop = RunDecodeLoop<InsnApi>(
        MakeConfig(trace, bytes), piece.image, q.queue->idx,
        [&](const pt_insn& insn) { on_insn(insn.ip); }, [](const pt_event&, uint64_t) {}, s.begin,
        stop);
    for (const Gap& gap : loop.gaps) on_gap(gap);
  }
}

}  // namespace hwcov::decoder
