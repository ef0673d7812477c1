#include "fast_decode.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "packet_parser.h"

namespace hwcov::decoder {
namespace {

// libipt's return stack: a ring of 64 entries that overwrites the oldest.
constexpr int kReturnStackSize = 64;

// Block ids of calls, newest on top, in a ring of kReturnStackSize.
class CallRing {
 public:
  void Push(int32_t call) {
    calls_[top_] = call;
    top_ = (top_ + 1) % kReturnStackSize;
    size_ = std::min(size_ + 1, kReturnStackSize);
  }
  // The newest, removed, or -1.
  int32_t Pop() {
    if (size_ == 0) return -1;
    top_ = (top_ + kReturnStackSize - 1) % kReturnStackSize;
    --size_;
    return calls_[top_];
  }
  // Forgets all but the newest |n|.
  void KeepNewest(int n) { size_ = std::min(size_, n); }

 private:
  int32_t calls_[kReturnStackSize] = {};
  int top_ = 0;
  int size_ = 0;
};

// A walk this long without a packet is a loop with no exit in the trace
// (or a corrupt one): libipt's decoder gets to deal with it.
constexpr uint64_t kMaxBlocksWithoutPacket = uint64_t{1} << 24;
// TNT bits per step: a TNT-64 packet's 47 are looked up in pieces, so that
// the steps of a program's hot paths fit the cache (on the gzip trace of
// docs/benchmarks.md 12 bits gave the fewest lookups plus misses: 0.9% of
// 38 M lookups missed; 47 bits missed 18%, 8 needed 57 M lookups).
constexpr int kStepBits = 12;

// Last-IP decompression (Intel SDM 33.4.2.2), reset at every PSB.
class LastIp {
 public:
  void Reset() { ip_ = 0; }
  // The full IP of |packet|, or nullopt when it is suppressed.
  std::optional<uint64_t> Update(const pt_packet_ip& packet) {
    switch (packet.ipc) {
      case pt_ipc_suppressed:
        return std::nullopt;
      case pt_ipc_update_16:
        ip_ = (ip_ & ~uint64_t{0xffff}) | (packet.ip & 0xffff);
        break;
      case pt_ipc_update_32:
        ip_ = (ip_ & ~uint64_t{0xffffffff}) | (packet.ip & 0xffffffff);
        break;
      case pt_ipc_update_48:
        ip_ = (ip_ & ~uint64_t{0xffffffffffff}) | (packet.ip & 0xffffffffffff);
        break;
      case pt_ipc_sext_48:
        ip_ = static_cast<uint64_t>(static_cast<int64_t>(packet.ip << 16) >> 16);
        break;
      case pt_ipc_full:
        ip_ = packet.ip;
        break;
    }
    return ip_;
  }

 private:
  uint64_t ip_ = 0;
};

// The execution state of one stretch: where the flow is, the return stack,
// and the counts, mirroring what libipt's block decoder would report.
class Walker {
 public:
  Walker(BlockMap& blocks, StepCache& steps) : blocks_(blocks), steps_(steps) {}

  bool enabled() const { return enabled_; }

  // Tracing starts at |ip| (a PSB+ with a FUP, or TIP.PGE).
  void Enable(uint64_t ip) {
    enabled_ = true;
    MoveTo(ip);
  }

  // A non-status event (enable, disable): no edge spans it, so the outcome
  // of a conditional branch just before it does not count (libipt's block
  // decoder learns outcomes from where the next block starts).
  void Interrupt() {
    Unpend();
    last_ = kNone;
  }

