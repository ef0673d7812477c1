// The perf.data reader and the PT packet layer against real Intel PT
// recordings (Skylake, perf 4.14; see ../shared/fixtures/README.md), with
// Linux perf's own dump (`perf script -D`) as the independent oracle: record
// counts, AUX buffers and the packets of every AUX queue must be what perf
// sees in the same file.
#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hwcov/decoder.h"
#include "hwcov/trace.h"
#include "perf_data_truncation.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using trace::Trace;

const fs::path kFixtures = fs::path(HWCOV_SHARED_DIR) / "fixtures";
const fs::path kFileFixture = kFixtures / "perf.data.intel_pt-4.14";
const fs::path kPipeFixture = kFixtures / "perf.data.piped.intel_pt-4.14";
const fs::path kBuildIds = kFixtures / "perf.data.intel_pt-4.14.buildids";

// perf's record names (util/event.c perf_event__names) to PERF_RECORD_* types.
const std::map<std::string, uint32_t>& RecordTypes() {
  static const std::map<std::string, uint32_t> types = {
      {"MMAP", 1},
      {"LOST", 2},
      {"COMM", 3},
      {"EXIT", 4},
      {"THROTTLE", 5},
      {"UNTHROTTLE", 6},
      {"FORK", 7},
      {"READ", 8},
      {"SAMPLE", 9},
      {"MMAP2", 10},
      {"AUX", 11},
      {"ITRACE_START", 12},
      {"LOST_SAMPLES", 13},
      {"SWITCH", 14},
      {"SWITCH_CPU_WIDE", 15},
      {"NAMESPACES", 16},
      {"KSYMBOL", 17},
      {"BPF_EVENT", 18},
      {"CGROUP", 19},
      {"TEXT_POKE", 20},
      {"AUX_OUTPUT_HW_ID", 21},
      {"ATTR", 64},
      {"EVENT_TYPE", 65},
      {"TRACING_DATA", 66},
      {"BUILD_ID", 67},
      {"FINISHED_ROUND", 68},
      {"ID_INDEX", 69},
      {"AUXTRACE_INFO", 70},
      {"AUXTRACE", 71},
      {"AUXTRACE_ERROR", 72},
      {"THREAD_MAP", 73},
      {"CPU_MAP", 74},
      {"STAT_CONFIG", 75},
      {"STAT", 76},
      {"STAT_ROUND", 77},
      {"EVENT_UPDATE", 78},
      {"TIME_CONV", 79},
      {"FEATURE", 80},
      {"COMPRESSED", 81},
      {"FINISHED_INIT", 82},
  };
  return types;
}

struct PerfAuxBuffer {
  uint32_t idx = 0;
  uint64_t size = 0;       // from the AUXTRACE line
  uint64_t data_size = 0;  // from "Intel Processor Trace data: size N bytes"
};

// Packet lines of one AUX queue as perf dumps them.
struct PerfQueuePackets {
  std::map<std::string, uint64_t> lines;  // packet lines by name
  uint64_t bytes = 0;                     // bytes shown on all lines
  // Zero bytes at the end of non-PAD lines: PADs perf may have folded into
  // the packet before them (or zero bytes of that packet's own payload).
  uint64_t trailing_zero_bytes = 0;
  uint64_t pad_line_bytes = 0;  // bytes shown on PAD lines
};

struct PerfDump {
  std::map<uint32_t, uint64_t> record_counts;
  std::vector<PerfAuxBuffer> aux;
  std::map<uint32_t, PerfQueuePackets> packets;  // by AUX queue idx
  std::vector<std::string> unknown_records;
};

uint64_t ParseNumber(const std::string& text) { return std::stoull(text, nullptr, 0); }

// The value after "key: " in |line| (perf prints "idx: 3  tid: 3174").
std::string FieldAfter(const std::string& line, const std::string& key) {
  auto at = line.find(key);
  if (at == std::string::npos) return {};
  std::istringstream in(line.substr(at + key.size()));
  std::string value;
  in >> value;
  return value;
}

bool IsHexByte(const std::string& token) {
  return token.size() == 2 && std::isxdigit(static_cast<unsigned char>(token[0])) &&
         std::isxdigit(static_cast<unsigned char>(token[1]));
}

// A packet line: ".  00012a5e:  59 75 00 00 00 00 00 00    MTC 0x75".
bool IsPacketLine(const std::string& line) {
  if (line.size() < 12 || line.compare(0, 3, ".  ") != 0 || line[11] != ':') return false;
  for (int i = 3; i < 11; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(line[i]))) return false;
  return true;
}

