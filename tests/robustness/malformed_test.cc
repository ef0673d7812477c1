// Wrong sizes and offsets in a real recording's header and records, attr
// sizes of future perf versions, inputs that are not traces at all, and
// sizes that would make a naive reader allocate without bound: each is an
// error naming the file (and the offset where it matters) or a trace read
// as it should be; never a crash, a hang or an allocation the file cannot
// justify.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>

#include "corrupt_trace.h"
#include "hwcov/trace.h"
#include "test_support.h"

namespace hwcov::robustness {
namespace {

namespace fs = std::filesystem;

const std::string& LoopsTrace() { return Recording(HWCOV_TEST_PROGRAMS_DIR "/loops", {"5"}); }

struct Damage {
  std::string name;
  std::function<void(std::string&, const FileLayout&)> apply;
  std::string expected;  // in the error message
};

const RecordSpan& FirstOfType(const FileLayout& layout, uint32_t type) {
  for (const RecordSpan& r : layout.records)
    if (r.type == type) return r;
  throw Error("no record of type " + std::to_string(type));
}

// The feature table entry {offset, size} of the |index|-th present feature.
uint64_t FeatureEntry(const FileLayout& layout, int index) {
  return layout.data_offset + layout.data_size + 16 * static_cast<uint64_t>(index);
}

TEST(robustness, WrongSizesInARealTrace) {
  testing::TempDir dir("robust-sizes");
  const std::string& good = LoopsTrace();
  const FileLayout layout = LayoutOf(good);
  const RecordSpan& comm = FirstOfType(layout, 3);
  const RecordSpan& aux = FirstOfType(layout, 71);
  // A record close enough to the data end that 65528 bytes run past it.
  const uint64_t data_end = layout.data_offset + layout.data_size;
  RecordSpan last;
  for (const RecordSpan& r : layout.records)
    if (r.payload == 0 && r.offset + 0xfff8 > data_end) last = r;
  ASSERT_NE(last.size, 0u);
  const std::vector<Damage> cases = {
      {"unknown header size", [](std::string& b, const FileLayout&) { Patch<uint64_t>(b, 8, 200); },
       "unsupported perf.data header size 200"},
      {"absurd attr entry size",
       [](std::string& b, const FileLayout&) { Patch<uint64_t>(b, 16, uint64_t{1} << 40); },
       "invalid attr entry size 1099511627776"},
      {"attr section not a multiple of its entries",
       [](std::string& b, const FileLayout&) { Patch<uint64_t>(b, 32, 145); },
       "attr section size 145 is not a multiple of the attr entry size 144"},
      {"attr section beyond the file",
       [](std::string& b, const FileLayout&) { Patch<uint64_t>(b, 24, uint64_t{1} << 60); },
       "attr section [1152921504606846976, +144) lies beyond the end of the file"},
      {"attr.size larger than its entry",
       [](std::string& b, const FileLayout&) { Patch<uint32_t>(b, 104 + 4, 4000); },
       "invalid perf_event_attr size 4000 at offset 112"},
      {"attr ids beyond the file",
       [](std::string& b, const FileLayout&) { Patch<uint64_t>(b, 104 + 128 + 8, 1 << 30); },
       "attr ids section [248, +1073741824) lies beyond the end of the file"},
      {"data section beyond the file",
       [](std::string& b, const FileLayout&) { Patch<uint64_t>(b, 40, uint64_t{1} << 50); },
       "data section starts beyond end of file"},
      {"data size beyond the file",
       [](std::string& b, const FileLayout&) { Patch<uint64_t>(b, 48, b.size()); },
       "lies beyond the end of the file (" + std::to_string(good.size()) + " bytes): truncated"},
      {"record of size 0",
       [&](std::string& b, const FileLayout&) { Patch<uint16_t>(b, comm.offset + 6, 0); },
       "corrupt record at offset " + std::to_string(comm.offset) + ": type 3, size 0"},
      {"record running past the data",
       [=](std::string& b, const FileLayout&) { Patch<uint16_t>(b, last.offset + 6, 0xfff8); },
       "corrupt record at offset " + std::to_string(last.offset) + ": type " +
           std::to_string(last.type) + ", size 65528 runs past the end of the data"},
      {"record too small for its fields",
       [&](std::string& b, const FileLayout&) { Patch<uint16_t>(b, comm.offset + 6, 16); },
       "record at offset " + std::to_string(comm.offset) + " too small for its sample_id trailer"},
      {"AUXTRACE payload of 2^62 bytes",
       [&](std::string& b, const FileLayout&) {
         Patch<uint64_t>(b, aux.offset + 8, uint64_t{1} << 62);
       },
       "record at offset " + std::to_string(aux.offset) +
           " (type 71) carries 4611686018427387904 bytes of payload beyond the end of the data"},
      {"AUXTRACE record smaller than its fields",
       [&](std::string& b, const FileLayout&) { Patch<uint16_t>(b, aux.offset + 6, 40); },
       "AUXTRACE record at offset " + std::to_string(aux.offset) + " is too small (40 bytes)"},
      {"feature section beyond the file",
       [](std::string& b, const FileLayout& l) {
         Patch<uint64_t>(b, FeatureEntry(l, 0), b.size());
       },
       "feature section ["},
      {"snapshot of 2^62 bytes",
       [](std::string& b, const FileLayout& l) {
         // hwcov's snapshot section (count, pid, start, name length, name,
         // size): its entry in the feature table follows those of the
         // features with a lower bit.
         const uint64_t table = l.data_offset + l.data_size;
         uint64_t before = 0;
         for (int bit = 0; bit < trace::kFeatureHwcovSnapshots; ++bit) {
           uint64_t word;
           std::memcpy(&word, b.data() + 72 + 8 * (bit / 64), 8);
           before += (word >> (bit % 64)) & 1;
         }
         uint64_t payload;
         std::memcpy(&payload, b.data() + table + 16 * before, 8);
         uint32_t name_len;
         std::memcpy(&name_len, b.data() + payload + 16, 4);
         Patch<uint64_t>(b, payload + 20 + name_len, uint64_t{1} << 62);
       },
       "truncated: need 4611686018427387904 bytes"},
  };
  const fs::path path = dir.path() / "damaged.data";
  for (const Damage& d : cases) {
    std::string bytes = good;
    d.apply(bytes, layout);
    WriteFile(path, bytes);
    const Outcome o = Report(path);
    ASSERT_TRUE(o.error) << d.name << ": read as a trace";
    EXPECT_EQ(o.error->rfind(path.string() + ": ", 0), 0u) << d.name << ": " << *o.error;
    EXPECT_NE(o.error->find(d.expected), std::string::npos) << d.name << ": " << *o.error;
  }
}

TEST(robustness, NotTracesAtAll) {
  testing::TempDir dir("robust-not-traces");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty file, not a perf.data trace"},
      {"PERFILE2", "not a perf.data file (only 8 bytes)"},
      {std::string("\x7f"
                   "ELF\x02\x01\x01",
                   7) +
           std::string(100, '\0'),
       "not a perf.data file (bad magic; PERFILE2 expected)"},
  };
  for (const auto& [bytes, expected] : cases) {
    const fs::path path = dir.path() / "input.data";
    WriteFile(path, bytes);
    const Outcome o = Report(path);
    ASSERT_TRUE(o.error) << expected;
    EXPECT_EQ(*o.error, path.string() + ": " + expected);
  }
  const Outcome d = Report(dir.path());
  ASSERT_TRUE(d.error);
  EXPECT_EQ(*d.error, dir.path().string() + ": is a directory, not a trace file");
  const Outcome missing = Report(dir.path() / "missing.data");
  ASSERT_TRUE(missing.error);
  EXPECT_EQ(*missing.error, (dir.path() / "missing.data").string() + ": No such file or directory");
}

// --- hand-built files ------------------------------------------------------

constexpr uint64_t kMagic = 0x32454c4946524550ull;
constexpr uint64_t kSampleType = 1 | 2 | 4 | (1 << 16);  // IP TID TIME IDENTIFIER

std::string Attr(uint32_t size) {
  std::string a(size, '\0');
  Patch<uint32_t>(a, 0, 9);
  Patch<uint32_t>(a, 4, size);
  Patch<uint64_t>(a, 8, 0x300e601);
  Patch<uint64_t>(a, 24, kSampleType);
  Patch<uint64_t>(a, 40, (1 << 18) | (1 << 5));
  return a;
}

std::string AuxtraceInfo(uint32_t type = 1, size_t parameters = 17) {
  std::string r(16 + 8 * parameters, '\0');
  Patch<uint32_t>(r, 0, 70);
  Patch<uint16_t>(r, 6, static_cast<uint16_t>(r.size()));
  Patch<uint32_t>(r, 8, type);
  Patch<uint64_t>(r, 16, 9);  // priv[0]: PMU type
  return r;
}

std::string Auxtrace(uint32_t idx, const std::string& pt) {
  std::string r(48, '\0');
  Patch<uint32_t>(r, 0, 71);
  Patch<uint16_t>(r, 6, 48);
  Patch<uint64_t>(r, 8, pt.size());
  Patch<uint32_t>(r, 32, idx);
  Patch<uint32_t>(r, 36, 100 + idx);
  Patch<uint32_t>(r, 40, UINT32_MAX);
  return r + pt;
}

std::string FileMode(uint32_t attr_size, const std::string& data) {
  std::string f(104, '\0');
  const uint64_t entry = attr_size + 16;
  Patch(f, 0, kMagic);
  Patch<uint64_t>(f, 8, 104);
  Patch(f, 16, entry);
  Patch<uint64_t>(f, 24, 104);
  Patch(f, 32, entry);
  Patch<uint64_t>(f, 40, 104 + entry + 8);
  Patch<uint64_t>(f, 48, data.size());
  std::string ids(16, '\0');
  Patch<uint64_t>(ids, 0, 104 + entry);
  Patch<uint64_t>(ids, 8, 8);
  std::string id(8, '\0');
  Patch<uint64_t>(id, 0, 42);
  return f + Attr(attr_size) + ids + id + data;
}

std::string PipeMode(uint32_t attr_size, const std::string& data) {
  std::string f(16, '\0');
  Patch(f, 0, kMagic);
  Patch<uint64_t>(f, 8, 16);
  std::string attr(8, '\0');
  Patch<uint32_t>(attr, 0, 64);
  Patch<uint16_t>(attr, 6, static_cast<uint16_t>(8 + attr_size + 8));
  std::string id(8, '\0');
  Patch<uint64_t>(id, 0, 42);
  return f + attr + Attr(attr_size) + id + data;
}

// perf grows perf_event_attr (64 in 2.6.31, 136 in 6.3); later sizes must read
// the fields hwcov knows and skip the rest, in both modes.
TEST(robustness, AttrSizesOfFuturePerfVersions) {
  testing::TempDir dir("robust-attr-sizes");
  const std::string data = AuxtraceInfo() + Auxtrace(0, std::string(16, '\x02'));
  for (uint32_t size : {144u, 256u, 1024u, 4080u}) {
    for (bool pipe : {false, true}) {
      if (pipe && size + 16 > 0xffff) continue;
      const fs::path path = dir.path() / "future.data";
      WriteFile(path, pipe ? PipeMode(size, data) : FileMode(size, data));
      trace::Trace t = trace::ReadPerfData(path);
      ASSERT_EQ(t.attrs.size(), 1u) << size;
      EXPECT_EQ(t.attrs[0].size, size);
      EXPECT_EQ(t.attrs[0].config, 0x300e601u);
      EXPECT_EQ(t.attrs[0].sample_type, kSampleType);
      EXPECT_EQ(t.attrs[0].ids, std::vector<uint64_t>{42});
      ASSERT_TRUE(t.pt);
      EXPECT_EQ(t.pt->config, 0x300e601u);
      ASSERT_EQ(t.queues.size(), 1u);
      EXPECT_EQ(t.queues[0].buffers[0].size, 16u);
    }
  }
  // Beyond what the reader accepts: one line, before any allocation.
  const fs::path path = dir.path() / "huge.data";
  WriteFile(path, FileMode(8192, data));
  EXPECT_EQ(Report(path).error.value_or(""), path.string() + ": invalid attr entry size 8208");
}

// AUXTRACE_INFO is what makes a trace an Intel PT trace: too short for the
// Intel PT parameters is an error; another AUX type is a trace without PT.
TEST(robustness, AuxtraceInfoOfTheWrongShape) {
  testing::TempDir dir("robust-auxtrace-info");
  const fs::path path = dir.path() / "info.data";
  WriteFile(path, FileMode(128, AuxtraceInfo(1, 5)));
  EXPECT_EQ(Report(path).error.value_or(""),
            path.string() +
                ": AUXTRACE_INFO at offset 256 has 5 parameters; Intel PT needs at "
                "least 10");
  WriteFile(path, FileMode(128, AuxtraceInfo(3) + Auxtrace(0, std::string(16, '\x02'))));
  const trace::Trace t = trace::ReadPerfData(path);
  EXPECT_FALSE(t.pt);
  EXPECT_EQ(t.warnings, std::vector<std::string>{
                            "AUXTRACE_INFO of type 3 is not Intel PT; its data is ignored"});
  const testing::CommandResult r = testing::RunCommand({HWCOV_BINARY, "report", path.string()});
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure);
  EXPECT_EQ(r.err, "hwcov: " + path.string() +
                       ": the trace has no Intel PT data (no AUXTRACE_INFO record)\n");
}

