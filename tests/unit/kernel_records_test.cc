// trace/'s one codec of kernel sideband records: every kind encoded and
// decoded back under every trailer layout, the bits a kind keeps in the
// header's misc, and refusals. (Bytes against independently built records:
// tests/intel_pt/sideband_test.cc, through the collector's ring reader; the
// writer's output against perf: the e2e tests.)
#include <gtest/gtest.h>

#include <cstring>

#include "hwcov/trace.h"

namespace hwcov::trace {
namespace {

constexpr uint64_t kAllTrailerBits =
    kSampleTid | kSampleTime | kSampleId | kSampleStreamId | kSampleCpu | kSampleIdentifier;

KernelRecord RoundTrip(const KernelRecord& in, uint64_t sample_type) {
  const std::vector<uint8_t> bytes = EncodeKernelRecord(in, sample_type);
  EXPECT_EQ(bytes.size() % 8, 0u);
  uint16_t size;
  std::memcpy(&size, bytes.data() + 6, 2);
  EXPECT_EQ(size, bytes.size());
  return DecodeKernelRecord(bytes, sample_type);
}

KernelRecord Record(uint32_t type, auto event) {
  KernelRecord r;
  r.type = type;
  r.sample = {42, 43, 123456789, 3};
  r.id = 77;
  r.event = std::move(event);
  return r;
}

TEST(KernelRecords, EveryKindRoundTripsUnderEveryTrailer) {
  MmapEvent mmap;
  mmap.pid = 42, mmap.tid = 43, mmap.start = 0x555555554000, mmap.len = 0x3000;
  mmap.pgoff = 0x1000, mmap.prot = 5, mmap.flags = 2, mmap.filename = "/usr/bin/loops";
  mmap.build_id = BuildId{std::string(20, '\xab')};
  CommEvent comm;
  comm.pid = 42, comm.tid = 43, comm.exec = true, comm.name = "loops";
  TaskEvent fork{{}, false, 42, 1, 44, 43, 99};
  AuxEvent aux{{}, 4096, 8192, kAuxTruncated | kAuxPartial};
  ItraceStartEvent start{{}, 42, 43};
  SwitchEvent sw{{}, true, true, 7, 8};
  LostEvent lost{{}, 77, 17};
  for (uint64_t st : {uint64_t{0}, kSampleTid | kSampleTime | kSampleIdentifier, kAllTrailerBits}) {
    SCOPED_TRACE(st);
    const KernelRecord m = RoundTrip(Record(10, mmap), st);
    ASSERT_TRUE(std::holds_alternative<MmapEvent>(m.event));
    const auto& mb = std::get<MmapEvent>(m.event);
    EXPECT_EQ(mb.filename, mmap.filename);
    EXPECT_EQ(mb.start, mmap.start);
    EXPECT_EQ(mb.pgoff, mmap.pgoff);
    EXPECT_EQ(mb.flags, 2u);
    EXPECT_EQ(mb.build_id, mmap.build_id);
    EXPECT_TRUE(mb.executable);
    if (st) {
      EXPECT_EQ(m.sample.tid, 43u);
      EXPECT_EQ(mb.sample.time, 123456789u);
      EXPECT_EQ(m.id, 77u);
    }
    if (st & kSampleCpu) {
      EXPECT_EQ(m.sample.cpu, 3u);
    }
    const auto c = std::get<CommEvent>(RoundTrip(Record(3, comm), st).event);
    EXPECT_EQ(c.name, "loops");
    EXPECT_TRUE(c.exec);
    const auto f = std::get<TaskEvent>(RoundTrip(Record(7, fork), st).event);
    EXPECT_EQ(f.ptid, 43u);
    EXPECT_EQ(f.time, 99u);
    EXPECT_FALSE(f.exit);
    EXPECT_TRUE(std::get<TaskEvent>(RoundTrip(Record(4, fork), st).event).exit);
    const auto a = std::get<AuxEvent>(RoundTrip(Record(11, aux), st).event);
    EXPECT_EQ(a.aux_size, 8192u);
    EXPECT_EQ(a.flags, kAuxTruncated | kAuxPartial);
    EXPECT_EQ(std::get<ItraceStartEvent>(RoundTrip(Record(12, start), st).event).tid, 43u);
    const auto s = std::get<SwitchEvent>(RoundTrip(Record(15, sw), st).event);
    EXPECT_TRUE(s.out);
    EXPECT_TRUE(s.cpu_wide);
    EXPECT_EQ(s.next_prev_tid, 8u);
    EXPECT_FALSE(std::get<SwitchEvent>(RoundTrip(Record(14, SwitchEvent{}), st).event).cpu_wide);
    EXPECT_EQ(std::get<LostEvent>(RoundTrip(Record(2, lost), st).event).lost, 17u);
  }
}

TEST(KernelRecords, HeaderBitsAndTheKernelsLimits) {
  CommEvent comm;
  comm.name = "a-very-long-process-name";
  const std::vector<uint8_t> bytes = EncodeKernelRecord(Record(3, comm), 0);
  uint16_t misc;
  std::memcpy(&misc, bytes.data() + 4, 2);
  EXPECT_EQ(misc, 0);  // no exec bit
  // header 8 + pid/tid 8 + 15 characters and a NUL.
  EXPECT_EQ(bytes.size(), 32u);
  EXPECT_EQ(std::get<CommEvent>(DecodeKernelRecord(bytes, 0).event).name, "a-very-long-pro");

  MmapEvent data;  // old MMAP of data: misc says so
  data.executable = false;
  data.filename = "/data";
  const KernelRecord old = RoundTrip(Record(1, data), 0);
  EXPECT_EQ(old.misc, 1 << 13);
  EXPECT_FALSE(std::get<MmapEvent>(old.event).executable);

  MmapEvent no_id;  // MMAP2 without a build id: the inode form
  no_id.filename = "/x";
  EXPECT_EQ(RoundTrip(Record(10, no_id), 0).misc, 0);
  EXPECT_FALSE(std::get<MmapEvent>(RoundTrip(Record(10, no_id), 0).event).build_id);
}

TEST(KernelRecords, ShortRecordsAreRefused) {
  const std::vector<uint8_t> bytes = EncodeKernelRecord(Record(11, AuxEvent{}), kAllTrailerBits);
  std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + 16);
  const uint16_t size = 16;
  std::memcpy(cut.data() + 6, &size, 2);
  EXPECT_THROW(DecodeKernelRecord(cut, kAllTrailerBits), Error);  // trailer is 48 bytes
  try {
    DecodeKernelRecord(cut, 0);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "too small for its fields");
  }
  EXPECT_THROW(DecodeKernelRecord(std::span(bytes).first(4), 0), Error);
  MmapEvent huge;
  huge.filename = std::string(70000, 'x');
  EXPECT_THROW(EncodeKernelRecord(Record(10, huge), 0), Error);
}

}  // namespace
}  // namespace hwcov::trace
