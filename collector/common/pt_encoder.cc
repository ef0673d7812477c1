#include "pt_encoder.h"

#include <intel-pt.h>

#include <string>

namespace hwcov::collector {
namespace {

constexpr size_t kChunkBytes = 1 << 20;
constexpr uint64_t kDrainIntervalNs = 1'000'000'000;  // see EmitPsb
constexpr uint8_t kTnt8Max = 6;
constexpr uint8_t kTnt64Max = 47;

bool IsCanonical(uint64_t ip) {
  const uint64_t upper = ip >> 47;
  return upper == 0 || upper == 0x1ffff;
}

// Picks the shortest IP compression libipt reconstructs against |last|.
pt_ip_compression Compression(uint64_t ip, std::optional<uint64_t> last) {
  if (last) {
    if ((ip >> 16) == (*last >> 16)) return pt_ipc_update_16;
    if ((ip >> 32) == (*last >> 32)) return pt_ipc_update_32;
  }
  if (IsCanonical(ip)) return pt_ipc_sext_48;
  if (last && (ip >> 48) == (*last >> 48)) return pt_ipc_update_48;
  return pt_ipc_full;
}

}  // namespace

PtEncoder::PtEncoder(Sink sink, uint64_t psb_period, Clock clock, PtEncoding encoding)
    : sink_(std::move(sink)),
      clock_(std::move(clock)),
      encoding_(encoding),
      buffer_(kChunkBytes),
      psb_period_(psb_period) {
  pt_config config;
  pt_config_init(&config);
  config.begin = buffer_.data();
  config.end = buffer_.data() + buffer_.size();
  encoder_ = pt_alloc_encoder(&config);
  if (!encoder_) throw Error("cannot allocate libipt's packet encoder");
}

PtEncoder::~PtEncoder() { pt_free_encoder(encoder_); }

void PtEncoder::Emit(const void* packet_ptr) {
  auto* packet = const_cast<pt_packet*>(static_cast<const pt_packet*>(packet_ptr));
  int written = pt_enc_next(encoder_, packet);
  if (written == -pte_eos) {
    Drain();
    written = pt_enc_next(encoder_, packet);
  }
  if (written < 0)
    throw Error(std::string("Intel PT encoder: ") + pt_errstr(pt_errcode(written)) +
                " (packet type " + std::to_string(packet->type) + ")");
  total_bytes_ += static_cast<uint64_t>(written);
}

void PtEncoder::Drain() {
  uint64_t offset = 0;
  pt_enc_get_offset(encoder_, &offset);
  if (offset) sink_(std::span<const uint8_t>(buffer_.data(), offset));
  pt_enc_sync_set(encoder_, 0);
}

void PtEncoder::EmitPsb(std::optional<uint64_t> fup_ip) {
  FlushTnt();
  const uint64_t now = clock_ ? clock_() : 0;
  // Hand the chunk over at a sync point every so often rather than only when
  // 1 MiB is full: a recording killed with SIGKILL then loses at most the
  // last interval of trace, not everything still held here.
  if (clock_ && now - last_drain_ >= kDrainIntervalNs) {
    Drain();
    last_drain_ = now;
  }
  pt_packet p{};
  p.type = ppt_psb;
  Emit(&p);
  if (clock_) {
    p = {};
    p.type = ppt_tsc;
    p.payload.tsc.tsc = now & ((uint64_t{1} << 56) - 1);
    Emit(&p);
  }
  p = {};
  p.type = ppt_mode;
  p.payload.mode.leaf = pt_mol_exec;
  p.payload.mode.bits.exec = pt_set_exec_mode(ptem_64bit);
  Emit(&p);
  last_ip_.reset();
  ret_count_ = 0;
  if (fup_ip) EmitTip(ppt_fup, fup_ip);
  p = {};
  p.type = ppt_psbend;
  Emit(&p);
  bytes_at_last_psb_ = total_bytes_;
}

void PtEncoder::EmitTip(int type, std::optional<uint64_t> ip) {
  FlushTnt();
  pt_packet p{};
  p.type = static_cast<pt_packet_type>(type);
  if (ip) {
    p.payload.ip.ipc = Compression(*ip, last_ip_);
    p.payload.ip.ip = *ip;
    last_ip_ = *ip;
  } else {
    p.payload.ip.ipc = pt_ipc_suppressed;
  }
  Emit(&p);
}

void PtEncoder::AddTnt(bool taken) {
  tnt_bits_ = tnt_bits_ << 1 | (taken ? 1 : 0);
  if (++tnt_count_ == (encoding_.long_tnt ? kTnt64Max : kTnt8Max)) FlushTnt();
}

void PtEncoder::FlushTnt() {
  if (!tnt_count_) return;
  pt_packet p{};
  p.type = tnt_count_ <= kTnt8Max ? ppt_tnt_8 : ppt_tnt_64;
  p.payload.tnt.bit_size = tnt_count_;
  p.payload.tnt.payload = tnt_bits_;
  tnt_count_ = 0;
  tnt_bits_ = 0;
  Emit(&p);
}

void PtEncoder::PushReturn(uint64_t ip) {
  ret_top_ = static_cast<uint8_t>((ret_top_ + 1) % ret_stack_.size());
  ret_stack_[ret_top_] = ip;
  if (ret_count_ < ret_stack_.size()) ++ret_count_;
}

void PtEncoder::Enable(uint64_t ip) {
  if (!started_) {
    EmitPsb(std::nullopt);
    started_ = true;
  }
  pt_packet p{};
  p.type = ppt_mode;
  p.payload.mode.leaf = pt_mol_exec;
  p.payload.mode.bits.exec = pt_set_exec_mode(ptem_64bit);
  Emit(&p);
  EmitTip(ppt_tip_pge, ip);
  enabled_ = true;
}

void PtEncoder::Executed(uint64_t ip, const InsnInfo& insn, uint64_t next_ip) {
  if (!enabled_) Enable(ip);
  resume_ip_ = next_ip;
  const uint64_t fall_through = ip + insn.length;
  switch (insn.kind) {
    case InsnKind::kOther:
    case InsnKind::kDirectJump:
      break;
    case InsnKind::kCondJump:
      AddTnt(next_ip != fall_through);
      break;
    case InsnKind::kDirectCall:
      if (insn.target != fall_through) PushReturn(fall_through);
      break;
    case InsnKind::kIndirectJump:
      EmitTip(ppt_tip, next_ip);
      break;
    case InsnKind::kIndirectCall:
      PushReturn(fall_through);
      EmitTip(ppt_tip, next_ip);
      break;
    case InsnKind::kReturn:
      if (encoding_.return_compression && ret_count_ && ret_stack_[ret_top_] == next_ip) {
        ret_top_ = static_cast<uint8_t>((ret_top_ + ret_stack_.size() - 1) % ret_stack_.size());
        --ret_count_;
        AddTnt(true);
      } else {
        EmitTip(ppt_tip, next_ip);
      }
      break;
    case InsnKind::kFarTransfer:
      // SYSCALL and friends leave user mode: an IP-less TIP.PGD binds to them.
      EmitTip(ppt_tip_pgd, std::nullopt);
      enabled_ = false;
      return;
  }
  if (total_bytes_ - bytes_at_last_psb_ >= psb_period_) EmitPsb(next_ip);
}

void PtEncoder::Left(uint64_t ip, const InsnInfo& insn, uint64_t next_ip) {
  if (!enabled_) Enable(ip);
  // libipt's block decoder pushes a call's return address before the disable
  // binds and its instruction decoder does not: an empty mirror keeps both
  // from ever seeing a compressed return for it.
  if (insn.kind == InsnKind::kDirectCall || insn.kind == InsnKind::kIndirectCall) ret_count_ = 0;
  EmitTip(ppt_tip_pgd, next_ip);
  enabled_ = false;
}

void PtEncoder::Sync() {
  if (!started_) return;
  EmitPsb(enabled_ ? std::optional<uint64_t>(resume_ip_) : std::nullopt);
}

void PtEncoder::Interrupted(uint64_t ip) {
  if (!enabled_) return;
  EmitTip(ppt_fup, ip);
  EmitTip(ppt_tip_pgd, std::nullopt);
  enabled_ = false;
}

void PtEncoder::Finish() {
  // Tracing still on (e.g. the program was killed): stop exactly where it
  // stopped, or a decoder would run on past the last executed instruction.
  if (enabled_) Interrupted(resume_ip_);
  FlushTnt();
  Drain();
}

}  // namespace hwcov::collector
