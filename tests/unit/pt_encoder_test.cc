// The soft tracer's Intel PT encoder against libipt's own decoders: a tiny
// machine-code program is "executed" by a reference interpreter in this test,
// every step is encoded, and libipt's instruction and block decoders must
// reconstruct exactly the executed sequence, including across PSB+ sync
// points, return-stack overflow and syscalls.
#include "pt_encoder.h"

#include <gtest/gtest.h>
#include <intel-pt.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace hwcov::collector {
namespace {

constexpr uint64_t kBase = 0x7f0000401000;

// loop:    call leaf          e8 rel32        (kBase+0x00, 5 bytes)
//          dec ecx            ff c9           (+0x05)
//          jne loop           75 f7           (+0x07) -> +0x00
//          call recurse       e8 rel32        (+0x09) -> +0x20
//          syscall            0f 05           (+0x0e)
//          jmp *rax           ff e0           (+0x10) -> rax
// leaf:    ret                c3              (+0x12)
// recurse: dec edx            ff ca           (+0x20)
//          je done            74 05           (+0x22) -> +0x29
//          call recurse       e8 f2 ff ff ff  (+0x24) -> +0x20
// done:    ret                c3              (+0x29)
// end:     nop                90              (+0x30)
std::vector<uint8_t> Code() {
  std::vector<uint8_t> code(0x40, 0x90);
  auto put = [&](size_t at, std::initializer_list<uint8_t> bytes) {
    std::copy(bytes.begin(), bytes.end(), code.begin() + static_cast<long>(at));
  };
  put(0x00, {0xe8, 0x0d, 0x00, 0x00, 0x00});  // call +0x12
  put(0x05, {0xff, 0xc9});
  put(0x07, {0x75, 0xf7});
  put(0x09, {0xe8, 0x12, 0x00, 0x00, 0x00});  // call +0x20
  put(0x0e, {0x0f, 0x05});
  put(0x10, {0xff, 0xe0});
  put(0x12, {0xc3});
  put(0x20, {0xff, 0xca});
  put(0x22, {0x74, 0x05});
  put(0x24, {0xe8, 0xf7, 0xff, 0xff, 0xff});  // call +0x20
  put(0x29, {0xc3});
  return code;
}

// Runs the program above with ecx = loops, edx = depth; returns (ip, next).
std::vector<std::pair<uint64_t, uint64_t>> Execute(const std::vector<uint8_t>& code, int loops,
                                                   int depth) {
  std::vector<std::pair<uint64_t, uint64_t>> steps;
  std::vector<uint64_t> stack;
  uint64_t ip = kBase, rax = kBase + 0x30;
  int ecx = loops, edx = depth;
  while (ip != kBase + 0x30) {
    const uint64_t off = ip - kBase;
    InsnInfo insn = ClassifyInsn({code.data() + off, code.size() - off}, ip);
    uint64_t next = ip + insn.length;
    switch (off) {
      case 0x00:
      case 0x09:
      case 0x24:
        stack.push_back(next);
        next = *insn.target;
        break;
      case 0x05:
        --ecx;
        break;
      case 0x07:
        if (ecx != 0) next = *insn.target;
        break;
      case 0x10:
        next = rax;
        break;
      case 0x12:
      case 0x29:
        next = stack.back();
        stack.pop_back();
        break;
      case 0x20:
        --edx;
        break;
      case 0x22:
        if (edx == 0) next = *insn.target;
        break;
      default:
        break;
    }
    steps.emplace_back(ip, next);
    ip = next;
  }
  return steps;
}

int ReadCode(uint8_t* buffer, size_t size, const pt_asid*, uint64_t ip, void* context) {
  const auto* code = static_cast<const std::vector<uint8_t>*>(context);
  if (ip < kBase || ip >= kBase + code->size()) return -pte_nomap;
  size_t n = std::min<size_t>(size, kBase + code->size() - ip);
  std::memcpy(buffer, code->data() + (ip - kBase), n);
  return static_cast<int>(n);
}

std::vector<uint8_t> Encode(const std::vector<uint8_t>& code,
                            const std::vector<std::pair<uint64_t, uint64_t>>& steps,
                            uint64_t psb_period, PtEncoding encoding = {}) {
  std::vector<uint8_t> pt;
  PtEncoder encoder([&](std::span<const uint8_t> b) { pt.insert(pt.end(), b.begin(), b.end()); },
                    psb_period, nullptr, encoding);
  for (auto [ip, next] : steps) {
    const uint64_t off = ip - kBase;
    encoder.Executed(ip, ClassifyInsn({code.data() + off, code.size() - off}, ip), next);
  }
  encoder.Finish();
  return pt;
}

struct Decoded {
  std::vector<uint64_t> ips;
  int errors = 0;
};

// libipt's instruction decoder, resyncing at every PSB after an error.
Decoded DecodeInsns(std::vector<uint8_t>& pt, std::vector<uint8_t>& code) {
  pt_config config;
  pt_config_init(&config);
  config.begin = pt.data();
  config.end = pt.data() + pt.size();
  pt_insn_decoder* decoder = pt_insn_alloc_decoder(&config);
  pt_image_set_callback(pt_insn_get_image(decoder), ReadCode, &code);
  Decoded out;
  for (;;) {
    int status = pt_insn_sync_forward(decoder);
    if (status < 0) break;
    for (;;) {
      while (status >= 0 && (status & pts_event_pending)) {
        pt_event event;
        status = pt_insn_event(decoder, &event, sizeof event);
      }
      if (status < 0) break;
      pt_insn insn{};  // libipt leaves it untouched at the end of the trace
      status = pt_insn_next(decoder, &insn, sizeof insn);
      if (insn.iclass != ptic_error) out.ips.push_back(insn.ip);
      if (status < 0) break;
    }
    if (status != -pte_eos) ++out.errors;
    if (status == -pte_eos) break;
  }
  pt_insn_free_decoder(decoder);
  return out;
}

// Instructions per PSB segment when each segment is decoded on its own, as
// a parallel decoder does: every segment must start with a usable IP.
std::vector<uint64_t> DecodeSegments(std::vector<uint8_t>& pt, std::vector<uint8_t>& code,
                                     int* errors) {
  std::vector<uint64_t> all;
  pt_config config;
  pt_config_init(&config);
  config.begin = pt.data();
  config.end = pt.data() + pt.size();
  pt_block_decoder* decoder = pt_blk_alloc_decoder(&config);
  pt_image_set_callback(pt_blk_get_image(decoder), ReadCode, &code);
  for (int status = pt_blk_sync_forward(decoder); status >= 0;
       status = pt_blk_sync_forward(decoder)) {
    for (;;) {
      while (status >= 0 && (status & pts_event_pending)) {
        pt_event event;
        status = pt_blk_event(decoder, &event, sizeof event);
      }
      if (status < 0) break;
      pt_block block{};  // libipt leaves it untouched at the end of the trace
      status = pt_blk_next(decoder, &block, sizeof block);
      if (block.ninsn > 0) all.push_back(block.ninsn);
      if (status < 0) break;
    }
    if (status != -pte_eos)
      ++*errors;
    else
      break;
  }
  pt_blk_free_decoder(decoder);
  return all;
}

std::vector<uint64_t> Ips(const std::vector<std::pair<uint64_t, uint64_t>>& steps) {
  std::vector<uint64_t> ips;
  for (auto [ip, next] : steps) ips.push_back(ip);
  return ips;
}

// Encodes |steps| and checks that libipt's instruction decoder gives back
// exactly the executed sequence, without an error; returns the PT.
std::vector<uint8_t> EncodeAndCheck(std::vector<uint8_t>& code,
                                    const std::vector<std::pair<uint64_t, uint64_t>>& steps,
                                    uint64_t psb_period, PtEncoding encoding = {}) {
  std::vector<uint8_t> pt = Encode(code, steps, psb_period, encoding);
  Decoded decoded = DecodeInsns(pt, code);
  EXPECT_EQ(decoded.errors, 0);
  EXPECT_EQ(decoded.ips, Ips(steps));
  return pt;
}

// Every packet of |pt|, from libipt's packet decoder.
std::vector<pt_packet> Packets(std::vector<uint8_t>& pt) {
  pt_config config;
  pt_config_init(&config);
  config.begin = pt.data();
  config.end = pt.data() + pt.size();
  pt_packet_decoder* decoder = pt_pkt_alloc_decoder(&config);
  std::vector<pt_packet> out;
  pt_packet packet;
  if (pt_pkt_sync_forward(decoder) >= 0)
    while (pt_pkt_next(decoder, &packet, sizeof packet) > 0) out.push_back(packet);
  pt_pkt_free_decoder(decoder);
  return out;
}

TEST(PtEncoder, LibiptReconstructsTheExecutedSequence) {
  auto code = Code();
  EncodeAndCheck(code, Execute(code, 100, 10), 4096);
}

// Without return compression every return is a TIP, so the TNT bits are the
// conditional branches alone; with TNT-8 only there is no TNT-64. libipt
// reconstructs the run either way.
TEST(PtEncoder, NoReturnCompressionAndTnt8Only) {
  auto code = Code();
  auto steps = Execute(code, 100, 10);
  uint64_t conditional = 0, returns = 0;
  for (auto [ip, next] : steps) {
    const uint64_t off = ip - kBase;
    const InsnKind kind = ClassifyInsn({code.data() + off, code.size() - off}, ip).kind;
    conditional += kind == InsnKind::kCondJump;
    returns += kind == InsnKind::kReturn;
  }
  ASSERT_GT(returns, 100u);
  for (bool compress : {true, false})
    for (bool long_tnt : {true, false}) {
      SCOPED_TRACE(std::string(compress ? "retcomp" : "noretcomp") + (long_tnt ? "" : ", TNT-8"));
      PtEncoding encoding;
      encoding.return_compression = compress;
      encoding.long_tnt = long_tnt;
      auto pt = EncodeAndCheck(code, steps, 4096, encoding);
      uint64_t bits = 0, tips = 0, long_tnts = 0;
      for (const pt_packet& packet : Packets(pt)) {
        if (packet.type == ppt_tnt_8 || packet.type == ppt_tnt_64)
          bits += packet.payload.tnt.bit_size;
        long_tnts += packet.type == ppt_tnt_64;
        tips += packet.type == ppt_tip;
      }
      if (compress) {
        EXPECT_GT(bits, conditional);  // compressed returns are bits too
      } else {
        EXPECT_EQ(bits, conditional);
        EXPECT_GE(tips, returns);
      }
      if (!long_tnt) {
        EXPECT_EQ(long_tnts, 0u);
      } else if (compress) {
        EXPECT_GT(long_tnts, 0u);  // 200 bits between TIPs
      }
    }
}

TEST(PtEncoder, DeepRecursionOverflowsTheReturnStackWithoutDesync) {
  auto code = Code();
  EncodeAndCheck(code, Execute(code, 1, 200), 4096);  // 200 nested calls: > 64 return-stack entries
}

TEST(PtEncoder, EverySyncPointIsIndependentlyDecodable) {
  // A PSB+ every 32 bytes: a decoder that starts at any of them must find an
  // IP (FUP) and an empty return stack, or it desyncs.
  auto code = Code();
  auto pt = EncodeAndCheck(code, Execute(code, 300, 100), 32);
  int errors = 0;
  DecodeSegments(pt, code, &errors);
  EXPECT_EQ(errors, 0);
}

TEST(PtEncoder, SyscallDisablesAndTheNextInstructionReEnables) {
  auto code = Code();
  auto steps = Execute(code, 1, 1);
  auto pt = Encode(code, steps, 4096);
  // Count TIP.PGD/TIP.PGE with libipt's packet decoder.
  std::map<int, int> kinds;
  for (const pt_packet& packet : Packets(pt)) ++kinds[packet.type];
  EXPECT_EQ(kinds[ppt_tip_pgd], 2);  // at the syscall, and where the trace ends
  EXPECT_EQ(kinds[ppt_fup], 1);      // the end: FUP(resume ip) + TIP.PGD
  EXPECT_EQ(kinds[ppt_tip_pge], 2);  // at the start and after the syscall
  EXPECT_EQ(kinds[ppt_psb], 1);
}

TEST(PtEncoder, InterruptedInstructionIsNotReportedAsExecuted) {
  auto code = Code();
  std::vector<uint8_t> pt;
  {
    PtEncoder encoder([&](std::span<const uint8_t> b) { pt.insert(pt.end(), b.begin(), b.end()); });
    auto at = [&](uint64_t off) { return ClassifyInsn({code.data() + off, 8}, kBase + off); };
    encoder.Executed(kBase + 0x05, at(0x05), kBase + 0x07);
    encoder.Interrupted(kBase + 0x07);                       // a signal arrives before the jne
    encoder.Executed(kBase + 0x30, at(0x30), kBase + 0x31);  // the "handler"
    encoder.Finish();
  }
  Decoded decoded = DecodeInsns(pt, code);
  EXPECT_EQ(decoded.ips, (std::vector<uint64_t>{kBase + 0x05, kBase + 0x30}));
}

}  // namespace
}  // namespace hwcov::collector