  // The |n| bits of a TNT packet, first branch in bit n-1: conditional
  // branches and compressed returns. The hot loop of the decoder: one step
  // of the cache per packet, or a few when the packet returns from calls
  // made before it.
  bool Tnt(uint64_t bits, int n) {
    if (!steps_.enabled()) return TntBitByBit(bits, n);
    while (n > 0) {
      if (cur_ < 0 && !Resolve()) return TntBitByBit(bits, n);
      const int chunk = std::min(n, kStepBits);
      const uint64_t piece = (bits >> (n - chunk)) & ((uint64_t{1} << chunk) - 1);
      const uint64_t key = Step::Key(cur_, piece, chunk);
      Step* step = steps_.Find(key);
      if (!step) {
        // A step seen once is walked, not built: building costs the same
        // walk, and evicting it later adds its counts a second time.
        if (!steps_.Admit(key)) {
          if (!TntBitByBit(piece, chunk)) return false;
          n -= chunk;
          continue;
        }
        Step built;
        StepDetail detail;
        StepCalls calls;
        if (!BuildStep(cur_, piece, chunk, built, detail, calls)) return TntBitByBit(bits, n);
        built.key = key;
        step = &steps_.Insert(built, detail, calls, blocks_);
      }
      ApplyStep(*step);
      n -= step->consumed;
      if (step->external_return) {
        if (!CompressedReturn(static_cast<int>((bits >> (n - 1)) & 1))) return false;
        --n;
      }
    }
    return true;
  }

  // The reference walk: one loop iteration per bit.
  bool TntBitByBit(uint64_t bits, int n) {
    for (int i = n - 1; i >= 0; --i) {
      const int taken = static_cast<int>((bits >> i) & 1);
      if (cur_ < 0 || blocks_[cur_].kind != InsnKind::kCondJump) {
        if (!Advance()) return false;
        if (blocks_[cur_].kind != InsnKind::kCondJump) {
          if (!CompressedReturn(taken)) return false;
          continue;
        }
      }
      const FastBlock& b = blocks_[cur_];
      // Counted now, taken back by Unpend() if an event comes first.
      ++blocks_.counters(cur_).n[BlockCounters::kFellThrough + taken];
      if (!first_ip_) first_ip_ = b.ip;
      pending_ = cur_;
      pending_taken_ = taken;
      last_ = cur_;
      const int32_t next = b.successor[taken];
      if (next >= 0) {
        cur_ = next;
      } else if (!Follow(cur_, taken)) {
        return false;
      }
    }
    return true;
  }

  // TIP: an indirect branch or an uncompressed return.
  bool Tip(uint64_t ip) {
    if (!Advance()) return false;
    const InsnKind kind = blocks_[cur_].kind;
    if (kind != InsnKind::kIndirectJump && kind != InsnKind::kIndirectCall &&
        kind != InsnKind::kReturn)
      return false;
    const int32_t from = cur_;
    Emit(from);
    if (kind == InsnKind::kIndirectCall) Push(from);
    const int32_t call = kind == InsnKind::kReturn ? predicted_.Pop() : -1;
    const FastBlock& b = blocks_[from];
    if (b.successor[1] >= 0 && b.indirect_target == ip) {
      cur_ = b.successor[1];
      return true;
    }
    // A return to another place than last time: most go back to the last
    // open call, which saves looking |ip| up.
    const int32_t returned =
        call >= 0 && blocks_[call].next_ip == ip ? blocks_.Successor(call, 0) : -1;
    if (returned >= 0) {
      cur_ = returned;
    } else {
      MoveTo(ip);
      if (!Resolve()) return true;  // no code there yet: the next stretch's image may have it
    }
    blocks_[from].successor[1] = cur_;
    blocks_[from].indirect_target = ip;
    return true;
  }

  // TIP.PGD without a FUP before it: tracing stops at the next branch that
  // needs trace, or at a direct branch to |ip| (a suppressed IP binds only
  // to a far transfer, as in libipt).
  bool Disable(std::optional<uint64_t> ip) {
    for (uint64_t steps = 0; steps < kMaxBlocksWithoutPacket; ++steps) {
      if (!Resolve()) return false;
      const FastBlock& b = blocks_[cur_];
      const InsnKind kind = b.kind;
      if (IsDirect(kind)) {
        const bool binds = ip && b.target == *ip;
        if (binds) {
          Emit(cur_);
          // libipt's block decoder records the call before the disable binds.
          if (kind == InsnKind::kDirectCall && b.target != b.next_ip) Push(cur_);
          return Disabled();
        }
        if (!FollowDirect()) return false;
        continue;
      }
      if (!ip && kind != InsnKind::kFarTransfer) return false;
      Emit(cur_);
      if (kind == InsnKind::kIndirectCall) Push(cur_);
      return Disabled();
    }
    return false;
  }

