// The two-byte opcodes (0x02 0xXX): rare next to TNT, TIP and padding, so
// out of line.
#include "packet_parser.h"

namespace hwcov::decoder::packet_parser_detail {
namespace {

// |size| bytes from |pos|, or -pte_eos.
bool Fits(const uint8_t* pos, const uint8_t* end, int size) { return end - pos >= size; }

}  // namespace

int ParseExtended(const uint8_t* pos, const uint8_t* end, pt_packet& packet) {
  if (end - pos < 2) return -pte_eos;
  const uint8_t ext = pos[1];
  switch (ext) {
    case 0x82:  // PSB: 02 82 seven more times
      if (!Fits(pos, end, 16)) return -pte_eos;
      for (int i = 2; i < 16; i += 2)
        if (pos[i] != 0x02 || pos[i + 1] != 0x82) return -pte_bad_packet;
      return Fixed(packet, ppt_psb, 16);
    case 0xa3: {  // TNT-64
      if (!Fits(pos, end, 8)) return -pte_eos;
      const int error = ReadTnt(packet.payload.tnt, ReadLe(pos + 2, 6));
      if (error < 0) return error;
      return Fixed(packet, ppt_tnt_64, 8);
    }
    case 0x23:
      return Fixed(packet, ppt_psbend, 2);
    case 0xf3:
      return Fixed(packet, ppt_ovf, 2);
    case 0x83:
      return Fixed(packet, ppt_stop, 2);
    case 0x43: {  // PIP
      if (!Fits(pos, end, 8)) return -pte_eos;
      const uint64_t payload = ReadLe(pos + 2, 6);
      packet.payload.pip.nr = payload & 1;
      packet.payload.pip.cr3 = (payload >> 1) << 5;
      return Fixed(packet, ppt_pip, 8);
    }
    case 0x03:  // CBR
      if (!Fits(pos, end, 4)) return -pte_eos;
      packet.payload.cbr.ratio = pos[2];
      return Fixed(packet, ppt_cbr, 4);
    case 0x73: {  // TMA
      if (!Fits(pos, end, 7)) return -pte_eos;
      const uint16_t fc = static_cast<uint16_t>(pos[5] | pos[6] << 8);
      if ((fc & ~0x1ff) || pos[4]) return -pte_bad_packet;
      packet.payload.tma.ctc = static_cast<uint16_t>(pos[2] | pos[3] << 8);
      packet.payload.tma.fc = fc;
      return Fixed(packet, ppt_tma, 7);
    }
    case 0xc8:  // VMCS
      if (!Fits(pos, end, 7)) return -pte_eos;
      packet.payload.vmcs.base = ReadLe(pos + 2, 5) << 12;
      return Fixed(packet, ppt_vmcs, 7);
    case 0x62:
    case 0xe2:  // EXSTOP, with IP when bit 7 is set
      packet.payload.exstop.ip = (ext & 0x80) ? 1 : 0;
      return Fixed(packet, ppt_exstop, 2);
    case 0xc2:  // MWAIT
      if (!Fits(pos, end, 10)) return -pte_eos;
      packet.payload.mwait.hints = static_cast<uint32_t>(ReadLe(pos + 2, 4));
      packet.payload.mwait.ext = static_cast<uint32_t>(ReadLe(pos + 6, 4));
      return Fixed(packet, ppt_mwait, 10);
    case 0x22: {  // PWRE
      if (!Fits(pos, end, 4)) return -pte_eos;
      const uint64_t payload = ReadLe(pos + 2, 2);
      packet.payload.pwre = {};
      packet.payload.pwre.state = static_cast<uint8_t>((payload & 0xf000) >> 12);
      packet.payload.pwre.sub_state = static_cast<uint8_t>((payload & 0xf00) >> 8);
      packet.payload.pwre.hw = (payload & 0x8) ? 1 : 0;
      return Fixed(packet, ppt_pwre, 4);
    }
    case 0xa2: {  // PWRX
      if (!Fits(pos, end, 7)) return -pte_eos;
      const uint64_t payload = ReadLe(pos + 2, 5);
      packet.payload.pwrx = {};
      packet.payload.pwrx.last = static_cast<uint8_t>((payload & 0xf0) >> 4);
      packet.payload.pwrx.deepest = static_cast<uint8_t>(payload & 0xf);
      packet.payload.pwrx.interrupt = (payload & 0x100) ? 1 : 0;
      packet.payload.pwrx.store = (payload & 0x400) ? 1 : 0;
      packet.payload.pwrx.autonomous = (payload & 0x800) ? 1 : 0;
      return Fixed(packet, ppt_pwrx, 7);
    }
    case 0xc3:  // the third opcode byte: MNT
      if (!Fits(pos, end, 3)) return -pte_eos;
      if (pos[2] != 0x88) return -pte_bad_opc;
      if (!Fits(pos, end, 11)) return -pte_eos;
      packet.payload.mnt.payload = ReadLe(pos + 3, 8);
      return Fixed(packet, ppt_mnt, 11);
    default:
      break;
  }
  if ((ext & 0x1f) == 0x12) {  // PTWRITE: 4 or 8 bytes of payload
    const int plc = (ext >> 5) & 0x3;
    if (plc > 1) return -pte_bad_packet;
    const int size = plc ? 8 : 4;
    if (!Fits(pos + 2, end, size)) return -pte_eos;
    packet.payload.ptw.payload = ReadLe(pos + 2, size);
    packet.payload.ptw.plc = static_cast<uint8_t>(plc);
    packet.payload.ptw.ip = (ext & 0x80) ? 1 : 0;
    return Fixed(packet, ppt_ptw, 2 + size);
  }
  return -pte_bad_opc;
}

}  // namespace hwcov::decoder::packet_parser_detail
