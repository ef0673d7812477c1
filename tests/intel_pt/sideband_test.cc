// The sideband reader against synthetic kernel records (built byte by byte,
// independently of the collector's encoders), the records hwcov synthesizes
// for an attached process, loss accounting, and the writer's raw-record
// path read back by trace::ReadPerfData.
#include <gtest/gtest.h>

#include <cstring>

#include "fake_kernel.h"
#include "hwcov/trace.h"
#include "intel_pt_loss.h"
#include "intel_pt_sideband.h"
#include "test_support.h"

namespace hwcov::collector {
namespace {

using testing::RecordBuilder;

constexpr uint64_t kPerCpu =
    PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_IDENTIFIER;
constexpr uint64_t kPerThread =
    PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_IDENTIFIER;

RecordBuilder::Trailer At(uint32_t pid, uint32_t tid, uint64_t time, uint32_t cpu, uint64_t id) {
  return {pid, tid, time, cpu, id};
}

TEST(Sideband, Comm) {
  auto r = RecordBuilder(PERF_RECORD_COMM, PERF_RECORD_MISC_COMM_EXEC)
               .Put(uint32_t{42})
               .Put(uint32_t{43})
               .String("loops")
               .Build(kPerCpu, At(42, 43, 1000, 2, 77));
  SidebandRecord s = ParseSideband(r, kPerCpu);
  EXPECT_EQ(s.type, uint32_t{PERF_RECORD_COMM});
  EXPECT_EQ(s.misc, uint16_t{PERF_RECORD_MISC_COMM_EXEC});
  EXPECT_EQ(s.pid, 42u);
  EXPECT_EQ(s.tid, 43u);
  EXPECT_EQ(s.comm, "loops");
  EXPECT_EQ(s.sample.time, 1000u);
  EXPECT_EQ(s.sample.cpu, 2u);
  EXPECT_EQ(s.id, 77u);
}

TEST(Sideband, Mmap2WithBuildIdAndWithInode) {
  uint8_t id[24] = {20, 0, 0, 0};
  for (int i = 0; i < 20; ++i) id[4 + i] = static_cast<uint8_t>(0xa0 + i);
  RecordBuilder b(PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER | PERF_RECORD_MISC_MMAP_BUILD_ID);
  b.Put(uint32_t{42}).Put(uint32_t{42}).Put(uint64_t{0x555555555000}).Put(uint64_t{0x2000});
  b.Put(uint64_t{0x1000});
  for (uint8_t byte : id) b.Put(byte);
  b.Put(uint32_t{5}).Put(uint32_t{2}).String("/usr/bin/loops");
  SidebandRecord s = ParseSideband(b.Build(kPerThread, At(42, 42, 5, 0, 9)), kPerThread);
  EXPECT_EQ(s.start, 0x555555555000u);
  EXPECT_EQ(s.len, 0x2000u);
  EXPECT_EQ(s.pgoff, 0x1000u);
  EXPECT_EQ(s.prot, 5u);
  EXPECT_EQ(s.filename, "/usr/bin/loops");
  ASSERT_TRUE(s.build_id);
  EXPECT_EQ(s.build_id->Hex(), "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3");

  RecordBuilder inode(PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER);
  inode.Put(uint32_t{1}).Put(uint32_t{1}).Put(uint64_t{0x1000}).Put(uint64_t{0x1000});
  inode.Put(uint64_t{0}).Put(uint32_t{8}).Put(uint32_t{1}).Put(uint64_t{1234}).Put(uint64_t{0});
  inode.Put(uint32_t{5}).Put(uint32_t{2}).String("/lib/x.so");
  s = ParseSideband(inode.Build(kPerThread, At(1, 1, 5, 0, 9)), kPerThread);
  EXPECT_FALSE(s.build_id);
  EXPECT_EQ(s.filename, "/lib/x.so");
}

TEST(Sideband, AuxLostItraceStartSwitch) {
  auto aux = RecordBuilder(PERF_RECORD_AUX, 0)
                 .Put(uint64_t{4096})
                 .Put(uint64_t{512})
                 .Put(uint64_t{PERF_AUX_FLAG_TRUNCATED | PERF_AUX_FLAG_PARTIAL})
                 .Build(kPerCpu, At(42, 42, 9, 3, 5));
  SidebandRecord s = ParseSideband(aux, kPerCpu);
  EXPECT_EQ(s.aux_offset, 4096u);
  EXPECT_EQ(s.aux_size, 512u);
  EXPECT_EQ(s.aux_flags, uint64_t{PERF_AUX_FLAG_TRUNCATED | PERF_AUX_FLAG_PARTIAL});
  EXPECT_EQ(s.sample.cpu, 3u);

  auto lost = RecordBuilder(PERF_RECORD_LOST, 0)
                  .Put(uint64_t{5})
                  .Put(uint64_t{17})
                  .Build(kPerCpu, At(0, 0, 9, 1, 5));
  EXPECT_EQ(ParseSideband(lost, kPerCpu).lost, 17u);

  auto start = RecordBuilder(PERF_RECORD_ITRACE_START, 0)
                   .Put(uint32_t{42})
                   .Put(uint32_t{44})
                   .Build(kPerCpu, At(42, 44, 9, 1, 5));
  s = ParseSideband(start, kPerCpu);
  EXPECT_EQ(s.pid, 42u);
  EXPECT_EQ(s.tid, 44u);

  auto sw = RecordBuilder(PERF_RECORD_SWITCH_CPU_WIDE, PERF_RECORD_MISC_SWITCH_OUT)
                .Put(uint32_t{7})
                .Put(uint32_t{8})
                .Build(kPerCpu, At(42, 42, 10, 1, 6));
  s = ParseSideband(sw, kPerCpu);
  EXPECT_EQ(s.type, uint32_t{PERF_RECORD_SWITCH_CPU_WIDE});
  EXPECT_EQ(s.sample.time, 10u);
  EXPECT_EQ(s.id, 6u);

  // A type hwcov does not know: the trailer still parses.
  auto other = RecordBuilder(17, 0).Put(uint64_t{1}).Build(kPerCpu, At(1, 2, 3, 4, 5));
  s = ParseSideband(other, kPerCpu);
  EXPECT_EQ(s.sample.cpu, 4u);
  EXPECT_EQ(s.id, 5u);
}

TEST(Sideband, TooShortIsAnError) {
  auto r = RecordBuilder(PERF_RECORD_AUX, 0).Put(uint64_t{1}).Build(kPerThread, At(1, 1, 1, 0, 1));
  EXPECT_THROW(ParseSideband(r, kPerThread), Error);
  std::vector<uint8_t> tiny(8, 0);
  perf_event_header h{PERF_RECORD_COMM, 0, 8};
  std::memcpy(tiny.data(), &h, 8);
  EXPECT_THROW(ParseSideband(tiny, kPerCpu), Error);
}

// What hwcov synthesizes for an attached process equals the kernel's
// layout, byte for byte.
TEST(Sideband, SynthesizedRecordsHaveTheKernelsLayout) {
  SyntheticSample s{42, 43, 0, 1, 1001};
  EXPECT_EQ(EncodeComm(42, 43, "a-very-long-process-name", kPerCpu, s),
            RecordBuilder(PERF_RECORD_COMM, PERF_RECORD_MISC_USER)
                .Put(uint32_t{42})
                .Put(uint32_t{43})
                .String("a-very-long-pro")  // TASK_COMM_LEN - 1
                .Build(kPerCpu, At(42, 43, 0, 1, 1001)));

  trace::MmapEvent m;
  m.pid = m.tid = 42;
  m.start = 0x7f0000001000;
  m.len = 0x3000;
  m.pgoff = 0x1000;
  m.prot = 5;
  m.flags = 2;
  m.filename = "/lib/libc.so.6";
  m.build_id = BuildId::FromHex("0123456789abcdef0123456789abcdef01234567");
  std::vector<uint8_t> rec = EncodeMmap2(m, kPerCpu, s);
  SidebandRecord back = ParseSideband(rec, kPerCpu);
  EXPECT_EQ(back.misc, uint16_t{PERF_RECORD_MISC_USER | PERF_RECORD_MISC_MMAP_BUILD_ID});
  EXPECT_EQ(back.start, m.start);
  EXPECT_EQ(back.filename, m.filename);
  EXPECT_EQ(back.build_id->Hex(), m.build_id->Hex());
  EXPECT_EQ(back.id, 1001u);
  EXPECT_EQ(rec.size() % 8, 0u);
}

TEST(Loss, CountsPerCpuAndSummarises) {
  LossAccount loss(/*per_cpu=*/true);
  auto add = [&](uint32_t type, uint32_t cpu, uint64_t flags, uint64_t lost = 0) {
    SidebandRecord r;
    r.type = type;
    r.sample.cpu = cpu;
    r.aux_size = 100;
    r.aux_flags = flags;
    r.lost = lost;
    loss.Add(r);
  };
  add(PERF_RECORD_AUX, 0, 0);
  add(PERF_RECORD_AUX, 1, PERF_AUX_FLAG_TRUNCATED);
  add(PERF_RECORD_AUX, 1, PERF_AUX_FLAG_TRUNCATED);
  add(PERF_RECORD_AUX, 2, PERF_AUX_FLAG_PARTIAL);
  add(PERF_RECORD_LOST, 2, 0, 9);
  add(PERF_RECORD_COMM, 3, 0);  // not a loss report
  EXPECT_EQ(loss.by_buffer().at("cpu 1").truncated, 2u);
  EXPECT_EQ(loss.by_buffer().at("cpu 2").partial, 1u);
  EXPECT_EQ(loss.by_buffer().at("cpu 2").lost_records, 9u);
  EXPECT_EQ(loss.Total().aux_bytes, 400u);
  EXPECT_EQ(loss.by_buffer().count("cpu 3"), 0u);
  auto lines = loss.Summary(128 << 10);
  ASSERT_EQ(lines.size(), 2u);  // cpu 0 lost nothing
  EXPECT_NE(lines[0].find("cpu 1: trace stopped 2 time(s) with the 128 KiB AUX buffer full"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("--buffer-size"), std::string::npos);
  EXPECT_NE(lines[1].find("9 sideband record(s) lost"), std::string::npos) << lines[1];

  LossAccount per_thread(false);
  SidebandRecord r;
  r.type = PERF_RECORD_AUX;
  r.sample.tid = 77;
  r.aux_flags = PERF_AUX_FLAG_TRUNCATED;
  per_thread.Add(r);
  EXPECT_EQ(per_thread.by_buffer().at("tid 77").truncated, 1u);
}

// The hardware layout through the writer and back through the reader:
// three attrs with their ids, raw records whose trailers name them, an
// AUXTRACE made of two pieces, per-CPU queues.
TEST(RawWriter, ReadBackByTheTraceReader) {
  testing::TempDir dir("pt-raw-writer");
  const auto path = dir.path() / "hw.data";
  auto attr = [](uint32_t type, uint64_t config, uint64_t flags) {
    std::vector<uint8_t> a(128, 0);
    uint32_t size = 128;
    uint64_t st = kPerCpu;
    std::memcpy(a.data(), &type, 4);
    std::memcpy(a.data() + 4, &size, 4);
    std::memcpy(a.data() + 8, &config, 8);
    std::memcpy(a.data() + 24, &st, 8);
    std::memcpy(a.data() + 40, &flags, 8);
    return a;
  };
  const uint64_t sample_id_all = uint64_t{1} << 18;
  std::vector<trace::RawAttr> attrs = {
      {attr(8, 0x300e601, sample_id_all | 0x63), {101, 104}, "intel_pt//u"},
      {attr(1, 9, sample_id_all | (uint64_t{1} << 26)), {102, 105}, "dummy:u"},
      {attr(1, 9, sample_id_all | (uint64_t{1} << 8)), {103, 106}, "dummy:u"}};
  std::vector<uint64_t> priv(18, 0);
  priv[0] = 8;
  priv[9] = 1;
  {
    trace::PerfDataWriter w(path, attrs, priv);
    RecordBuilder comm(PERF_RECORD_COMM, PERF_RECORD_MISC_COMM_EXEC);
    comm.Put(uint32_t{42}).Put(uint32_t{42}).String("loops");
    w.AddRawRecord(comm.Build(kPerCpu, At(42, 42, 10, 1, 106)));
    w.AddRawRecord(RecordBuilder(PERF_RECORD_ITRACE_START, 0)
                       .Put(uint32_t{42})
                       .Put(uint32_t{42})
                       .Build(kPerCpu, At(42, 42, 11, 1, 104)));
    w.AddRawRecord(RecordBuilder(PERF_RECORD_SWITCH_CPU_WIDE, PERF_RECORD_MISC_SWITCH_OUT)
                       .Put(uint32_t{0})
                       .Put(uint32_t{0})
                       .Build(kPerCpu, At(42, 42, 12, 1, 105)));
    w.AddRawRecord(RecordBuilder(PERF_RECORD_AUX, 0)
                       .Put(uint64_t{0})
                       .Put(uint64_t{13})
                       .Put(uint64_t{PERF_AUX_FLAG_TRUNCATED})
                       .Build(kPerCpu, At(42, 42, 13, 1, 104)));
    const std::vector<uint8_t> a = {1, 2, 3, 4, 5, 6, 7, 8, 9}, b = {10, 11, 12, 13};
    trace::AuxtraceChunk chunk{1, 42, 1, 0, 0x1234};
    w.AddAuxtrace(chunk, a, b);
    w.AddFinishedRound();
    w.AddBuildId({-1, "/usr/bin/loops", BuildId::FromHex("00112233")});
    w.SetCpuCounts(4, 2);
    w.Finish();
  }
  trace::Trace t = trace::ReadPerfData(path);
  ASSERT_EQ(t.attrs.size(), 3u);
  EXPECT_EQ(t.attrs[0].ids, (std::vector<uint64_t>{101, 104}));
  EXPECT_EQ(t.attrs[2].config, 9u);
  ASSERT_EQ(t.comms.size(), 1u);
  EXPECT_EQ(t.comms[0].name, "loops");
  EXPECT_TRUE(t.comms[0].exec);
  EXPECT_EQ(t.comms[0].sample.cpu, 1u);
  ASSERT_EQ(t.itrace_starts.size(), 1u);
  ASSERT_EQ(t.switches.size(), 1u);
  EXPECT_TRUE(t.switches[0].cpu_wide);
  EXPECT_TRUE(t.switches[0].out);
  ASSERT_EQ(t.aux_events.size(), 1u);
  EXPECT_EQ(t.aux_events[0].flags, uint64_t{trace::kAuxTruncated});
  ASSERT_EQ(t.queues.size(), 1u);
  EXPECT_EQ(t.queues[0].idx, 1u);
  EXPECT_EQ(t.queues[0].cpu, 1u);
  ASSERT_EQ(t.queues[0].buffers.size(), 1u);
  EXPECT_EQ(t.queues[0].buffers[0].size, 16u);  // 13 padded to 8
  EXPECT_EQ(t.queues[0].buffers[0].reference, 0x1234u);
  auto bytes = t.AuxBytes(t.queues[0].buffers[0]);
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.end()),
            (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0, 0, 0}));
  ASSERT_EQ(t.build_ids.size(), 1u);
  EXPECT_EQ(t.build_ids[0].filename, "/usr/bin/loops");
  EXPECT_EQ(t.record_counts[68], 1u);  // FINISHED_ROUND
}

TEST(RawWriter, RejectsMismatchedRecordsAndAttrs) {
  testing::TempDir dir("pt-raw-bad");
  std::vector<uint8_t> a(128, 0), b(120, 0);
  uint32_t s128 = 128, s120 = 120;
  std::memcpy(a.data() + 4, &s128, 4);
  std::memcpy(b.data() + 4, &s120, 4);
  EXPECT_THROW(trace::PerfDataWriter(dir.path() / "x", {{a, {1}, "a"}, {b, {2}, "b"}}, {0}), Error);
  trace::PerfDataWriter w(dir.path() / "y", {{a, {1}, "a"}}, std::vector<uint64_t>(10, 0));
  std::vector<uint8_t> record(16, 0);
  perf_event_header h{PERF_RECORD_COMM, 0, 24};  // says 24, is 16
  std::memcpy(record.data(), &h, 8);
  EXPECT_THROW(w.AddRawRecord(record), Error);
}

}  // namespace
}  // namespace hwcov::collector