  // Execution up to, not including, |ip| needs no packet (a FUP: an
  // asynchronous event, or the position stated in a PSB+).
  bool WalkTo(uint64_t ip) {
    for (uint64_t steps = 0; steps < kMaxBlocksWithoutPacket; ++steps) {
      // Without building its block: it may have no image yet.
      if (cur_ < 0 && ip == cur_ip_) return true;
      if (!Resolve()) return false;
      const FastBlock& b = blocks_[cur_];
      if (ip == b.ip) return true;
      if (ip > b.ip && ip <= b.end_ip) return EmitPartial(ip);
      if (!IsDirect(b.kind) || !FollowDirect()) return false;
    }
    return false;
  }

  // Whether the code where execution is can be decoded (its block built).
  bool HasCodeHere() { return Resolve(); }

  // Async disable at the FUP walked to.
  bool Disabled() {
    enabled_ = false;
    Interrupt();
    return true;
  }

  // Commits the stretch's block counts to the map's totals; what only this
  // stretch knows (partial blocks, its ends, its instructions) goes to
  // |counts|.
  void Flush(RuntimeCounts& counts) {
    // Where the stretch stopped, flow goes on: the merge joins the last
    // block to the next stretch's first, as for libipt's blocks.
    if (last_ == kPartial)
      counts.pending_end = last_partial_end_;
    else if (last_ >= 0)
      counts.pending_end = blocks_[last_].end_ip;
    Unpend();
    steps_.Expand(blocks_);
    counts.instructions += blocks_.CommitStretch();
    for (const auto& [range, partial] : partials_) {
      RuntimeBlock& total = counts.blocks[range];
      total.count += partial.count;
      total.instructions = partial.instructions;
      counts.instructions += partial.count * partial.instructions;
    }
    if (first_ip_) counts.first_ip = first_ip_;
    partials_.clear();
  }

  void Discard() {
    steps_.Discard();
    blocks_.DropStretch();
    partials_.clear();
  }

 private:
  // Follows direct jumps and calls to the next block whose end needs a packet.
  bool Advance() {
    for (uint64_t steps = 0; steps < kMaxBlocksWithoutPacket; ++steps) {
      if (!Resolve()) return false;
      if (!IsDirect(blocks_[cur_].kind)) return true;
      if (!FollowDirect()) return false;
    }
    return false;
  }

  bool FollowDirect() {
    const FastBlock& b = blocks_[cur_];
    Emit(cur_);
    if (b.kind == InsnKind::kDirectCall && b.target != b.next_ip) Push(cur_);
    return Follow(cur_, 1);
  }

  // Moves to the successor |which| of block |id|.
  bool Follow(int32_t id, int which) {
    const FastBlock& b = blocks_[id];
    const uint64_t ip = which ? b.target : b.next_ip;
    const int32_t next = blocks_.Successor(id, which);
    MoveTo(ip);
    cur_ = next;
    return true;
  }

