// The fast path's inline packet parser (decoder/src/packet_parser.h) against
// libipt's packet decoder, the reference: at every byte offset of real
// Intel PT streams — the Skylake fixtures (../shared/fixtures: PIP, CBR,
// MTC, CYC, TSC, TMA, MODE.TSX, VMCS...), a soft and an emu recording of a
// test program, and the pt_decoder fuzz corpus (encoder output and mutated
// streams) — and of random bytes, with the stream also cut short after each
// packet, the two must return the same status and the same packet.
#include "packet_parser.h"

#include <gtest/gtest.h>
#include <intel-pt.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "decode_test_support.h"
#include "hwcov/trace.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using decoder::ParsePacket;

std::string Describe(const pt_packet& p) {
  return "type " + std::to_string(p.type) + " size " + std::to_string(p.size);
}

// Payload fields libipt fills for each type (the union's other bytes are
// not meaningful).
void ExpectSamePacket(const pt_packet& want, const pt_packet& got, const std::string& where) {
  ASSERT_EQ(want.type, got.type) << where;
  ASSERT_EQ(want.size, got.size) << where << " " << Describe(want);
  const auto& a = want.payload;
  const auto& b = got.payload;
  switch (want.type) {
    case ppt_tnt_8:
    case ppt_tnt_64:
      EXPECT_EQ(a.tnt.bit_size, b.tnt.bit_size) << where;
      EXPECT_EQ(a.tnt.payload, b.tnt.payload) << where;
      break;
    case ppt_fup:
    case ppt_tip:
    case ppt_tip_pge:
    case ppt_tip_pgd:
      EXPECT_EQ(a.ip.ipc, b.ip.ipc) << where;
      EXPECT_EQ(a.ip.ip, b.ip.ip) << where;
      break;
    case ppt_mode:
      ASSERT_EQ(a.mode.leaf, b.mode.leaf) << where;
      if (a.mode.leaf == pt_mol_exec) {
        EXPECT_EQ(a.mode.bits.exec.csl, b.mode.bits.exec.csl) << where;
        EXPECT_EQ(a.mode.bits.exec.csd, b.mode.bits.exec.csd) << where;
      } else {
        EXPECT_EQ(a.mode.bits.tsx.intx, b.mode.bits.tsx.intx) << where;
        EXPECT_EQ(a.mode.bits.tsx.abrt, b.mode.bits.tsx.abrt) << where;
      }
      break;
    case ppt_pip:
      EXPECT_EQ(a.pip.cr3, b.pip.cr3) << where;
      EXPECT_EQ(a.pip.nr, b.pip.nr) << where;
      break;
    case ppt_tsc:
      EXPECT_EQ(a.tsc.tsc, b.tsc.tsc) << where;
      break;
    case ppt_cbr:
      EXPECT_EQ(a.cbr.ratio, b.cbr.ratio) << where;
      break;
    case ppt_tma:
      EXPECT_EQ(a.tma.ctc, b.tma.ctc) << where;
      EXPECT_EQ(a.tma.fc, b.tma.fc) << where;
      break;
    case ppt_mtc:
      EXPECT_EQ(a.mtc.ctc, b.mtc.ctc) << where;
      break;
    case ppt_cyc:
      EXPECT_EQ(a.cyc.value, b.cyc.value) << where;
      break;
    case ppt_vmcs:
      EXPECT_EQ(a.vmcs.base, b.vmcs.base) << where;
      break;
    case ppt_mnt:
      EXPECT_EQ(a.mnt.payload, b.mnt.payload) << where;
      break;
    case ppt_exstop:
      EXPECT_EQ(a.exstop.ip, b.exstop.ip) << where;
      break;
    case ppt_mwait:
      EXPECT_EQ(a.mwait.hints, b.mwait.hints) << where;
      EXPECT_EQ(a.mwait.ext, b.mwait.ext) << where;
      break;
    case ppt_pwre:
      EXPECT_EQ(a.pwre.state, b.pwre.state) << where;
      EXPECT_EQ(a.pwre.sub_state, b.pwre.sub_state) << where;
      EXPECT_EQ(a.pwre.hw, b.pwre.hw) << where;
      break;
    case ppt_pwrx:
      EXPECT_EQ(a.pwrx.last, b.pwrx.last) << where;
      EXPECT_EQ(a.pwrx.deepest, b.pwrx.deepest) << where;
      EXPECT_EQ(a.pwrx.interrupt, b.pwrx.interrupt) << where;
      EXPECT_EQ(a.pwrx.store, b.pwrx.store) << where;
      EXPECT_EQ(a.pwrx.autonomous, b.pwrx.autonomous) << where;
      break;
    case ppt_ptw:
      EXPECT_EQ(a.ptw.plc, b.ptw.plc) << where;
      EXPECT_EQ(a.ptw.ip, b.ptw.ip) << where;
      EXPECT_EQ(a.ptw.payload, b.ptw.payload) << where;
      break;
    default:
      break;
  }
}

struct Tally {
  uint64_t packets = 0;  // offsets where both read a packet
  uint64_t errors = 0;   // offsets where both refused
  std::map<int, uint64_t> by_type;
};