// 4096 attrs whose ids sections all name one 1 MiB section would be 4 GiB
// of ids; the reader refuses ids that the file cannot hold.
TEST(robustness, AttrIdsCannotOutgrowTheFile) {
  testing::TempDir dir("robust-ids");
  constexpr uint64_t kAttrs = 4096, kIds = 1 << 17, kEntry = 64 + 16;
  const uint64_t ids_offset = 104 + kAttrs * kEntry;
  std::string f(104, '\0');
  Patch(f, 0, kMagic);
  Patch<uint64_t>(f, 8, 104);
  Patch(f, 16, kEntry);
  Patch<uint64_t>(f, 24, 104);
  Patch(f, 32, kAttrs * kEntry);
  Patch(f, 40, ids_offset + kIds * 8);
  for (uint64_t i = 0; i < kAttrs; ++i) {
    std::string ids(16, '\0');
    Patch(ids, 0, ids_offset);
    Patch(ids, 8, kIds * 8);
    f += Attr(64) + ids;
  }
  f += std::string(kIds * 8, '\0');
  const fs::path path = dir.path() / "ids.data";
  WriteFile(path, f);
  const std::string error = Report(path).error.value_or("");
  EXPECT_NE(error.find("attr id sections name more ids than the file holds"), std::string::npos)
      << error;
}

// 100,000 AUX queues of one buffer each: read in linear time.
TEST(robustness, ManyQueuesReadInLinearTime) {
  testing::TempDir dir("robust-queues");
  constexpr uint32_t kQueues = 100000;
  std::string data = AuxtraceInfo();
  data.reserve(kQueues * 56);
  for (uint32_t i = 0; i < kQueues; ++i) data += Auxtrace(kQueues - i, std::string(8, '\0'));
  const fs::path path = dir.path() / "queues.data";
  WriteFile(path, PipeMode(128, data));
  const auto start = std::chrono::steady_clock::now();
  trace::Trace t = trace::ReadPerfData(path);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(t.queues.size(), kQueues);
  EXPECT_EQ(t.queues.front().idx, 1u);
  EXPECT_EQ(t.queues.back().idx, kQueues);
  EXPECT_LT(seconds, 30.0);  // quadratic (before the fix) took minutes under ASan
  std::cout << "[ queues  ] " << kQueues << " queues read in " << seconds << " s\n";
}

}  // namespace
}  // namespace hwcov::robustness