  // What TntBitByBit() would do from block |start| over the |n| bits of
  // |bits|, worked out without touching the walk's state, up to the end of
  // the bits or a compressed return to a call made before the step (its
  // target is on the return stack: the step ends there). False when a step
  // cannot describe it (no code, an unexpected instruction, a walk that uses
  // no bit): the bit-by-bit walk takes it and finds the same thing.
  bool BuildStep(int32_t start, uint64_t bits, int n, Step& step, StepDetail& detail,
                 StepCalls& calls) {
    int32_t cur = start;
    int actions = 0;
    // One more block or branch outcome, unless the step is full.
    auto act = [&](int32_t block, int counter, bool pending) {
      if (++actions > Step::kMaxActions) return false;
      int i = 0;
      StepEffect* e = detail.effect;
      while (i < step.neffects && (e[i].block != block || e[i].counter != counter)) ++i;
      if (i == step.neffects) {
        if (i == Step::kMaxEffects) return false;
        e[step.neffects++] = {block, static_cast<uint16_t>(counter), 0};
      }
      ++e[i].times;
      if (detail.first < 0) detail.first = block;
      step.last = block;
      step.pending = pending;
      return true;
    };
    int i = n - 1;
    for (; i >= 0; --i) {
      const int taken = static_cast<int>((bits >> i) & 1);
      while (IsDirect(blocks_[cur].kind)) {
        const FastBlock& b = blocks_[cur];
        const bool call = b.kind == InsnKind::kDirectCall && b.target != b.next_ip;
        if (call && step.npush == Step::kMaxDepth) goto full;
        if (!act(cur, BlockCounters::kHits, false)) goto full;
        if (call) {
          calls.push[step.npush++] = cur;
          step.depth = std::max(step.depth, step.npush);
        }
        cur = blocks_.Successor(cur, 1);
        if (cur < 0) return false;
      }
      if (blocks_[cur].kind == InsnKind::kCondJump) {
        if (!act(cur, BlockCounters::kFellThrough + taken, true)) goto full;
        step.pending_taken = static_cast<uint8_t>(taken);
        cur = blocks_.Successor(cur, taken);
        if (cur < 0) return false;
        continue;
      }
      if (blocks_[cur].kind != InsnKind::kReturn || !taken) return false;
      if (step.npush == 0) {
        step.external_return = true;
        break;
      }
      if (!act(cur, BlockCounters::kHits, false)) goto full;
      cur = blocks_.Successor(calls.push[--step.npush], 0);
      if (cur < 0) return false;
    }
    step.consumed = static_cast<uint8_t>(n - 1 - i);
    step.end = cur;
    return true;
  full:
    step.consumed = static_cast<uint8_t>(n - 1 - i);
    step.end = cur;
    return step.consumed > 0;
  }

  // What the step's walk does to the walk's state; its counts wait in the
  // cache (StepCache::Expand).
  void ApplyStep(Step& step) {
    steps_.Count(step);
    if (step.neffects) {
      if (!first_ip_) first_ip_ = blocks_[steps_.Detail(step).first].ip;
      last_ = step.last;
      pending_ = step.pending ? step.last : -1;
      pending_taken_ = step.pending_taken;
    }
    if (step.depth) {
      // Entries the step's calls pushed out of the ring are gone, even
      // those it popped again (libipt's ring overwrites the oldest).
      stack_.KeepNewest(kReturnStackSize - step.depth);
      const StepCalls& calls = steps_.Calls(step);
      for (int i = 0; i < step.npush; ++i) Push(calls.push[i]);
    }
    cur_ = step.end;
  }

  // Execution goes on at |ip|. Its block is built when the flow needs it:
  // a trace may leave for code whose mapping only the next stretch's image
  // has (the PSB+ after the branch is that stretch's).
  void MoveTo(uint64_t ip) {
    cur_ = -1;
    cur_ip_ = ip;
  }

  bool Resolve() {
    if (cur_ < 0) cur_ = blocks_.At(cur_ip_);
    return cur_ >= 0;
  }

  // A compressed return: the TNT bit says taken, the return stack where to.
  bool CompressedReturn(int taken) {
    if (blocks_[cur_].kind != InsnKind::kReturn || !taken) return false;
    const int32_t call = Pop();
    if (call < 0) return false;
    Emit(cur_);
    return Follow(call, 0);
  }

  // Block |id| ran to its end (not a conditional branch: see Tnt()).
  void Emit(int32_t id) {
    ++blocks_.counters(id).n[BlockCounters::kHits];
    if (!first_ip_) first_ip_ = blocks_[id].ip;
    pending_ = -1;  // the branch before it went here: its outcome stays
    last_ = id;
  }

