#include "emu_converter.h"

#include <sys/syscall.h>

#include <algorithm>
#include <deque>
#include <map>
#include <thread>
#include <unordered_map>

#include "code_filter.h"
#include "emu_resume.h"
#include "process_maps.h"
#include "software_pt.h"

namespace hwcov::collector {
namespace {

namespace fs = std::filesystem;

// Events a signal handler may take before it returns through rt_sigreturn
// and tells where the interrupted code resumes.
constexpr size_t kLookaheadEvents = 1 << 20;

// A TB's instructions, classified once.
struct Code {
  std::vector<uint64_t> ip;  // n + 1: ip[n] is the end
  std::vector<InsnInfo> insn;
  bool straight = true;  // every instruction but the last falls through
};

// What the hot loop needs of a TB, in one place.
struct Block {
  const Code* code = nullptr;                   // null: not built yet
  uint64_t first = 0, second = 0, last_ip = 0;  // second: the next instruction or the end
  InsnInfo last;
  uint32_t map = HWCOV_EMU_NONE;
  uint16_t n = 0;
  bool straight = true;
  bool in_filter = false;
  uint32_t cached_next = HWCOV_EMU_NONE;  // a TB id known to be a plain successor
};

// An instance with its fork parents' TBs and mappings resolved by id.
struct View : EmuIds {
  EmuInstance* inst = nullptr;
  std::vector<Block> blocks;  // by TB id, filled on first use (Grow may move them)
  std::set<uint64_t> handlers;
  RangeSet filter;                   // by address, for successors that are not TBs
  size_t own_tbs = 0, own_maps = 0;  // of inst->tbs, inst->maps taken in
};

struct ThreadState {
  uint32_t pid = 0, tid = 0;
  std::unique_ptr<PtEncoder> encoder;
  uint64_t now = 0;         // time of the stream position: TSC packets, AUX records
  uint64_t image_time = 0;  // no later than the current stretch's sync point
  uint32_t last_map = HWCOV_EMU_NONE;
};

class Converter {
 public:
  Converter(const RecordOptions& options, EmuRecording& recording, trace::TraceSink& writer,
            std::function<bool()> finished)
      : options_(options), recording_(recording), writer_(writer), finished_(std::move(finished)) {}

