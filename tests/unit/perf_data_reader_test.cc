// ReadPerfData on synthetic files: what PerfDataWriter writes comes back
// field for field; hand-built headers of every attr size perf has used (and a
// future one) are accepted; files that are not perf.data, and valid files cut
// at every byte, fail with an error naming the file, never with a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hwcov/trace.h"
#include "perf_data_truncation.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::CheckEveryTruncation;
using trace::Trace;

constexpr uint64_t kMagic = 0x32454c4946524550ull;  // "PERFILE2"
constexpr uint64_t kSampleIdAll = 1ull << 18;
constexpr uint64_t kExcludeKernel = 1ull << 5;

// Little-endian byte building for hand-made files.
class Bytes {
 public:
  template <typename T>
  Bytes& Put(T value) {
    const char* p = reinterpret_cast<const char*>(&value);
    data_.append(p, sizeof value);
    return *this;
  }
  Bytes& Zeros(size_t n) {
    data_.append(n, '\0');
    return *this;
  }
  Bytes& Raw(const std::string& s) {
    data_ += s;
    return *this;
  }
  // NUL-terminated, padded with NULs to a multiple of |align|.
  Bytes& String(const std::string& s, size_t align) {
    data_ += s;
    return Zeros((s.size() + 1 + align - 1) / align * align - s.size());
  }
  template <typename T>
  void Patch(size_t at, T value) {
    std::memcpy(data_.data() + at, &value, sizeof value);
  }
  size_t size() const { return data_.size(); }
  const std::string& str() const { return data_; }