  // Takes back the outcome of a conditional branch whose next block did not
  // run in the same flow; the branch itself still ran.
  void Unpend() {
    if (pending_ < 0) return;
    BlockCounters& c = blocks_.counters(pending_);
    --c.n[BlockCounters::kFellThrough + pending_taken_];
    ++c.n[BlockCounters::kHits];
    pending_ = -1;
  }

  // The instructions of the current block before |ip| ran; |ip| is next.
  bool EmitPartial(uint64_t ip) {
    const uint64_t begin = blocks_[cur_].ip;
    uint64_t at = begin, last = begin;
    uint32_t n = 0;
    while (at < ip) {
      const InsnInfo insn = ClassifyInsn(blocks_.image().CodeAt(at, 15), at);
      if (insn.length == 0) return false;
      last = at;
      at += insn.length;
      ++n;
    }
    if (at != ip) return false;
    RuntimeBlock& partial = partials_[{begin, last}];
    ++partial.count;
    partial.instructions = n;
    if (!first_ip_) first_ip_ = begin;
    pending_ = -1;
    last_ = kPartial;
    last_partial_end_ = last;
    MoveTo(ip);
    return true;
  }

  void Push(int32_t call) {
    stack_.Push(call);
    predicted_.Push(call);
  }

  int32_t Pop() {
    predicted_.Pop();
    return stack_.Pop();
  }

  BlockMap& blocks_;
  StepCache& steps_;
  bool enabled_ = false;
  int32_t cur_ = -1;     // the block where execution is, or -1:
  uint64_t cur_ip_ = 0;  // execution is here, its block not built yet (read only then)
  // The conditional branch that ended the last block, until the next runs.
  int32_t pending_ = -1;
  int pending_taken_ = 0;
  std::optional<uint64_t> first_ip_;  // of the first block that ran
  // The last block that ran (for the edge to the next stretch), or:
  static constexpr int32_t kNone = -1;     // none since the last event
  static constexpr int32_t kPartial = -2;  // a partial block ending at last_partial_end_
  int32_t last_ = kNone;
  uint64_t last_partial_end_ = 0;
  CallRing stack_;  // libipt's
  // The calls still open as far as every return says, uncompressed ones
  // too: libipt's stack is popped only by compressed returns (its block
  // decoder leaves it alone at a TIP), so it cannot say where a TIP return
  // goes. Only a guess, checked against the TIP.
  CallRing predicted_;
  std::unordered_map<std::pair<uint64_t, uint64_t>, RuntimeBlock, PairHash> partials_;
};

bool Is64Bit(const pt_packet_mode& mode) {
  return mode.leaf != pt_mol_exec || (mode.bits.exec.csl && !mode.bits.exec.csd);
}

bool InTransaction(const pt_packet_mode& mode) {
  return mode.leaf == pt_mol_tsx && (mode.bits.tsx.intx || mode.bits.tsx.abrt);
}

// The packets of one stretch, in order, parsed inline (packet_parser.h);
// libipt's packet decoder finds the first sync point.
class StretchDecoder {
 public:
  StretchDecoder(const pt_config& config, BlockMap& blocks, StepCache& steps, uint64_t stop_offset)
      : config_(config), walker_(blocks, steps), stop_offset_(stop_offset) {}

  bool Run(RuntimeCounts& counts, LoopResult& result) {
    const bool ok = Decode(result);
    if (ok)
      walker_.Flush(counts);
    else
      walker_.Discard();
    return ok;
  }

 private:
  // The offset of the first PSB, or nullopt.
  std::optional<uint64_t> FirstSync() {
    pt_packet_decoder* decoder = pt_pkt_alloc_decoder(&config_);
    if (!decoder) return std::nullopt;
    std::optional<uint64_t> sync;
    uint64_t offset = 0;
    if (pt_pkt_sync_forward(decoder) >= 0 && pt_pkt_get_sync_offset(decoder, &offset) >= 0)
      sync = offset;
    pt_pkt_free_decoder(decoder);
    return sync;
  }