  // Converts each thread stream as it is written, until the run is over
  // and every stream is done.
  RecordStats Run() {
    std::set<fs::path> done;
    for (;;) {
      const bool over = finished_();
      recording_.Refresh();
      bool progress = false;
      for (EmuInstance* inst : recording_.Instances()) {
        if (!inst->traced) continue;
        for (size_t i = 0; i < inst->streams.size(); ++i) {
          const fs::path path = inst->streams[i];
          if (!done.insert(path).second) continue;
          Stream(ViewOf(*inst), path);
          progress = true;
        }
      }
      if (progress) continue;
      if (over) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (auto& [tid, t] : threads_) {
      if (!t->encoder) continue;
      t->encoder->Finish();
      writer_.AddExit(t->pid, t->pid, t->tid, t->tid, t->now);
    }
    stats_.processes = traced_pids_.size();
    return stats_;
  }

 private:
  View& ViewOf(EmuInstance& inst, int depth = 0) {
    auto key = std::make_pair(inst.pid, inst.seq);
    if (auto it = views_.find(key); it != views_.end()) return it->second;
    View view;
    view.inst = &inst;
    if (inst.parent_pid >= 0) {
      View& pv = ViewOf(recording_.ForkParent(inst, depth), depth + 1);
      Grow(pv);
      static_cast<EmuIds&>(view) = InheritedIds(pv, inst);
      view.filter = pv.filter;
      view.handlers = pv.handlers;
    }
    View& v = views_.emplace(key, std::move(view)).first->second;
    const auto pid = static_cast<uint32_t>(inst.pid);
    if (inst.parent_pid < 0) {
      writer_.AddComm(pid, pid, inst.comm, true, inst.time);
      writer_.AddTestName(pid, inst.test_name);
    } else {
      const int ptid = inst.parent_tid > 0 ? inst.parent_tid : inst.parent_pid;
      writer_.AddFork(pid, static_cast<uint32_t>(inst.parent_pid), pid, static_cast<uint32_t>(ptid),
                      inst.time);
    }
    Grow(v);
    return v;
  }

  // Takes in what the instance's table gained: TBs, mappings (written to
  // the sideband as they appear), signal handlers.
  void Grow(View& v) {
    EmuInstance& inst = *v.inst;
    recording_.RefreshTable(inst);
    for (; v.own_maps < inst.maps.size(); ++v.own_maps) {
      const EmuMap& m = inst.maps[v.own_maps];
      const bool in = InCodeFilter(options_, m.path);
      v.maps.push_back(&m);
      v.map_in_filter.push_back(in);
      if (in) v.filter.Add(m.start, m.end);
      ExecMapping mapping{m.start, m.end, m.pgoff, m.path, true};
      writer_.AddMmap(ToMmapEvent(inst.pid, mapping), m.time);
    }
    for (; v.own_tbs < inst.tbs.size(); ++v.own_tbs) {
      const EmuTb& tb = inst.tbs[v.own_tbs];
      if (tb.map != HWCOV_EMU_NONE && tb.map >= v.maps.size())
        throw Error("emu recording: a TB of process " + std::to_string(inst.pid) +
                    " refers to an unknown mapping");
      v.tbs.push_back(&tb);
    }
    v.blocks.resize(v.tbs.size());
    v.handlers.insert(inst.handlers.begin(), inst.handlers.end());
  }

  const Block& BlockOf(View& v, uint32_t id, const fs::path& stream) {
    if (id < v.blocks.size() && v.blocks[id].code) [[likely]]
      return v.blocks[id];
    return BuildBlock(v, id, stream);
  }

  const Block& BuildBlock(View& v, uint32_t id, const fs::path& stream) {
    // A TB is in the table before it runs, but the table may be read
    // before the record's write completed.
    for (int i = 0; id >= v.tbs.size() && i < 200; ++i) {
      if (i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      Grow(v);
    }
    if (id >= v.tbs.size()) ThrowFileError(stream, "unknown TB id " + std::to_string(id));
    const EmuTb& tb = *v.tbs[id];
    auto [it, inserted] = code_.try_emplace(&tb);
    Code& c = it->second;
    if (inserted) {
      uint64_t ip = tb.vaddr;
      size_t offset = 0;
      for (uint16_t i = 0; i < tb.n; ++i) {
        const uint8_t size = tb.sizes[i];
        if (offset + size > tb.bytes.size()) ThrowFileError(stream, "TB bytes cut short");
        InsnInfo insn = ClassifyInsn({tb.bytes.data() + offset, size}, ip);
        if (insn.length == 0) insn.length = size;  // undecodable: still its recorded size
        if (i + 1 < tb.n && insn.kind != InsnKind::kOther) c.straight = false;
        c.ip.push_back(ip);
        c.insn.push_back(insn);
        ip += size;
        offset += size;
      }
      c.ip.push_back(ip);
    }
    if (tb.n == 0) ThrowFileError(stream, "empty TB " + std::to_string(id));
    Block& b = v.blocks[id];
    b.code = &c;
    b.first = c.ip[0];
    b.second = c.ip[1];
    b.last_ip = c.ip[tb.n - 1];
    b.last = c.insn[tb.n - 1];
    b.map = tb.map;
    b.n = tb.n;
    b.straight = c.straight;
    b.in_filter = tb.map != HWCOV_EMU_NONE && v.map_in_filter[tb.map];
    return b;
  }

  ThreadState& ThreadOf(const View& v, const hwcov_emu_stream_header& h) {
    auto& slot = threads_[h.tid];
    if (!slot || slot->pid != static_cast<uint32_t>(v.inst->pid)) {
      const bool continuing = slot != nullptr;  // the same tid after an exec
      if (!slot) slot = std::make_unique<ThreadState>();
      slot->pid = static_cast<uint32_t>(v.inst->pid);
      slot->tid = static_cast<uint32_t>(h.tid);
      if (!continuing && h.tid != v.inst->pid)
        writer_.AddFork(slot->pid, slot->pid, slot->tid, slot->pid, h.start_time);
    }
    ThreadState& t = *slot;
    t.now = std::max({t.now, h.start_time, v.inst->time});
    t.last_map = HWCOV_EMU_NONE;  // a new instance: its mappings from scratch
    t.image_time = 0;
    return t;
  }

  PtEncoder& EncoderOf(ThreadState& t) {
    if (!t.encoder) {
      ThreadState* state = &t;
      t.encoder = StartThreadTrace(writer_, next_queue_++, t.pid, t.tid, options_,
                                   [state] { return state->now; });
      ++stats_.threads;
      traced_pids_.insert(t.pid);
    }
    return *t.encoder;
  }

  // Before the TB's code runs, the decoder's image must hold its mapping:
  // a sync point no earlier than the mapping's record.
  void SyncFor(const View& v, ThreadState& t, const Block& b) {
    if (b.map == t.last_map) return;
    t.last_map = b.map;
    if (b.map == HWCOV_EMU_NONE) return;
    const uint64_t time = v.maps[b.map]->time;
    if (time <= t.image_time) return;
    t.now = std::max(t.now, time);
    if (t.encoder) t.encoder->Sync();
    t.image_time = t.now;
  }

  // All of |b| (in the filter) ran and its last instruction continued at
  // |last_next|.
  void EmitComplete(ThreadState& t, const Block& b, uint64_t last_next, bool last_next_in_filter) {
    if (!b.straight) return Emit(t, b, 0, b.n, last_next, last_next_in_filter);
    PtEncoder& encoder = EncoderOf(t);
    // Only the last instruction can make packets, and the first one when
    // tracing is off (it turns it on).
    if (b.n > 1 && !encoder.enabled()) encoder.Executed(b.first, b.code->insn[0], b.second);
    if (b.last.has_rep && last_next == b.last_ip) {  // one more iteration
      stats_.instructions += b.n - 1u;
      return;
    }
    EncodeInFilter(encoder, b.last_ip, b.last, last_next, last_next_in_filter);
    stats_.instructions += b.n;
  }

  // Instructions [from, to) of |b| ran; the last of them (when it is the
  // block's last) continued at |last_next|.
  void Emit(ThreadState& t, const Block& b, size_t from, size_t to, uint64_t last_next,
            bool last_next_in_filter) {
    if (from >= to || !b.in_filter) return;
    const size_t n = b.n;
    if (b.straight && from == 0 && to == n)
      return EmitComplete(t, b, last_next, last_next_in_filter);
    PtEncoder& encoder = EncoderOf(t);
    const Code& c = *b.code;
    for (size_t i = from; i < to; ++i) {
      const bool last = i == n - 1;
      const uint64_t next = last ? last_next : c.ip[i + 1];
      if (c.insn[i].has_rep && next == c.ip[i]) continue;  // one more iteration
      EncodeInFilter(encoder, c.ip[i], c.insn[i], next, last ? last_next_in_filter : true);
      ++stats_.instructions;
    }
  }

  // Asynchronous exit before the instruction at |ip| ran (a signal, a fault).
  void Interrupt(const View& v, ThreadState& t, uint64_t ip) {
    if (t.encoder && v.filter.Contains(ip)) t.encoder->Interrupted(ip);
  }

  // Whether control may go from the instruction at |ip| to |next| without a
  // signal in between. After a system call anything may come, a signal
  // handler included; an indirect branch may go anywhere, but not to the
  // first instruction of a signal handler: that is a signal's delivery.
  static bool IsSuccessor(const View& v, uint64_t ip, const InsnInfo& insn, uint64_t next) {
    return hwcov::IsSuccessor(ip, insn, next, AfterFarTransfer::kAnywhere)
        .value_or(!v.handlers.contains(next));
  }

  // Where the code interrupted after (or at) |insn| resumes: the address
  // rt_sigreturn returns to, read ahead in the stream; else, when the handler
  // never returns, the static successor if there is one. The instruction
  // itself means it did not complete: a fault on it (a TB's last instruction
  // has no marker after it) or a string instruction between iterations.
  std::optional<uint64_t> ResumeAddress(View& v, const fs::path& path, EmuStreamReader& reader,
                                        std::deque<EmuEvent>& ahead, uint64_t ip,
                                        const InsnInfo& insn) {
    bool after_sigreturn = false;
    std::optional<uint64_t> resumed;
    for (size_t i = 0; i < kLookaheadEvents && !resumed; ++i) {
      if (i == ahead.size()) {
        EmuEvent e;
        if (!reader.Next(e)) break;
        ahead.push_back(e);
      }
      const EmuEvent& e = ahead[i];
      if (e.kind == EmuEvent::kSyscall && e.nr == SYS_rt_sigreturn) after_sigreturn = true;
      if (e.kind == EmuEvent::kEnter && after_sigreturn) resumed = BlockOf(v, e.tb, path).first;
    }
    return ResumeAfterSignal(ip, insn, resumed);
  }

  // |b| ran to its end and |next| began.
  void Complete(View& v, ThreadState& t, const fs::path& path, EmuStreamReader& reader,
                std::deque<EmuEvent>& ahead, uint32_t id, const Block& next, uint32_t next_id) {
    Block& b = v.blocks[id];
    if (IsSuccessor(v, b.last_ip, b.last, next.first)) {
      b.cached_next = next_id;
      Emit(t, b, 0, b.n, next.first, next.in_filter);
      return;
    }
    // A signal was delivered after the block: the handler's entry is a far
    // transfer from where the program would have gone on. (Reading ahead
    // may move the blocks: |b| is kept by value.)
    const Block kept = b;
    Signal(v, t, path, reader, ahead, kept);
  }

  void Signal(View& v, ThreadState& t, const fs::path& path, EmuStreamReader& reader,
              std::deque<EmuEvent>& ahead, const Block& b) {
    const std::optional<uint64_t> resume = ResumeAddress(v, path, reader, ahead, b.last_ip, b.last);
    if (!resume || *resume == b.last_ip) {
      // Interrupted before it completed, or unknown (the handler never
      // returned): the last instruction is taken as interrupted rather than
      // guessed.
      Emit(t, b, 0, b.n - 1, 0, true);
      Interrupt(v, t, b.last_ip);
      return;
    }
    Emit(t, b, 0, b.n, *resume, v.filter.Contains(*resume));
    Interrupt(v, t, *resume);
  }

  // |b| stopped after |started| instructions began; the last did not complete.
  void Partial(View& v, ThreadState& t, const Block& b, uint64_t started) {
    const size_t k = std::min<uint64_t>(std::max<uint64_t>(started, 1), b.n);
    Emit(t, b, 0, k - 1, 0, true);
    Interrupt(v, t, b.code->ip[k - 1]);
  }

  // The stream ended inside |b|: a thread that exited, exec'd or was killed.
  void Last(View& v, ThreadState& t, const hwcov_emu_stream_header& h, uint32_t id,
            const Block& b) {
    uint64_t started = b.n;
    const EmuCounter counter = recording_.Counter(*v.inst);
    if (v.tbs[id]->flags & HWCOV_EMU_TB_POS)
      started = h.cur_pos + 1;
    else if (!counter.multi)
      started = counter.value - h.cur_counter + 1;
    if (started < b.n) return Partial(v, t, b, started);
    if (b.last.kind == InsnKind::kFarTransfer) {  // exit, exit_group, execve
      Emit(t, b, 0, b.n, b.code->ip[b.n], true);
      return;
    }
    // Killed after the block: where its last instruction went is unknown.
    Emit(t, b, 0, b.n - 1, 0, true);
    Interrupt(v, t, b.last_ip);
  }

  void Stream(View& v, const fs::path& path) {
    EmuStreamReader reader(path, finished_);
    const hwcov_emu_stream_header& h = reader.header();
    ThreadState& t = ThreadOf(v, h);
    if (t.encoder) t.encoder->Sync();  // a new program in this thread (exec)
    std::deque<EmuEvent> ahead;
    uint32_t cur_id = HWCOV_EMU_NONE;  // the block being run (by id: Grow moves blocks)
    bool cur_done = true;
    EmuEvent e;
    for (;;) {
      if (!ahead.empty()) {
        e = ahead.front();
        ahead.pop_front();
      } else if (!reader.Next(e)) {
        break;
      }
      switch (e.kind) {
        case EmuEvent::kEnter: {
          const Block& next = BlockOf(v, e.tb, path);
          if (!cur_done) {
            const Block& b = v.blocks[cur_id];
            if (b.cached_next == e.tb) {
              // The transition seen last time from this block: a successor,
              // and the common case.
              if (b.in_filter) EmitComplete(t, b, next.first, next.in_filter);
            } else {
              Complete(v, t, path, reader, ahead, cur_id, next, e.tb);
            }
          }
          const Block& entered = v.blocks[e.tb];  // |next| may have moved
          if (entered.map != t.last_map) SyncFor(v, t, entered);
          cur_id = e.tb;
          cur_done = false;
          break;
        }
        case EmuEvent::kLeftEarly:
          if (!cur_done) Partial(v, t, v.blocks[cur_id], e.value);
          cur_done = true;
          break;
        case EmuEvent::kSyscall:
        case EmuEvent::kSysret:
          t.now = std::max(t.now, e.value);
          break;
        case EmuEvent::kPartial:
        case EmuEvent::kTransition:
        case EmuEvent::kResumed:
          ThrowFileError(path, "a counting-mode event in a trace recording");
      }
    }
    if (!cur_done) Last(v, t, h, cur_id, v.blocks[cur_id]);
  }

  const RecordOptions& options_;
  EmuRecording& recording_;
  trace::TraceSink& writer_;
  std::function<bool()> finished_;
  std::map<std::pair<int, unsigned>, View> views_;
  std::unordered_map<const EmuTb*, Code> code_;
  std::map<int32_t, std::unique_ptr<ThreadState>> threads_;
  std::set<uint32_t> traced_pids_;
  uint32_t next_queue_ = 0;
  RecordStats stats_;
};

}  // namespace

RecordStats ConvertEmuRecording(EmuRecording& recording, const RecordOptions& options,
                                trace::TraceSink& writer, std::function<bool()> finished) {
  return Converter(options, recording, writer, std::move(finished)).Run();
}

}  // namespace hwcov::collector
