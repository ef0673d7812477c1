#include "sync_points.h"

#include <intel-pt.h>

#include <cstring>

#include "pt_stream.h"

namespace hwcov::decoder {

namespace {

// The PSB packet: 02 82 sixteen times over (libipt finds sync points the same way).
constexpr uint8_t kPsb[16] = {2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82,
                              2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82};

// Reads the PSB+ of the PSB at |point.offset|: its TSC, its FUP, its end.
void ReadPsbPlus(pt_packet_decoder* decoder, SyncPoint& point) {
  if (pt_pkt_sync_set(decoder, point.offset) < 0) return;
  pt_packet packet;
  if (pt_pkt_next(decoder, &packet, sizeof packet) < 0 || packet.type != ppt_psb) return;
  for (;;) {
    if (pt_pkt_next(decoder, &packet, sizeof packet) < 0) return;
    if (packet.type == ppt_tsc) {
      point.tsc = packet.payload.tsc.tsc;
    } else if (packet.type == ppt_fup && packet.payload.ip.ipc != pt_ipc_suppressed) {
      // Last-IP is reset at a PSB, so the FUP here carries a usable address
      // unless it is compressed against nothing (then it is not one we use).
      point.tracing = true;
      point.fup_ip =
          packet.payload.ip.ipc == pt_ipc_sext_48
              ? static_cast<uint64_t>(static_cast<int64_t>(packet.payload.ip.ip << 16) >> 16)
              : packet.payload.ip.ip;
    } else if (packet.type == ppt_psbend) {
      pt_pkt_get_offset(decoder, &point.end);
      return;
    } else if (packet.type == ppt_psb) {
      return;  // a PSB+ cut short
    }
  }
}

}  // namespace

std::vector<SyncPoint> FindSyncPoints(std::span<const uint8_t> bytes) {
  std::vector<SyncPoint> points;
  if (bytes.size() < sizeof kPsb) return points;
  pt_config config;
  pt_config_init(&config);
  config.begin = const_cast<uint8_t*>(bytes.data());
  config.end = const_cast<uint8_t*>(bytes.data() + bytes.size());
  pt_packet_decoder* decoder = pt_pkt_alloc_decoder(&config);
  if (!decoder) return points;
  // A scan for the PSB pattern rather than a walk of every packet: it runs
  // before any decoding starts, on one thread.
  const uint8_t* at = bytes.data();
  const uint8_t* const end = bytes.data() + bytes.size();
  while (at + sizeof kPsb <= end) {
    at = static_cast<const uint8_t*>(std::memchr(at, 0x82, static_cast<size_t>(end - at)));
    if (!at) break;
    if (at == bytes.data() || at + sizeof kPsb - 1 > end ||
        std::memcmp(at - 1, kPsb, sizeof kPsb) != 0) {
      ++at;
      continue;
    }
    SyncPoint& point = points.emplace_back();
    point.offset = point.end = static_cast<uint64_t>(at - 1 - bytes.data());
    ReadPsbPlus(decoder, point);
    at += sizeof kPsb - 1;
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