  bool Decode(LoopResult& result) {
    const uint64_t total = static_cast<uint64_t>(config_.end - config_.begin);
    const std::optional<uint64_t> sync = FirstSync();
    if (!sync) return false;                 // libipt reports the missing PSB
    if (*sync >= stop_offset_) return true;  // all of it is the next stretch's
    pos_ = config_.begin + *sync;
    const uint8_t* const end = config_.end;
    bool stopped = false;
    bool started = false;
    while (pos_ < end) {
      const uint8_t opc = *pos_;
      // TNT-8, most packets by far: any even byte but PAD (0) and the
      // extended opcode (2).
      if ((opc & 1) == 0 && opc > 2) {
        ++pos_;
        const int n = 30 - __builtin_clz(opc);
        if (!AddTnt((opc >> 1) & ~(1u << n), n)) return false;
        continue;
      }
      // TNT-64: 02 a3 and six bytes.
      if (opc == 2 && end - pos_ >= 8 && pos_[1] == 0xa3) {
        uint64_t payload = 0;
        std::memcpy(&payload, pos_ + 2, 6);  // little-endian, as x86
        if (payload < 2) return false;       // libipt: a bad packet
        pos_ += 8;
        const int n = 63 - __builtin_clzll(payload);
        if (!AddTnt(payload & ~(uint64_t{1} << n), n)) return false;
        continue;
      }
      const uint64_t offset = static_cast<uint64_t>(pos_ - config_.begin);
      pt_packet packet;
      const int size = ParsePacket(pos_, end, packet);
      if (size == -pte_eos) break;
      if (size < 0) return false;
      pos_ += size;
      // Packets with no part in the flow leave a run of TNT bits whole.
      if (IsTimingOrPad(packet.type)) continue;
      if (!FlushTnt()) return false;
      if (packet.type == ppt_psb) {
        moved_ = started;
        std::optional<uint64_t> fup;
        if (!ReadPsbPlus(fup)) return false;
        if (offset >= stop_offset_) {
          // The next stretch's PSB+: execution up to its FUP is ours.
          if (fup.has_value() != walker_.enabled()) return false;
          if (fup && !walker_.WalkTo(*fup)) return false;
          stopped = true;
          break;
        }
        if (!started) {
          started = true;
          if (fup) walker_.Enable(*fup);
        } else if (fup.has_value() != walker_.enabled() || (fup && !walker_.WalkTo(*fup))) {
          return false;
        }
        continue;
      }
      if (!Packet(packet)) return false;
      if (packet.type >= ppt_fup && packet.type <= ppt_tnt_64) moved_ = true;
    }
    if (!FlushTnt() || fup_pending_ || mode_pending_) return false;
    // The stream ends with tracing on. Right after the stretch's first PSB+
    // libipt's block decoder reports nothing, unless there is no code where
    // the PSB+ says execution is (its first fetch fails: a gap); otherwise
    // how far it runs on without a packet depends on where its block ended,
    // which the pt_decoder fuzz target found no simple rule for: that
    // stretch is libipt's.
    if (!stopped && walker_.enabled() && (moved_ || !walker_.HasCodeHere())) return false;
    result.decoded_bytes += std::min(total, stop_offset_) - *sync;
    result.stopped_at_bound = stopped;
    return true;
  }

  // The packets after a PSB up to its PSBEND: status only.
  bool ReadPsbPlus(std::optional<uint64_t>& fup) {
    last_ip_.Reset();
    for (;;) {
      pt_packet packet;
      if (pos_ >= config_.end) return false;
      const int size = ParsePacket(pos_, config_.end, packet);
      if (size < 0) return false;
      pos_ += size;
      switch (packet.type) {
        case ppt_psbend:
          return true;
        case ppt_fup:
          fup = last_ip_.Update(packet.payload.ip);
          break;
        case ppt_mode:
          if (!Is64Bit(packet.payload.mode) || InTransaction(packet.payload.mode)) return false;
          break;
        case ppt_pad:
        case ppt_tsc:
        case ppt_tma:
        case ppt_cbr:
        case ppt_mtc:
        case ppt_cyc:
        case ppt_pip:
        case ppt_vmcs:
          break;
        default:
          return false;
      }
    }
  }

