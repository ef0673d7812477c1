// The resynchronising decode loop of ptxed (libipt's reference tool), written
// once for both of libipt's flow decoders: sync at a PSB, drain events, take
// items until the stream ends or errs, record the error as a gap, resync at
// the next PSB. Items that come with an error are still handed over
// (libipt's "process the block before checking the status" rule).
#pragma once

#include <intel-pt.h>

#include <optional>
#include <vector>

#include "pt_stream.h"

namespace hwcov::decoder {

struct BlockApi {
  using Decoder = pt_block_decoder;
  using Item = pt_block;
  static Decoder* Alloc(const pt_config* c) { return pt_blk_alloc_decoder(c); }
  static void Free(Decoder* d) { pt_blk_free_decoder(d); }
  static int SetImage(Decoder* d, pt_image* i) { return pt_blk_set_image(d, i); }
  static int Sync(Decoder* d) { return pt_blk_sync_forward(d); }
  static int Offset(const Decoder* d, uint64_t* o) { return pt_blk_get_offset(d, o); }
  static int SyncOffset(const Decoder* d, uint64_t* o) { return pt_blk_get_sync_offset(d, o); }
  static int Event(Decoder* d, pt_event* e) { return pt_blk_event(d, e, sizeof *e); }
  static int Next(Decoder* d, Item* i) { return pt_blk_next(d, i, sizeof *i); }
  static bool Valid(const Item& i) { return i.ninsn > 0; }
  static uint64_t Ip(const Item& i) { return i.end_ip; }
};

struct InsnApi {
  using Decoder = pt_insn_decoder;
  using Item = pt_insn;
  static Decoder* Alloc(const pt_config* c) { return pt_insn_alloc_decoder(c); }
  static void Free(Decoder* d) { pt_insn_free_decoder(d); }
  static int SetImage(Decoder* d, pt_image* i) { return pt_insn_set_image(d, i); }
  static int Sync(Decoder* d) { return pt_insn_sync_forward(d); }
  static int Offset(const Decoder* d, uint64_t* o) { return pt_insn_get_offset(d, o); }
  static int SyncOffset(const Decoder* d, uint64_t* o) { return pt_insn_get_sync_offset(d, o); }
  static int Event(Decoder* d, pt_event* e) { return pt_insn_event(d, e, sizeof *e); }
  static int Next(Decoder* d, Item* i) { return pt_insn_next(d, i, sizeof *i); }
  static bool Valid(const Item& i) { return i.iclass != ptic_error; }
  static uint64_t Ip(const Item& i) { return i.ip; }
};

struct LoopResult {
  uint64_t decoded_bytes = 0;
  std::vector<Gap> gaps;
  bool stopped_at_bound = false;  // reached |stop_offset| with flow continuing
};

// on_item(const Api::Item&); on_event(const pt_event&, uint64_t trace_offset).
// Decoding ends at the first status update read past |stop_offset|: the
// next stretch's PSB+, which libipt reports only once execution has reached
// its FUP's IP (a real event peeked early, such as an enable just before the
// PSB, is still this stretch's). Offsets in gaps are relative to |base|, the
// position of config.begin in the queue's stream.
template <typename Api, typename OnItem, typename OnEvent>
LoopResult RunDecodeLoop(const pt_config& config, pt_image* image, uint32_t queue, OnItem&& on_item,
                         OnEvent&& on_event, uint64_t base = 0, uint64_t stop_offset = UINT64_MAX) {
  LoopResult result;
  const uint64_t total = static_cast<uint64_t>(config.end - config.begin);
  typename Api::Decoder* decoder = Api::Alloc(&config);
  if (!decoder) throw Error("cannot allocate a libipt decoder");
  struct Freer {
    typename Api::Decoder* d;
    ~Freer() { Api::Free(d); }
  } freer{decoder};
  Api::SetImage(decoder, image);

  bool synced_before = false;
  uint64_t last_sync = 0;
  std::optional<uint64_t> failed_from;  // sync point of a stretch that ended in an error
  for (;;) {
    int status = Api::Sync(decoder);
    uint64_t sync = total;
    if (status >= 0) Api::SyncOffset(decoder, &sync);
    // An error makes everything since the sync point before it suspect
    // (libipt notices a mismatch only some way after its cause): none of it
    // counts as decoded cleanly, up to the sync point decoding resumes at.
    if (failed_from) {
      result.gaps.back().skipped_bytes = std::min(sync, stop_offset) - *failed_from;
      failed_from.reset();
    }
    if (status < 0) {
      if (!synced_before && total > 0) {
        Gap gap = MakeGap(status == -pte_eos ? -pte_nosync : status, queue, base, 0);
        gap.detail = "no PSB synchronisation point in the stream";
        gap.skipped_bytes = total;
        result.gaps.push_back(gap);
      }
      break;
    }
    if (synced_before && sync <= last_sync) break;  // no progress: we never will
    if (sync >= stop_offset) break;                 // the next epoch's part
    synced_before = true;
    last_sync = sync;

    uint64_t ip = 0;
    bool stopped = false;
    for (;;) {
      while (status >= 0 && (status & pts_event_pending)) {
        pt_event event;
        status = Api::Event(decoder, &event);
        if (status < 0) break;
        uint64_t offset = 0;
        Api::Offset(decoder, &offset);
        if (offset > stop_offset && event.status_update) {
          stopped = true;
          break;
        }
        on_event(event, base + offset);
      }
      if (status < 0 || stopped) break;
      typename Api::Item item{};
      status = Api::Next(decoder, &item);
      if (Api::Valid(item)) {
        on_item(item);
        ip = Api::Ip(item);
      }
      if (status < 0) break;
    }
    uint64_t offset = total;
    if (stopped)
      offset = stop_offset;
    else if (status != -pte_eos)
      Api::Offset(decoder, &offset);
    result.stopped_at_bound = stopped;
    if (status == -pte_eos || stopped) {
      result.decoded_bytes += std::min({offset, total, stop_offset}) - sync;
      break;
    }
    result.gaps.push_back(MakeGap(status, queue, base + offset, ip));
    failed_from = sync;
  }
  return result;
}

}  // namespace hwcov::decoder
