#include "sync_points.h"

#include <intel-pt.h>

#include "pt_stream.h"

namespace hwcov::decoder {

std::vector<SyncPoint> FindSyncPoints(std::span<const uint8_t> bytes) {
  std::vector<SyncPoint> points;
  if (bytes.empty()) return points;
  pt_config config;
  pt_config_init(&config);
  config.begin = const_cast<uint8_t*>(bytes.data());
  config.end = const_cast<uint8_t*>(bytes.data() + bytes.size());
  pt_packet_decoder* decoder = pt_pkt_alloc_decoder(&config);
  if (!decoder) return points;
  bool in_psb = false;
  while (pt_pkt_sync_forward(decoder) >= 0) {
    for (;;) {
      uint64_t offset = 0;
      pt_pkt_get_offset(decoder, &offset);
      pt_packet packet;
      if (pt_pkt_next(decoder, &packet, sizeof packet) < 0) break;
      if (packet.type == ppt_psb) {
        points.push_back({offset, offset, std::nullopt, false});
        in_psb = true;
      } else if (in_psb && packet.type == ppt_tsc) {
        points.back().tsc = packet.payload.tsc.tsc;
      } else if (in_psb && packet.type == ppt_fup &&
                 packet.payload.ip.ipc != pt_ipc_suppressed) {
        // Last-IP is reset at a PSB, so the FUP here carries a usable address
        // unless it is compressed against nothing (then it is not one we use).
        points.back().tracing = true;
        points.back().fup_ip = packet.payload.ip.ipc == pt_ipc_sext_48
                                   ? static_cast<uint64_t>(
                                         static_cast<int64_t>(packet.payload.ip.ip << 16) >> 16)
                                   : packet.payload.ip.ip;
      } else if (in_psb && packet.type == ppt_psbend) {
        pt_pkt_get_offset(decoder, &points.back().end);
        in_psb = false;
      }
    }
    in_psb = false;
  }
  pt_pkt_free_decoder(decoder);
  return points;
}

std::vector<SyncPoint> FindSyncPoints(const QueueStream& stream) {
  // Windows overlap by more than a PSB+ is long, so that a sync point on a
  // window's edge is read whole by the window it starts in.
  constexpr uint64_t kWindow = 4 << 20, kOverlap = 4096;
  std::vector<SyncPoint> points;
  std::vector<uint8_t> scratch;
  for (uint64_t begin = 0; begin < stream.size(); begin += kWindow) {
    const uint64_t end = std::min(stream.size(), begin + kWindow + kOverlap);
    for (SyncPoint p : FindSyncPoints(stream.Range(begin, end, scratch))) {
      if (p.offset >= kWindow) break;  // the next window's
      p.offset += begin;
      p.end += begin;
      points.push_back(p);
    }
    stream.Release(begin, begin + kWindow);
  }
  return points;
}

}  // namespace hwcov::decoder