PerfDump ParsePerfDump(const std::string& text) {
  PerfDump dump;
  int64_t current_idx = -1;  // idx of the AUXTRACE being dumped
  for (const std::string& line : testing::SplitLines(text)) {
    if (IsPacketLine(line)) {
      if (current_idx < 0) continue;
      PerfQueuePackets& q = dump.packets[static_cast<uint32_t>(current_idx)];
      std::istringstream in(line.substr(12));
      std::string token;
      std::vector<std::string> bytes;
      while (in >> token && IsHexByte(token)) bytes.push_back(token);
      q.bytes += bytes.size();
      ++q.lines[token];  // the packet's name ("Bad" for "Bad packet!")
      if (token == "PAD") {
        q.pad_line_bytes += bytes.size();
      } else {
        for (auto it = bytes.rbegin(); it != bytes.rend() && *it == "00"; ++it)
          ++q.trailing_zero_bytes;
      }
      continue;
    }
    // "0 0 0x7788 [0x30]: PERF_RECORD_AUXTRACE size: 0x21a00  offset: 0 ..."
    static const std::string kMarker = "]: PERF_RECORD_";
    auto at = line.find(kMarker);
    if (at != std::string::npos && line[0] != '.') {
      size_t begin = at + kMarker.size(), end = begin;
      while (end < line.size() &&
             (std::isupper(static_cast<unsigned char>(line[end])) ||
              std::isdigit(static_cast<unsigned char>(line[end])) || line[end] == '_'))
        ++end;
      const std::string name = line.substr(begin, end - begin);
      auto type = RecordTypes().find(name);
      if (type == RecordTypes().end()) {
        dump.unknown_records.push_back(line);
        continue;
      }
      ++dump.record_counts[type->second];
      if (name == "AUXTRACE") {
        PerfAuxBuffer b;
        b.idx = static_cast<uint32_t>(ParseNumber(FieldAfter(line, "idx: ")));
        b.size = ParseNumber(FieldAfter(line, "size: "));
        dump.aux.push_back(b);
        current_idx = b.idx;
      } else {
        current_idx = -1;
      }
      continue;
    }
    // ". ... Intel Processor Trace data: size 137728 bytes"
    static const std::string kData = "Intel Processor Trace data: size ";
    at = line.find(kData);
    if (at != std::string::npos && !dump.aux.empty())
      dump.aux.back().data_size = ParseNumber(FieldAfter(line, "data: size "));
  }
  return dump;
}