  static bool IsTimingOrPad(pt_packet_type type) {
    return type == ppt_pad || type == ppt_tsc || type == ppt_mtc || type == ppt_cyc ||
           type == ppt_tma;
  }

  // The bits of a TNT packet join those of the TNT packets just before it:
  // a run of short packets (what the hardware writes most) is walked as one,
  // with the step cache's whole steps, not one lookup per packet.
  bool AddTnt(uint64_t bits, int n) {
    if (!walker_.enabled() || fup_pending_ || mode_pending_) return false;
    if (tnt_count_ + n > 64 && !FlushTnt()) return false;
    tnt_bits_ = tnt_bits_ << n | bits;  // n < 64: a TNT-64 packet holds 47
    tnt_count_ += n;
    moved_ = true;
    return true;
  }

  bool FlushTnt() {
    if (tnt_count_ == 0) return true;
    const int n = tnt_count_;
    tnt_count_ = 0;
    return walker_.Tnt(tnt_bits_, n);
  }

  bool Packet(const pt_packet& packet) {
    switch (packet.type) {
      case ppt_tnt_8:
      case ppt_tnt_64:
        return AddTnt(packet.payload.tnt.payload, packet.payload.tnt.bit_size) && FlushTnt();
      case ppt_tip: {
        const std::optional<uint64_t> ip = last_ip_.Update(packet.payload.ip);
        if (!walker_.enabled() || fup_pending_ || mode_pending_ || !ip) return false;
        return walker_.Tip(*ip);
      }
      case ppt_tip_pge: {
        const std::optional<uint64_t> ip = last_ip_.Update(packet.payload.ip);
        if (walker_.enabled() || fup_pending_ || !ip) return false;
        mode_pending_ = false;
        walker_.Interrupt();
        walker_.Enable(*ip);
        return true;
      }
      case ppt_tip_pgd: {
        const std::optional<uint64_t> ip = last_ip_.Update(packet.payload.ip);
        if (!walker_.enabled() || mode_pending_) return false;
        if (fup_pending_) {
          fup_pending_ = false;
          return walker_.Disabled();
        }
        return walker_.Disable(ip);
      }
      case ppt_fup: {
        const std::optional<uint64_t> ip = last_ip_.Update(packet.payload.ip);
        if (!walker_.enabled() || fup_pending_ || mode_pending_ || !ip) return false;
        fup_pending_ = true;
        return walker_.WalkTo(*ip);
      }
      case ppt_mode:
        // MODE.Exec binds to the TIP.PGE that follows; anything else
        // (a mode change on a far branch, TSX) is libipt's.
        if (packet.payload.mode.leaf != pt_mol_exec || !Is64Bit(packet.payload.mode)) return false;
        mode_pending_ = true;
        return true;
      default:
        return false;
    }
  }

  const pt_config& config_;
  Walker walker_;
  const uint64_t stop_offset_;
  const uint8_t* pos_ = nullptr;  // the next packet
  LastIp last_ip_;
  // A flow packet or another PSB+ came after the stretch's first PSB+.
  bool moved_ = false;
  bool fup_pending_ = false;   // a FUP waiting for the TIP.PGD it belongs to
  bool mode_pending_ = false;  // a MODE.Exec waiting for its TIP.PGE
  // TNT bits read and not yet walked, the oldest in bit tnt_count_-1.
  uint64_t tnt_bits_ = 0;
  int tnt_count_ = 0;
};

}  // namespace

bool FastDecodeStretch(const pt_config& config, BlockMap& blocks, StepCache& steps,
                       uint64_t stop_offset, RuntimeCounts& counts, LoopResult& result) {
  steps.Bind(&blocks);
  return StretchDecoder(config, blocks, steps, stop_offset).Run(counts, result);
}

}  // namespace hwcov::decoder