 private:
  std::string data_;
};

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// Runs ReadPerfData and returns the hwcov::Error's message ("" if none).
std::string ReadError(const fs::path& path) {
  try {
    trace::ReadPerfData(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<uint64_t> IntelPtPriv(uint32_t pmu_type) {
  // PMU_TYPE .. FILTER_STR_LEN, as `perf record -e intel_pt//u` fills them
  // for timeless per-thread decoding.
  std::vector<uint64_t> priv(17, 0);
  priv[0] = pmu_type;
  priv[5] = 0x400;     // TSC_BIT
  priv[6] = 0x800;     // NORETCOMP_BIT
  priv[10] = 0x200;    // MTC_BIT
  priv[11] = 0x3c000;  // MTC_FREQ_BITS
  priv[14] = 0x2;      // CYC_BIT
  return priv;
}

// The intel_pt event of the traces written here (PMU type 8).
trace::PtEventParams PtEvent() {
  trace::PtEventParams params;
  params.pmu_type = 8;
  params.config = 0x300e601;
  params.auxtrace_priv = IntelPtPriv(8);
  return params;
}

// PSB, PSBEND, MODE.Exec 64-bit, TIP.PGE 0x401000, TNT, TIP.PGD 0x401020.
std::vector<uint8_t> SomePt() {
  std::vector<uint8_t> pt;
  for (int i = 0; i < 8; ++i) pt.insert(pt.end(), {0x02, 0x82});
  pt.insert(pt.end(), {0x02, 0x23, 0x99, 0x01, 0x71, 0x00, 0x10, 0x40, 0x00, 0x00, 0x00, 0x0a, 0x61,
                       0x20, 0x10, 0x40, 0x00, 0x00, 0x00});
  return pt;
}

struct WrittenTrace {
  fs::path path;
  trace::MmapEvent mmap;
  BuildId build_id;
  std::vector<uint8_t> pt1, pt2;
  trace::CodeSnapshot snapshot;
};

// A per-thread recording of pid 4242 as a collector writes it.
void WriteCalls(const WrittenTrace& w, trace::TraceSink& sink);

WrittenTrace WriteSample(const fs::path& dir) {
  WrittenTrace w;
  w.path = dir / "sample.data";
  w.build_id.bytes = std::string(
      "\x01\x23\x45\x67\x89\xab\xcd\xef\x10\x32\x54\x76\x98\xba\xdc\xfe"
      "\x11\x22\x33\x44",
      20);
  w.mmap.pid = 4242;
  w.mmap.tid = 4243;
  w.mmap.start = 0x401000;
  w.mmap.len = 0x2000;
  w.mmap.pgoff = 0x1000;
  w.mmap.prot = 5;   // r-x
  w.mmap.flags = 2;  // MAP_PRIVATE
  w.mmap.filename = "/usr/local/bin/target-program";
  w.mmap.build_id = w.build_id;
  w.pt1 = SomePt();  // 35 bytes: padded to 40
  w.pt2 = {0x02, 0x82, 0x02, 0x82, 0x02, 0x82, 0x02, 0x82,
           0x02, 0x82, 0x02, 0x82, 0x02, 0x82, 0x02, 0x82};  // 16: no padding
  w.snapshot.pid = 4242;
  w.snapshot.start = 0x7fff0000;
  w.snapshot.name = "[vdso]";
  w.snapshot.bytes = {0xc3, 0x90, 0x90};

  trace::PerfDataWriter writer(w.path, PtEvent());
  WriteCalls(w, writer);
  return w;
}

// The calls of WriteSample after the event, to any sink.
void WriteCalls(const WrittenTrace& w, trace::TraceSink& sink) {
  sink.AddComm(4242, 4243, "target-program-with-long-name", true, 1000);
  sink.AddMmap(w.mmap, 1001);
  sink.AddItraceStart(4242, 4243, 1002);
  sink.AddFork(4244, 4242, 4244, 4243, 1003);
  sink.AddAux(0, 4243, w.pt1, 1004);
  sink.AddAux(1, 4244, w.pt2, 1005);
  sink.AddAux(0, 4243, w.pt2, 1006);
  sink.AddExit(4242, 4242, 4243, 4243, 1007);
  sink.AddSnapshot(w.snapshot);
  sink.AddTestName(4242, "suite / case 1");
  sink.AddTestName(4242, "a second name for the pid, ignored");
  sink.SetStrings({{"hostname", "testhost"}, {"osrelease", "6.1.0-test"}, {"arch", "x86_64"}});
  sink.Finish();
}

std::vector<char> FileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A TraceTee of two writers begun through it writes, into each, the very
// file the one-step writer writes; a second Begin is refused.
TEST(perf_data_reader, TeeWritesTheSameFileTwice) {
  testing::TempDir dir("writer_tee");
  const WrittenTrace w = WriteSample(dir.path());
  trace::PerfDataWriter a(dir.path() / "a.data"), b(dir.path() / "b.data");
  trace::TraceTee tee({&a, &b});
  tee.Begin(PtEvent());
  EXPECT_THROW(a.Begin(PtEvent()), hwcov::Error);
  WriteCalls(w, tee);
  EXPECT_EQ(tee.aux_bytes(), w.pt1.size() + 2 * w.pt2.size());
  const std::vector<char> expected = FileBytes(w.path);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(FileBytes(dir.path() / "a.data"), expected);
  EXPECT_EQ(FileBytes(dir.path() / "b.data"), expected);
}

TEST(perf_data_reader, RoundTripsWhatTheWriterWrites) {
  testing::TempDir dir("reader_round_trip");
  const WrittenTrace w = WriteSample(dir.path());
  const Trace t = trace::ReadPerfData(w.path);

  EXPECT_EQ(t.path, w.path);
  EXPECT_FALSE(t.pipe_mode);
  EXPECT_TRUE(t.finished);
  EXPECT_TRUE(t.warnings.empty());

  ASSERT_EQ(t.attrs.size(), 1u);
  EXPECT_EQ(t.attrs[0].type, 8u);
  EXPECT_EQ(t.attrs[0].size, 128u);
  EXPECT_EQ(t.attrs[0].config, 0x300e601u);
  EXPECT_EQ(t.attrs[0].sample_type,
            trace::kSampleIp | trace::kSampleTid | trace::kSampleTime | trace::kSampleIdentifier);
  EXPECT_TRUE(t.attrs[0].flags & kSampleIdAll);
  EXPECT_TRUE(t.attrs[0].flags & kExcludeKernel);
  EXPECT_EQ(t.attrs[0].ids, std::vector<uint64_t>{1});

  ASSERT_TRUE(t.pt.has_value());
  EXPECT_EQ(t.pt->pmu_type, 8u);
  EXPECT_EQ(t.pt->priv, IntelPtPriv(8));
  EXPECT_FALSE(t.pt->per_cpu());
  EXPECT_TRUE(t.pt->return_compression());

  ASSERT_EQ(t.comms.size(), 1u);
  EXPECT_EQ(t.comms[0].pid, 4242u);
  EXPECT_EQ(t.comms[0].tid, 4243u);
  EXPECT_TRUE(t.comms[0].exec);
  EXPECT_EQ(t.comms[0].name, "target-program-");  // perf's comm is 16 bytes with the NUL
  EXPECT_EQ(t.comms[0].sample.pid, 4242u);
  EXPECT_EQ(t.comms[0].sample.tid, 4243u);
  EXPECT_EQ(t.comms[0].sample.time, 1000u);

  ASSERT_EQ(t.mmaps.size(), 1u);
  const trace::MmapEvent& m = t.mmaps[0];
  EXPECT_EQ(m.pid, w.mmap.pid);
  EXPECT_EQ(m.tid, w.mmap.tid);
  EXPECT_EQ(m.start, w.mmap.start);
  EXPECT_EQ(m.len, w.mmap.len);
  EXPECT_EQ(m.pgoff, w.mmap.pgoff);
  EXPECT_EQ(m.prot, w.mmap.prot);
  EXPECT_EQ(m.flags, w.mmap.flags);
  EXPECT_TRUE(m.executable);
  EXPECT_EQ(m.filename, w.mmap.filename);
  ASSERT_TRUE(m.build_id.has_value());
  EXPECT_EQ(*m.build_id, w.build_id);
  EXPECT_EQ(m.sample.time, 1001u);
  EXPECT_EQ(m.sample.tid, 4243u);

  ASSERT_EQ(t.build_ids.size(), 1u);  // the BUILD_ID feature
  EXPECT_EQ(t.build_ids[0].pid, -1);  // HOST_KERNEL_ID: the host machine
  EXPECT_EQ(t.build_ids[0].filename, w.mmap.filename);
  EXPECT_EQ(t.build_ids[0].build_id, w.build_id);

  ASSERT_EQ(t.itrace_starts.size(), 1u);
  EXPECT_EQ(t.itrace_starts[0].pid, 4242u);
  EXPECT_EQ(t.itrace_starts[0].tid, 4243u);
  EXPECT_EQ(t.itrace_starts[0].sample.time, 1002u);

  ASSERT_EQ(t.tasks.size(), 2u);
  EXPECT_FALSE(t.tasks[0].exit);
  EXPECT_EQ(t.tasks[0].pid, 4244u);
  EXPECT_EQ(t.tasks[0].ppid, 4242u);
  EXPECT_EQ(t.tasks[0].tid, 4244u);
  EXPECT_EQ(t.tasks[0].ptid, 4243u);
  EXPECT_EQ(t.tasks[0].time, 1003u);
  EXPECT_TRUE(t.tasks[1].exit);
  EXPECT_EQ(t.tasks[1].pid, 4242u);
  EXPECT_EQ(t.tasks[1].time, 1007u);

  // Queues by idx; buffers padded to 8 with PAD bytes, stream offsets running.
  ASSERT_EQ(t.queues.size(), 2u);
  const trace::AuxQueue& q0 = t.queues[0];
  EXPECT_EQ(q0.idx, 0u);
  EXPECT_EQ(q0.tid, 4243u);
  EXPECT_EQ(q0.cpu, UINT32_MAX);
  ASSERT_EQ(q0.buffers.size(), 2u);
  EXPECT_EQ(q0.buffers[0].size, 40u);
  EXPECT_EQ(q0.buffers[0].offset, 0u);
  EXPECT_EQ(q0.buffers[0].file_offset, q0.buffers[0].record_offset + 48);
  EXPECT_EQ(q0.buffers[1].size, 16u);
  EXPECT_EQ(q0.buffers[1].offset, 40u);
  std::vector<uint8_t> padded = w.pt1;
  padded.resize(40, 0);
  auto b0 = t.AuxBytes(q0.buffers[0]);
  EXPECT_EQ(std::vector<uint8_t>(b0.begin(), b0.end()), padded);
  auto b1 = t.AuxBytes(q0.buffers[1]);
  EXPECT_EQ(std::vector<uint8_t>(b1.begin(), b1.end()), w.pt2);
  EXPECT_EQ(t.queues[1].idx, 1u);
  EXPECT_EQ(t.queues[1].tid, 4244u);
  ASSERT_EQ(t.queues[1].buffers.size(), 1u);
  auto b2 = t.AuxBytes(t.queues[1].buffers[0]);
  EXPECT_EQ(std::vector<uint8_t>(b2.begin(), b2.end()), w.pt2);

  ASSERT_EQ(t.snapshots.size(), 1u);
  EXPECT_EQ(t.snapshots[0].pid, w.snapshot.pid);
  EXPECT_EQ(t.snapshots[0].start, w.snapshot.start);
  EXPECT_EQ(t.snapshots[0].name, w.snapshot.name);
  EXPECT_EQ(t.snapshots[0].bytes, w.snapshot.bytes);
  EXPECT_EQ(t.test_names, (std::map<uint32_t, std::string>{{4242, "suite / case 1"}}));

  EXPECT_EQ(t.strings.at("hostname"), "testhost");
  EXPECT_EQ(t.strings.at("osrelease"), "6.1.0-test");
  EXPECT_EQ(t.strings.at("arch"), "x86_64");

  const std::map<uint32_t, uint64_t> counts = {{3, 1},  {4, 1},  {7, 1}, {10, 1},
                                               {12, 1}, {70, 1}, {71, 3}};
  EXPECT_EQ(t.record_counts, counts);
}

// --- hand-built files ----------------------------------------------------

constexpr uint64_t kSampleType =
    trace::kSampleIp | trace::kSampleTid | trace::kSampleTime | trace::kSampleIdentifier;
constexpr uint64_t kId = 42;

// A perf_event_attr of |size| bytes for intel_pt (type 9).
std::string Attr(uint32_t size) {
  Bytes a;
  a.Put(uint32_t{9}).Put(size).Put(uint64_t{0x300e601});
  a.Put(uint64_t{1}).Put(kSampleType).Put(uint64_t{4});
  a.Put(kSampleIdAll | kExcludeKernel);
  a.Zeros(size - a.size());
  return a.str();
}

// The data records: AUXTRACE_INFO, COMM and ITRACE_START with sample_id
// trailers, one AUXTRACE with 16 PT bytes.
std::string DataRecords() {
  Bytes d;
  const auto priv = IntelPtPriv(9);
  d.Put(uint32_t{70}).Put(uint16_t{0}).Put(static_cast<uint16_t>(16 + 8 * priv.size()));
  d.Put(uint32_t{1}).Put(uint32_t{0});
  for (uint64_t p : priv) d.Put(p);
  auto trailer = [&](Bytes& r, uint64_t time) {
    r.Put(uint32_t{77}).Put(uint32_t{78}).Put(time).Put(kId);
  };
  Bytes comm;
  comm.Put(uint32_t{77}).Put(uint32_t{78}).String("prog", 8);
  trailer(comm, 500);
  d.Put(uint32_t{3}).Put(uint16_t{2}).Put(static_cast<uint16_t>(8 + comm.size())).Raw(comm.str());
  Bytes start;
  start.Put(uint32_t{77}).Put(uint32_t{78});
  trailer(start, 501);
  d.Put(uint32_t{12}).Put(uint16_t{0}).Put(static_cast<uint16_t>(8 + start.size()));
  d.Raw(start.str());
  d.Put(uint32_t{71}).Put(uint16_t{0}).Put(uint16_t{48});
  d.Put(uint64_t{16}).Put(uint64_t{0}).Put(uint64_t{0});  // size, offset, reference
  d.Put(uint32_t{0}).Put(uint32_t{78}).Put(uint32_t{UINT32_MAX}).Put(uint32_t{0});
  for (int i = 0; i < 8; ++i) d.Put(uint8_t{0x02}).Put(uint8_t{0x82});
  return d.str();
}

// File mode: 104-byte header, one attr entry of attr_size + 16, its ids, data.
std::string FileModeFile(uint32_t attr_size) {
  Bytes f;
  const uint64_t entry = attr_size + 16;
  const uint64_t ids_offset = 104 + entry;
  const uint64_t data_offset = ids_offset + 8;
  const std::string data = DataRecords();
  f.Put(kMagic).Put(uint64_t{104}).Put(entry);
  f.Put(uint64_t{104}).Put(entry);                // attrs
  f.Put(data_offset).Put(uint64_t{data.size()});  // data
  f.Put(uint64_t{0}).Put(uint64_t{0});            // event_types
  f.Zeros(32);                                    // no features
  f.Raw(Attr(attr_size)).Put(ids_offset).Put(uint64_t{8});
  f.Put(kId);
  f.Raw(data);
  return f.str();
}

// Pipe mode: 16-byte header, HEADER_ATTR record (attr + ids), data records.
std::string PipeModeFile(uint32_t attr_size) {
  Bytes f;
  f.Put(kMagic).Put(uint64_t{16});
  f.Put(uint32_t{64}).Put(uint16_t{0}).Put(static_cast<uint16_t>(8 + attr_size + 8));
  f.Raw(Attr(attr_size)).Put(kId);
  f.Raw(DataRecords());
  return f.str();
}

void ExpectHandBuiltContent(const Trace& t, uint32_t attr_size) {
  EXPECT_TRUE(t.finished);
  EXPECT_TRUE(t.warnings.empty());
  ASSERT_EQ(t.attrs.size(), 1u);
  EXPECT_EQ(t.attrs[0].type, 9u);
  EXPECT_EQ(t.attrs[0].size, attr_size);
  EXPECT_EQ(t.attrs[0].config, 0x300e601u);
  EXPECT_EQ(t.attrs[0].sample_type, kSampleType);
  EXPECT_EQ(t.attrs[0].flags, kSampleIdAll | kExcludeKernel);
  EXPECT_EQ(t.attrs[0].ids, std::vector<uint64_t>{kId});
  ASSERT_TRUE(t.pt.has_value());
  EXPECT_EQ(t.pt->pmu_type, 9u);
  EXPECT_EQ(t.pt->priv.size(), 17u);
  ASSERT_EQ(t.comms.size(), 1u);
  EXPECT_EQ(t.comms[0].name, "prog");
  EXPECT_EQ(t.comms[0].pid, 77u);
  EXPECT_EQ(t.comms[0].sample.tid, 78u);
  EXPECT_EQ(t.comms[0].sample.time, 500u);
  ASSERT_EQ(t.itrace_starts.size(), 1u);
  EXPECT_EQ(t.itrace_starts[0].sample.time, 501u);
  ASSERT_EQ(t.queues.size(), 1u);
  ASSERT_EQ(t.queues[0].buffers.size(), 1u);
  auto pt = t.AuxBytes(t.queues[0].buffers[0]);
  ASSERT_EQ(pt.size(), 16u);
  for (size_t i = 0; i < pt.size(); ++i) EXPECT_EQ(pt[i], i % 2 ? 0x82 : 0x02) << i;
}

class AttrSizeTest : public ::testing::TestWithParam<uint32_t> {};

// 64 (VER0), 112 (perf 4.14), 128 (perf 6.1), 136 (perf >= 6.3), and a
// hypothetical later 144: the reader trusts attr.size and attr_size.
TEST_P(AttrSizeTest, FileModeAccepted) {
  testing::TempDir dir("reader_attr_size");
  const fs::path path = dir.path() / "attr.data";
  WriteFile(path, FileModeFile(GetParam()));
  Trace t = trace::ReadPerfData(path);
  EXPECT_FALSE(t.pipe_mode);
  ExpectHandBuiltContent(t, GetParam());
}

TEST_P(AttrSizeTest, PipeModeAccepted) {
  testing::TempDir dir("reader_attr_size_pipe");
  const fs::path path = dir.path() / "attr.data";
  WriteFile(path, PipeModeFile(GetParam()));
  Trace t = trace::ReadPerfData(path);
  EXPECT_TRUE(t.pipe_mode);
  ExpectHandBuiltContent(t, GetParam());
}

std::string AttrSizeName(const ::testing::TestParamInfo<uint32_t>& param) {
  return "attr_size_" + std::to_string(param.param);
}

// The suite names carry "perf_data" so that `ctest -R perf_data` selects them.
INSTANTIATE_TEST_SUITE_P(perf_data_reader, AttrSizeTest,
                         ::testing::Values(64u, 112u, 128u, 136u, 144u), AttrSizeName);

// --- not perf.data -------------------------------------------------------

TEST(perf_data_reader, RejectsFilesThatAreNotPerfData) {
  testing::TempDir dir("reader_not_perf_data");
  std::vector<std::pair<std::string, std::string>> cases;
  cases.emplace_back("empty.data", "");
  cases.emplace_back("ten_bytes.data", std::string("PERFILE2\x68\x00", 10));
  {
    Bytes b;
    b.Raw("NOTPERF!").Put(uint64_t{104}).Zeros(88);
    cases.emplace_back("bad_magic.data", b.str());
  }
  {
    Bytes b;
    b.Put(__builtin_bswap64(kMagic)).Put(__builtin_bswap64(uint64_t{104})).Zeros(88);
    cases.emplace_back("big_endian.data", b.str());
  }
  {
    Bytes b;  // "PERFFILE", perf's legacy v1 format
    b.Raw("PERFFILE").Put(uint64_t{104}).Zeros(88);
    cases.emplace_back("v1.data", b.str());
  }
  for (const auto& [name, bytes] : cases) {
    const fs::path path = dir.path() / name;
    WriteFile(path, bytes);
    const std::string error = ReadError(path);
    EXPECT_NE(error, "") << name << " was accepted";
    EXPECT_NE(error.find(path.string()), std::string::npos) << error;
  }
  for (const fs::path& path : {dir.path(), dir.path() / "does-not-exist.data"}) {
    const std::string error = ReadError(path);
    EXPECT_NE(error, "") << path;
    EXPECT_NE(error.find(path.string()), std::string::npos) << error;
  }
}

// Pipe mode tolerates a record cut by the end of the data (an interrupted
// `perf record -o -`), not a whole record that is wrong: that is an error
// naming where, never "recording interrupted?".
TEST(perf_data_reader, PipeModeCorruptRecordIsAnErrorNotAnInterruption) {
  testing::TempDir dir("reader_pipe_corrupt");
  const std::string good = PipeModeFile(112);
  Bytes short_comm;  // a COMM record without its pid, tid and name
  short_comm.Put(uint32_t{3}).Put(uint16_t{0}).Put(uint16_t{8});
  Bytes tiny;  // a size no record can have
  tiny.Put(uint32_t{3}).Put(uint16_t{0}).Put(uint16_t{4}).Zeros(8);
  for (const auto& [name, tail] :
       {std::pair<std::string, std::string>{"short_comm.data", short_comm.str()},
        std::pair<std::string, std::string>{"tiny.data", tiny.str()}}) {
    const fs::path path = dir.path() / name;
    WriteFile(path, good + tail);
    const std::string error = ReadError(path);
    EXPECT_NE(error.find(path.string()), std::string::npos) << name << ": " << error;
    EXPECT_NE(error.find(std::to_string(good.size())), std::string::npos)
        << name << ": the error names the record's offset: " << error;
    EXPECT_EQ(error.find("interrupted"), std::string::npos) << name << ": " << error;
  }
  // The same record cut short by the end of the data is an interruption.
  const fs::path cut = dir.path() / "cut.data";
  WriteFile(cut, good + short_comm.str().substr(0, 6));
  const Trace t = trace::ReadPerfData(cut);
  EXPECT_FALSE(t.finished);
  ASSERT_EQ(t.warnings.size(), 1u);
  EXPECT_NE(t.warnings[0].find("recording interrupted?"), std::string::npos) << t.warnings[0];
}

// --- truncation ----------------------------------------------------------

TEST(perf_data_reader, WriterFileCutAtEveryByte) {
  testing::TempDir dir("reader_truncation");
  const WrittenTrace w = WriteSample(dir.path());
  CheckEveryTruncation(testing::ReadFile(w.path), false, dir.path() / "cut.data");
}

TEST(perf_data_reader, HandBuiltFilesCutAtEveryByte) {
  testing::TempDir dir("reader_truncation_hand");
  CheckEveryTruncation(FileModeFile(112), false, dir.path() / "file.data");
  CheckEveryTruncation(PipeModeFile(136), true, dir.path() / "pipe.data");
}

// An interrupted `perf record` leaves data.size 0 in the header: the reader
// takes the rest of the file as data and reports the trace unfinished.
TEST(perf_data_reader, ZeroDataSizeReadsToEndOfFile) {
  testing::TempDir dir("reader_unfinished");
  std::string bytes = FileModeFile(128);
  std::memset(bytes.data() + 48, 0, 8);  // data.size
  const fs::path path = dir.path() / "unfinished.data";
  WriteFile(path, bytes);
  Trace t = trace::ReadPerfData(path);
  EXPECT_FALSE(t.finished);
  EXPECT_EQ(t.comms.size(), 1u);
  ASSERT_EQ(t.queues.size(), 1u);
  EXPECT_EQ(t.queues[0].buffers[0].size, 16u);
}

}  // namespace
}  // namespace hwcov