// `perf script -D` of |path|, or nullopt when perf is not installed.
std::optional<PerfDump> RunPerfDump(const fs::path& path, bool pipe_mode) {
  if (!testing::HaveTool("perf")) return std::nullopt;
  // -f: the fixtures may belong to another user. A pipe-mode file goes
  // through a real pipe: perf 6.1 reading pipe-mode data from anything
  // seekable (`-i FILE` or `-i - < FILE`) lseek()s to the AUX data at offsets
  // that leave out the 16-byte pipe header, so it dumps each AUX buffer 16
  // bytes early and loses the record stream after the first AUXTRACE ("bad
  // event header size"). On a pipe that lseek fails harmlessly.
  const std::string quoted = "'" + path.string() + "'";
  const std::string command =
      pipe_mode ? "cat " + quoted + " | perf script -f -D -i -" : "perf script -f -D -i " + quoted;
  testing::CommandResult r = testing::RunShell(command + " 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << command;
  return ParsePerfDump(r.out);
}

class FixtureTest : public ::testing::TestWithParam<bool> {
 protected:
  bool pipe_mode() const { return GetParam(); }
  fs::path path() const { return pipe_mode() ? kPipeFixture : kFileFixture; }
  void SetUp() override {
    if (!fs::exists(path())) GTEST_SKIP() << "fixture missing: " << path();
  }
};

TEST_P(FixtureTest, ReadsHeaderAttrsAndAuxtraceInfo) {
  Trace t = trace::ReadPerfData(path());
  EXPECT_EQ(t.pipe_mode, pipe_mode());
  EXPECT_TRUE(t.finished);
  for (const std::string& w : t.warnings) ADD_FAILURE() << "warning: " << w;

  // intel_pt, cycles and two dummy:u events (perf record 4.14, attr size 112).
  ASSERT_EQ(t.attrs.size(), 4u);
  ASSERT_TRUE(t.pt.has_value());
  EXPECT_EQ(t.pt->pmu_type, 6u);
  EXPECT_EQ(t.pt->priv.size(), 17u);
  EXPECT_TRUE(t.pt->per_cpu());
  EXPECT_TRUE(t.pt->return_compression());
  int pt_attrs = 0;
  for (const trace::EventAttr& attr : t.attrs) {
    EXPECT_EQ(attr.size, 112u);
    EXPECT_FALSE(attr.ids.empty());
    EXPECT_TRUE(attr.sample_type & trace::kSampleIdentifier);
    if (attr.type != t.pt->pmu_type) continue;
    ++pt_attrs;
    EXPECT_EQ(attr.type, 6u);
    EXPECT_EQ(attr.config, 0x300e601u);
  }
  EXPECT_EQ(pt_attrs, 1);
  EXPECT_EQ(t.pt->priv[1], 31u);        // TIME_SHIFT
  EXPECT_EQ(t.pt->priv[5], 0x400u);     // TSC_BIT
  EXPECT_EQ(t.pt->priv[6], 0x800u);     // NORETCOMP_BIT
  EXPECT_EQ(t.pt->priv[7], 3u);         // HAVE_SCHED_SWITCH: SWITCH_CPU_WIDE
  EXPECT_EQ(t.pt->priv[11], 0x3c000u);  // MTC_FREQ_BITS
  EXPECT_EQ(t.pt->priv[12], 100u);      // TSC_CTC_N
  EXPECT_EQ(t.pt->priv[13], 2u);        // TSC_CTC_D
  EXPECT_EQ(t.pt->priv[15], 12u);       // MAX_NONTURBO_RATIO
  EXPECT_EQ(t.strings["cpuid"], "GenuineIntel,6,78,3");
}

// The reader sees exactly the records and AUX buffers perf sees.
TEST_P(FixtureTest, RecordsAndAuxQueuesMatchPerf) {
  Trace t = trace::ReadPerfData(path());
  std::optional<PerfDump> perf = RunPerfDump(path(), pipe_mode());
  if (!perf) GTEST_SKIP() << "perf is not installed";
  for (const std::string& line : perf->unknown_records)
    ADD_FAILURE() << "record perf names but this test does not know: " << line;
  ASSERT_FALSE(perf->record_counts.empty());
  EXPECT_EQ(t.record_counts, perf->record_counts);

  auto count = [&](uint32_t type) {
    auto it = perf->record_counts.find(type);
    return it == perf->record_counts.end() ? uint64_t{0} : it->second;
  };
  EXPECT_EQ(t.mmaps.size(), count(1) + count(10));
  EXPECT_EQ(t.comms.size(), count(3));
  EXPECT_EQ(t.tasks.size(), count(4) + count(7));
  EXPECT_EQ(t.aux_events.size(), count(11));
  EXPECT_EQ(t.itrace_starts.size(), count(12));
  EXPECT_EQ(t.switches.size(), count(14) + count(15));
  EXPECT_GT(t.switches.size(), 100u);
  for (const trace::SwitchEvent& s : t.switches) EXPECT_TRUE(s.cpu_wide);

  // AUXTRACE buffers: perf's size field, the size of the data it dumped, and
  // our queues (in file order per idx).
  std::map<uint32_t, std::vector<uint64_t>> perf_sizes, our_sizes;
  for (const PerfAuxBuffer& b : perf->aux) {
    EXPECT_EQ(b.size, b.data_size) << "idx " << b.idx;
    perf_sizes[b.idx].push_back(b.data_size);
  }
  for (const trace::AuxQueue& q : t.queues)
    for (const trace::AuxBuffer& b : q.buffers) {
      EXPECT_EQ(b.idx, q.idx);
      EXPECT_EQ(b.cpu, q.cpu);
      EXPECT_NE(b.reference, 0u);
      our_sizes[q.idx].push_back(b.size);
    }
  EXPECT_EQ(our_sizes, perf_sizes);
  ASSERT_EQ(t.queues.size(), 2u);  // per-CPU: cpu 0 and cpu 3
  EXPECT_EQ(t.queues[0].idx, 0u);
  EXPECT_EQ(t.queues[0].cpu, 0u);
  EXPECT_EQ(t.queues[1].idx, 3u);
  EXPECT_EQ(t.queues[1].cpu, 3u);
}

// Every AUX queue holds the packets perf's packet decoder finds there.
TEST_P(FixtureTest, PacketCountsMatchPerf) {
  Trace t = trace::ReadPerfData(path());
  std::optional<PerfDump> perf = RunPerfDump(path(), pipe_mode());
  if (!perf) GTEST_SKIP() << "perf is not installed";
  ASSERT_EQ(perf->packets.size(), t.queues.size());
  for (const trace::AuxQueue& q : t.queues) {
    SCOPED_TRACE("AUX queue idx " + std::to_string(q.idx));
    std::map<std::string, uint64_t> ours = decoder::CountPackets(t, q);
    ASSERT_TRUE(perf->packets.count(q.idx));
    const PerfQueuePackets& theirs = perf->packets.at(q.idx);
    uint64_t queue_bytes = 0;
    for (const trace::AuxBuffer& b : q.buffers) queue_bytes += b.size;
    EXPECT_EQ(theirs.bytes, queue_bytes) << "perf dumped every byte of the queue";
    EXPECT_EQ(ours.count("error"), 0u);
    EXPECT_EQ(theirs.lines.count("Bad"), 0u);

    // PAD is compared as a range, everything else exactly. libipt returns
    // each PAD byte as a packet; perf's dump (intel_pt_get_packet) folds the
    // zero bytes after *any* packet into that packet's line, up to 8 bytes
    // a line ("59 75 00 00 00 00 00 00  MTC 0x75"), so a PAD line stands for
    // one or more PADs and other lines may hide PADs in their trailing zeros.
    std::map<std::string, uint64_t> ours_no_pad = ours, theirs_no_pad = theirs.lines;
    ours_no_pad.erase("PAD");
    theirs_no_pad.erase("PAD");
    EXPECT_EQ(ours_no_pad, theirs_no_pad);
    const uint64_t pads = ours.count("PAD") ? ours.at("PAD") : 0;
    const uint64_t pad_lines = theirs.lines.count("PAD") ? theirs.lines.at("PAD") : 0;
    EXPECT_GE(pads, theirs.pad_line_bytes);
    EXPECT_GE(theirs.pad_line_bytes, pad_lines);
    EXPECT_LE(pads, theirs.pad_line_bytes + theirs.trailing_zero_bytes);

    std::ostringstream report;
    for (const auto& [kind, n] : ours) {
      auto it = theirs.lines.find(kind);
      report << " " << kind << "=" << n << "/" << (it == theirs.lines.end() ? 0 : it->second);
    }
    std::cout << "[ packets ] " << path().filename().string() << " idx " << q.idx
              << " (hwcov/perf lines):" << report.str() << "\n";
  }
}

std::set<std::pair<std::string, std::string>> ParseBuildIdList(const std::string& text) {
  std::set<std::pair<std::string, std::string>> ids;
  for (const std::string& line : testing::SplitLines(text)) {
    std::istringstream in(line);
    std::string hex, file;
    if (!(in >> hex)) continue;
    std::getline(in >> std::ws, file);
    ids.emplace(hex, file);
  }
  return ids;
}

TEST(perf_data_fixture, BuildIdsMatchPerfBuildidList) {
  if (!fs::exists(kFileFixture) || !fs::exists(kBuildIds)) GTEST_SKIP() << "fixture missing";
  Trace t = trace::ReadPerfData(kFileFixture);
  const auto expected = ParseBuildIdList(testing::ReadFile(kBuildIds));
  ASSERT_FALSE(expected.empty());
  std::set<std::pair<std::string, std::string>> ours;
  for (const trace::BuildIdEntry& e : t.build_ids) {
    EXPECT_EQ(e.build_id.bytes.size(), 20u) << e.filename;
    ours.emplace(e.build_id.Hex(), e.filename);
  }
  EXPECT_EQ(ours, expected);
  EXPECT_EQ(t.build_ids.size(), expected.size());
}

// Without the recording machine's binaries nothing maps: the decoder reports
// no-image gaps instead of failing, and says how little it decoded.
TEST_P(FixtureTest, DecodeWithoutBinariesReportsGaps) {
  Trace t = trace::ReadPerfData(path());
  decoder::ExecutionProfile profile;
  ASSERT_NO_THROW(profile = decoder::Decode(t));
  uint64_t queue_bytes = 0;
  for (const trace::AuxQueue& q : t.queues)
    for (const trace::AuxBuffer& b : q.buffers) queue_bytes += b.size;
  EXPECT_EQ(profile.trace_bytes, queue_bytes);
  EXPECT_LT(profile.decoded_share(), 1.0);
  int no_image = 0;
  for (const decoder::Gap& gap : profile.gaps) no_image += gap.kind == decoder::GapKind::kNoImage;
  EXPECT_GT(no_image, 0);
  std::cout << "[ decode  ] " << path().filename().string() << ": " << profile.gaps.size()
            << " gaps (" << no_image << " no-image), decoded share " << profile.decoded_share()
            << ", " << profile.instructions << " instructions\n";
}

// A cut-off copy of a real recording is either rejected with an error naming
// the file or read as unfinished; never a crash (sampled offsets; the reader
// test cuts synthetic files at every byte).
TEST_P(FixtureTest, TruncatedCopiesFailCleanly) {
  testing::TempDir dir("fixture_truncation");
  testing::CheckEveryTruncation(testing::ReadFile(path()), pipe_mode(), dir.path() / "cut.data",
                                /*step=*/997);
}

std::string ModeName(const ::testing::TestParamInfo<bool>& param) {
  return param.param ? "Piped" : "File";
}

// The suite names carry "perf_data" so that `ctest -R perf_data` selects them.
INSTANTIATE_TEST_SUITE_P(perf_data_fixture, FixtureTest, ::testing::Values(false, true), ModeName);

}  // namespace
}  // namespace hwcov