// Both parsers on bytes [0, end) of |stream| at |offset|.
void CompareAt(const std::vector<uint8_t>& stream, size_t offset, size_t end, Tally& tally,
               const std::string& name) {
  pt_config config;
  pt_config_init(&config);
  config.begin = const_cast<uint8_t*>(stream.data());
  config.end = config.begin + end;
  pt_packet_decoder* decoder = pt_pkt_alloc_decoder(&config);
  ASSERT_NE(decoder, nullptr);
  ASSERT_EQ(pt_pkt_sync_set(decoder, offset), 0);
  pt_packet want;
  const int want_status = pt_pkt_next(decoder, &want, sizeof want);
  pt_pkt_free_decoder(decoder);
  pt_packet got;
  std::memset(&got, 0, sizeof got);
  const int got_status = ParsePacket(config.begin + offset, config.end, got);
  const std::string where =
      name + " at offset " + std::to_string(offset) + " of " + std::to_string(end);
  ASSERT_EQ(want_status, got_status)
      << where << " (libipt: " << pt_errstr(pt_errcode(want_status)) << ")";
  if (want_status < 0) {
    ++tally.errors;
    return;
  }
  ExpectSamePacket(want, got, where);
  ++tally.packets;
  ++tally.by_type[want.type];
}

// Every offset of |stream|; at packet starts (from its first byte on, as
// libipt walks it) also with the stream ending 1..size-1 bytes into the
// packet.
Tally CompareStream(const std::vector<uint8_t>& stream, const std::string& name) {
  Tally tally;
  for (size_t at = 0; at < stream.size(); ++at) {
    CompareAt(stream, at, stream.size(), tally, name);
    if (::testing::Test::HasFatalFailure()) return tally;
  }
  pt_packet packet;
  for (size_t at = 0; at < stream.size();) {
    const int size = ParsePacket(stream.data() + at, stream.data() + stream.size(), packet);
    if (size < 0) {
      ++at;
      continue;
    }
    for (int cut = 1; cut < size; ++cut) CompareAt(stream, at, at + cut, tally, name);
    if (::testing::Test::HasFatalFailure()) return tally;
    at += static_cast<size_t>(size);
  }
  return tally;
}

std::vector<uint8_t> QueueBytes(const trace::Trace& trace, const trace::AuxQueue& queue) {
  std::vector<uint8_t> out;
  for (const auto& buffer : queue.buffers) {
    auto bytes = trace.AuxBytes(buffer);
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

Tally CompareTrace(const fs::path& path) {
  Tally all;
  const trace::Trace trace = trace::ReadPerfData(path);
  for (const auto& queue : trace.queues) {
    const Tally t = CompareStream(QueueBytes(trace, queue),
                                  path.filename().string() + " queue " + std::to_string(queue.idx));
    all.packets += t.packets;
    all.errors += t.errors;
    for (auto [type, n] : t.by_type) all.by_type[type] += n;
  }
  return all;
}

TEST(PacketParser, SameAsLibiptOnHardwareTraces) {
  for (const char* name : {"perf.data.intel_pt-4.14", "perf.data.piped.intel_pt-4.14"}) {
    const Tally t = CompareTrace(fs::path(HWCOV_SHARED_DIR) / "fixtures" / name);
    if (HasFatalFailure()) return;
    // What a Skylake writes, all of it seen by both parsers.
    for (pt_packet_type type :
         {ppt_psb, ppt_psbend, ppt_tnt_8, ppt_tip, ppt_tip_pge, ppt_tip_pgd, ppt_fup, ppt_mode,
          ppt_pip, ppt_tsc, ppt_cbr, ppt_mtc, ppt_cyc, ppt_pad})
      EXPECT_GT(t.by_type.count(type), 0u) << name << ": no packet of type " << type;
  }
}

TEST(PacketParser, SameAsLibiptOnRecordedTraces) {
  testing::TempDir dir("packet-parser");
  for (const char* backend : {"soft", "emu"}) {
    const fs::path path =
        testing::Record(dir, std::string("loops-") + backend,
                        {"--all-code", "--", (testing::kPrograms / "loops").string()}, backend);
    Tally t = CompareTrace(path);
    if (HasFatalFailure()) return;
    EXPECT_GT(t.by_type[ppt_tnt_8] + t.by_type[ppt_tnt_64], 0u) << backend;
    EXPECT_GT(t.by_type[ppt_tip], 0u) << backend;
  }
}

TEST(PacketParser, SameAsLibiptOnFuzzCorpus) {
  size_t files = 0;
  for (const auto& entry :
       fs::directory_iterator(fs::path(HWCOV_SOURCE_DIR) / "tests/fuzz/corpus/pt_decoder")) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<uint8_t> stream{std::istreambuf_iterator<char>(in),
                                      std::istreambuf_iterator<char>()};
    CompareStream(stream, entry.path().filename().string());
    if (HasFatalFailure()) return;
    ++files;
  }
  EXPECT_GT(files, 100u);
}

// Random bytes, and random bytes behind the opcodes that take payloads, so
// that every opcode, malformed payloads and short streams all come up.
TEST(PacketParser, SameAsLibiptOnRandomBytes) {
  std::mt19937_64 random(16);
  Tally tally;
  for (int round = 0; round < 200; ++round) {
    std::vector<uint8_t> stream(512);
    for (auto& byte : stream) byte = static_cast<uint8_t>(random());
    for (size_t at = 0; at + 1 < stream.size(); at += 1 + random() % 12)
      if (random() % 3 == 0) {
        stream[at] = 0x02;
        if (random() % 2) stream[at + 1] = static_cast<uint8_t>(random() % 2 ? 0xa3 : 0x82);
      }
    CompareStream(stream, "random round " + std::to_string(round));
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace hwcov
