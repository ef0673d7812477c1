// Turns an observed instruction stream into genuine Intel PT packets with
// libipt's encoder, exactly as hardware would have traced it with
// intel_pt//u, branch tracing and return compression on, or as configured
// by PtEncoding (see docs/soft-tracer.md for the packet choices and
// libipt's binding rules).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "hwcov/support.h"

struct pt_encoder;

namespace hwcov::collector {

// What hardware can be told to write differently, and a packet choice: for
// decoders that support neither return compression nor long TNT packets.
struct PtEncoding {
  // Off: every return is a TIP, as with intel_pt's noretcomp config bit.
  bool return_compression = true;
  // Off: only TNT-8 (6 bits a packet), never TNT-64.
  bool long_tnt = true;
};

class PtEncoder {
 public:
  using Sink = std::function<void(std::span<const uint8_t>)>;
  using Clock = std::function<uint64_t()>;

  // |sink| receives the packet stream in chunks; |psb_period| is the number of
  // bytes between PSB+ sync points (hardware's default psb_period=3 is 4 KiB).
  // With a |clock|, every PSB+ carries a TSC packet with its time, so that
  // decoders can order the trace against timestamped sideband.
  explicit PtEncoder(Sink sink, uint64_t psb_period = 4096, Clock clock = nullptr,
                     PtEncoding encoding = {});
  ~PtEncoder();
  PtEncoder(const PtEncoder&) = delete;
  PtEncoder& operator=(const PtEncoder&) = delete;

  // One instruction at |ip| ran and control continued at |next_ip|. Enables
  // tracing at |ip| first if it is disabled.
  void Executed(uint64_t ip, const InsnInfo& insn, uint64_t next_ip);

  // The instruction at |ip| (inside the traced region) transferred control to
  // |next_ip| outside it: TIP.PGD(next_ip), as an address filter does.
  // Tracing resumes with the next Executed().
  void Left(uint64_t ip, const InsnInfo& insn, uint64_t next_ip);

  // A sync point now (PSB+, with TSC when there is a clock): the boundary a
  // decoder needs when the address space changed.
  void Sync();

  // Asynchronous exit from user code (signal delivery) before the instruction
  // at |ip| ran: FUP(ip), TIP.PGD. Tracing resumes with the next Executed().
  void Interrupted(uint64_t ip);

  // Tracing stops after the last Executed(): flushes pending TNT bits and
  // hands the rest to the sink.
  void Finish();

  uint64_t bytes() const { return total_bytes_; }
  // Whether tracing is on (the last instruction's successor is traced).
  bool enabled() const { return enabled_; }

 private:
  void Enable(uint64_t ip);
  void AddTnt(bool taken);
  void FlushTnt();
  void EmitTip(int type, std::optional<uint64_t> ip);
  void EmitPsb(std::optional<uint64_t> fup_ip);
  void Emit(const void* packet);
  void Drain();
  void PushReturn(uint64_t ip);

  Sink sink_;
  Clock clock_;
  PtEncoding encoding_;
  pt_encoder* encoder_ = nullptr;
  std::vector<uint8_t> buffer_;
  uint64_t psb_period_;
  uint64_t total_bytes_ = 0;
  uint64_t bytes_at_last_psb_ = 0;
  uint64_t last_drain_ = 0;  // clock time of the last hand-over to the sink
  bool enabled_ = false;
  uint64_t resume_ip_ = 0;  // where execution continues after the last instruction
  bool started_ = false;
  std::optional<uint64_t> last_ip_;
  uint64_t tnt_bits_ = 0;
  uint8_t tnt_count_ = 0;
  // Mirror of libipt's 64-entry return stack (pt_retstack), reset at each PSB
  // so that a decoder syncing there never meets a return without its call.
  std::array<uint64_t, 64> ret_stack_{};
  uint8_t ret_top_ = 0;
  uint8_t ret_count_ = 0;
};

}  // namespace hwcov::collector
