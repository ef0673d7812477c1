// CountPackets(): the packets of one queue by kind, for checking hwcov's view
// of a trace against `perf script -D` (hwcov dump, tests).
#include <memory>

#include "pt_stream.h"

namespace hwcov::decoder {
namespace {

// perf's names (tools/perf/util/intel-pt-decoder/intel-pt-pkt-decoder.c).
const char* PacketName(const pt_packet& packet) {
  switch (packet.type) {
    case ppt_pad:
      return "PAD";
    case ppt_psb:
      return "PSB";
    case ppt_psbend:
      return "PSBEND";
    case ppt_fup:
      return "FUP";
    case ppt_tip:
      return "TIP";
    case ppt_tip_pge:
      return "TIP.PGE";
    case ppt_tip_pgd:
      return "TIP.PGD";
    case ppt_tnt_8:
    case ppt_tnt_64:
      return "TNT";
    case ppt_mode:
      return packet.payload.mode.leaf == pt_mol_tsx ? "MODE.TSX" : "MODE.Exec";
    case ppt_pip:
      return "PIP";
    case ppt_vmcs:
      return "VMCS";
    case ppt_cbr:
      return "CBR";
    case ppt_tsc:
      return "TSC";
    case ppt_tma:
      return "TMA";
    case ppt_mtc:
      return "MTC";
    case ppt_cyc:
      return "CYC";
    case ppt_stop:
      return "TraceSTOP";
    case ppt_ovf:
      return "OVF";
    case ppt_mnt:
      return "MNT";
    case ppt_exstop:
      return "EXSTOP";
    case ppt_mwait:
      return "MWAIT";
    case ppt_pwre:
      return "PWRE";
    case ppt_pwrx:
      return "PWRX";
    case ppt_ptw:
      return "PTWRITE";
    case ppt_unknown:
      return "unknown";
    case ppt_invalid:
      break;
  }
  return "invalid";
}

struct PacketDecoderFree {
  void operator()(pt_packet_decoder* d) const { pt_pkt_free_decoder(d); }
};

}  // namespace

std::map<std::string, uint64_t> CountPackets(const trace::Trace& trace,
                                             const trace::AuxQueue& queue) {
  std::map<std::string, uint64_t> counts;
  QueueStream stream(trace, queue);
  std::vector<uint8_t> scratch;
  const auto bytes = stream.Range(0, stream.size(), scratch);
  if (bytes.empty()) return counts;
  pt_config config = MakeConfig(trace, bytes);
  std::unique_ptr<pt_packet_decoder, PacketDecoderFree> decoder(pt_pkt_alloc_decoder(&config));
  if (!decoder)
    throw Error("cannot allocate libipt's packet decoder for AUX queue " +
                std::to_string(queue.idx));

  int status = pt_pkt_sync_forward(decoder.get());
  while (status >= 0) {
    pt_packet packet;
    status = pt_pkt_next(decoder.get(), &packet, sizeof packet);
    if (status >= 0) {
      ++counts[PacketName(packet)];
      continue;
    }
    if (status == -pte_eos) break;
    // A packet libipt cannot decode: count it and continue at the next PSB.
    ++counts["error"];
    status = pt_pkt_sync_forward(decoder.get());
  }
  if (status < 0 && status != -pte_eos) ++counts["error"];
  return counts;
}

}  // namespace hwcov::decoder
