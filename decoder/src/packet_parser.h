// Intel PT packets parsed inline: the fast path's packet reader, a switch on
// the first byte (libipt's pt_df_fetch order) and fixed-size reads, instead
// of a call into libipt's packet decoder per packet. It accepts, rejects and
// sizes every byte sequence exactly as libipt 2.0's pt_pkt_next does (with no
// decode callback configured), so a stretch declines or ends where it did
// with libipt's decoder: tests/decoder/packet_parser_test.cc holds it to that
// on real traces and on random bytes.
#pragma once

#include <intel-pt.h>

#include <cstdint>

namespace hwcov::decoder {

namespace packet_parser_detail {

inline uint64_t ReadLe(const uint8_t* pos, int size) {
  uint64_t value = 0;
  for (int i = 0; i < size; ++i) value |= uint64_t{pos[i]} << (8 * i);
  return value;
}

// TNT payload with its stop bit: the bit index of the stop bit is the size.
inline int ReadTnt(pt_packet_tnt& tnt, uint64_t payload) {
  if (payload < 2) return -pte_bad_packet;
  const int size = 63 - __builtin_clzll(payload);
  tnt.payload = payload & ~(uint64_t{1} << size);
  tnt.bit_size = static_cast<uint8_t>(size);
  return 0;
}

inline int IpPacket(pt_packet& packet, pt_packet_type type, const uint8_t* pos,
                    const uint8_t* end) {
  static constexpr int8_t kIpSize[8] = {0, 2, 4, 6, 6, -1, 8, -1};
  const int ipc = pos[0] >> 5;
  const int size = kIpSize[ipc];
  if (size < 0) return -pte_bad_packet;
  if (end - (pos + 1) < size) return -pte_eos;
  packet.type = type;
  packet.size = static_cast<uint8_t>(size + 1);
  packet.payload.ip.ipc = static_cast<pt_ip_compression>(ipc);
  packet.payload.ip.ip = ReadLe(pos + 1, size);
  return size + 1;
}

inline int Fixed(pt_packet& packet, pt_packet_type type, int size) {
  packet.type = type;
  packet.size = static_cast<uint8_t>(size);
  return size;
}

int ParseExtended(const uint8_t* pos, const uint8_t* end, pt_packet& packet);

}  // namespace packet_parser_detail

// Parses the packet at |pos| (pos < end) into |packet|. Returns its size, or
// libipt's negative error code: -pte_eos when it does not fit before |end|,
// -pte_bad_opc for an unknown opcode, -pte_bad_packet for a malformed one.
inline int ParsePacket(const uint8_t* pos, const uint8_t* end, pt_packet& packet) {
  using namespace packet_parser_detail;
  const uint8_t opc = pos[0];
  switch (opc) {
    case 0x00:
      return Fixed(packet, ppt_pad, 1);
    case 0x02:
      return ParseExtended(pos, end, packet);
    case 0x99:  // MODE
      if (end - pos < 2) return -pte_eos;
      {
        // Compared as a byte: an enum may not hold a value it does not name.
        const uint8_t leaf = pos[1] & 0xe0;
        if (leaf == pt_mol_exec) {
          packet.payload.mode.bits.exec.csl = pos[1] & 1;
          packet.payload.mode.bits.exec.csd = (pos[1] >> 1) & 1;
        } else if (leaf == pt_mol_tsx) {
          packet.payload.mode.bits.tsx.intx = pos[1] & 1;
          packet.payload.mode.bits.tsx.abrt = (pos[1] >> 1) & 1;
        } else {
          return -pte_bad_packet;
        }
        packet.payload.mode.leaf = static_cast<pt_mode_leaf>(leaf);
      }
      return Fixed(packet, ppt_mode, 2);
    case 0x19:  // TSC
      if (end - pos < 8) return -pte_eos;
      packet.payload.tsc.tsc = ReadLe(pos + 1, 7);
      return Fixed(packet, ppt_tsc, 8);
    case 0x59:  // MTC
      if (end - pos < 2) return -pte_eos;
      packet.payload.mtc.ctc = pos[1];
      return Fixed(packet, ppt_mtc, 2);
    default:
      break;
  }
  if ((opc & 0x01) == 0) {  // TNT-8
    const int error = ReadTnt(packet.payload.tnt, opc >> 1);
    if (error < 0) return error;
    return Fixed(packet, ppt_tnt_8, 1);
  }
  if ((opc & 0x03) == 0x03) {  // CYC
    const uint8_t* at = pos + 1;
    uint64_t value = opc >> 3;
    int shift = 5;
    for (bool more = opc & 0x04; more;) {
      if (at >= end) return -pte_eos;
      const uint64_t byte = *at++;
      more = byte & 1;
      const uint64_t bits = (byte >> 1) << shift;
      shift += 7;
      if (shift > 64) return -pte_bad_packet;
      value |= bits;
    }
    packet.payload.cyc.value = value;
    return Fixed(packet, ppt_cyc, static_cast<int>(at - pos));
  }
  switch (opc & 0x1f) {
    case 0x0d:
      return IpPacket(packet, ppt_tip, pos, end);
    case 0x1d:
      return IpPacket(packet, ppt_fup, pos, end);
    case 0x11:
      return IpPacket(packet, ppt_tip_pge, pos, end);
    case 0x01:
      return IpPacket(packet, ppt_tip_pgd, pos, end);
    default:
      return -pte_bad_opc;
  }
}

}  // namespace hwcov::decoder
