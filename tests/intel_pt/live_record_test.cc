// Decoding while recording with the intel-pt backend, against the fake
// kernel: the recorder hands what it reads from the rings (kernel records
// decoded by the shared codec, AUX reads, build ids and [vdso] bytes at
// their MMAP2) to RecordOptions::live as it comes, and what a
// decoder::StreamDecoder there decodes must be what a reader of the
// perf.data of the same recording decodes: the profile, the losses the
// kernel reported and where they lie, and the coverage `hwcov run` writes.
#include <gtest/gtest.h>
#include <linux/perf_event.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "decode_test_support.h"
#include "fake_machine.h"
#include "hwcov/decoder.h"
#include "hwcov/pipeline.h"
#include "hwcov/trace.h"
#include "intel_pt_recorder.h"
#include "replay.h"

namespace hwcov {
namespace {

using decoder::ExecutionProfile;

const fs::path kVdsoClock = HWCOV_VDSO_CLOCK;
// Soft recordings with sync points every 256 bytes: many places to cut.
const std::vector<std::string> kPsbEvery256 = {"--psb-period", "256"};

// The replay as tests/intel_pt/fake_kernel_test.cc's losses test plays it:
// the hardware outruns the reader (TRUNCATED), a VMX transition in chunk 2
// (PARTIAL), 3 sideband records dropped (LOST).
constexpr ReplayOptions kLossy{.flags_at_chunk2 = PERF_AUX_FLAG_PARTIAL, .lost = 3};
constexpr size_t kLossySteps = kPadWrites + 1;  // AUX steps per poll

// One recording of |replay|: `hwcov record` (options.output) or `hwcov
// run` (options.live, no output) as the CLI makes it, on a fresh machine.
void RecordReplay(const Replay& replay, const ReplayOptions& how, size_t steps_per_poll,
                  const fs::path& output, trace::TraceSink* live) {
  FakeMachine machine("pt-live-machine");
  FakeKernel kernel;
  kernel.script = [&](FakeKernel& k) { return replay.Steps(k, how); };
  kernel.aux_steps_per_poll = steps_per_poll;
  collector::RecordOptions options = Options(output, nullptr);
  options.live = live;
  RunWhileKernelWrites(options, kernel, machine.dir.path());
  collector::RecordIntelPt(options, machine.Host(&kernel));
}

size_t LostDataGaps(const ExecutionProfile& p) {
  size_t n = 0;
  for (const decoder::Gap& g : p.gaps) n += g.kind == decoder::GapKind::kLostData;
  return n;
}

// One recording teed into its file and a stream decoder with a bound of
// 256 bytes, so that it decodes at nearly every sync point while the
// recording runs (images built then must already hold what runs in them).
struct Teed {
  ExecutionProfile file, streamed;
  uint64_t decode_runs = 0;
};

Teed RecordTeed(const Replay& replay, const ReplayOptions& how, size_t steps_per_poll) {
  testing::TempDir dir("pt-live-tee");
  decoder::DecodeOptions options;
  options.stream_buffer_bytes = 256;
  decoder::StreamDecoder live(options);
  RecordReplay(replay, how, steps_per_poll, dir.path() / "hw.data", &live);
  Teed t;
  t.streamed = testing::ByPath(live.TakeProfile());
  t.decode_runs = live.decode_runs();
  t.file = testing::ByPath(decoder::Decode(trace::ReadPerfData(dir.path() / "hw.data"), options));
  return t;
}

void ExpectSameGapQueues(const ExecutionProfile& a, const ExecutionProfile& b) {
  ASSERT_EQ(a.gaps.size(), b.gaps.size());
  for (size_t i = 0; i < a.gaps.size(); ++i) {
    EXPECT_EQ(a.gaps[i].queue, b.gaps[i].queue) << a.gaps[i].detail;
    EXPECT_EQ(a.gaps[i].detail, b.gaps[i].detail);
  }
}

// The kernel's loss reports reach the stream decoder as they reach the
// file, and are placed in the same queue at the same stream offset.
TEST(IntelPtLive, StreamedProfileIsTheFilesWithItsLosses) {
  const Teed t = RecordTeed(Replay::Get({kLoops.string()}, kPsbEvery256), kLossy, kLossySteps);
  EXPECT_GE(t.decode_runs, 2u) << "decoded in ranges";
  ASSERT_GT(t.file.instructions, 100u);
  EXPECT_EQ(LostDataGaps(t.file), 3u) << "TRUNCATED, PARTIAL, LOST";
  testing::ExpectSameProfile(t.file, t.streamed);
  ExpectSameGapQueues(t.file, t.streamed);
}

// clock_gettime runs in the [vdso], whose bytes no file holds: the
// recorder gives them to the sink at the MMAP2, before the PT that runs
// there, or an image the stream decoder builds mid-recording lacks them.
TEST(IntelPtLive, VdsoBytesComeBeforeTheCodeThatRunsInThem) {
  std::vector<std::string> options = kPsbEvery256;
  options.push_back("--all-code");
  const Replay& replay = Replay::Get({kVdsoClock.string()}, options);
  const Teed t = RecordTeed(replay, {}, 1);
  EXPECT_GE(t.decode_runs, 2u) << "decoded in ranges";
  std::optional<uint32_t> vdso;
  for (uint32_t i = 0; i < t.file.modules.size(); ++i)
    if (t.file.modules[i].path == "[vdso]") vdso = i;
  ASSERT_TRUE(vdso) << "no [vdso] module";
  uint64_t in_vdso = 0;
  for (const auto& b : t.file.blocks) in_vdso += b.module == *vdso ? b.count : 0;
  EXPECT_GT(in_vdso, 0u) << "the program's clock_gettime did not run in the [vdso]";
  EXPECT_TRUE(t.file.gaps.empty()) << t.file.gaps.front().detail;
  testing::ExpectSameProfile(t.file, t.streamed);
}

// TMPDIR set to |dir| while it lives.
class TmpdirIs {
 public:
  explicit TmpdirIs(const fs::path& dir) {
    if (const char* old = std::getenv("TMPDIR")) old_ = old;
    setenv("TMPDIR", dir.c_str(), 1);
  }
  ~TmpdirIs() {
    if (old_)
      setenv("TMPDIR", old_->c_str(), 1);
    else
      unsetenv("TMPDIR");
  }

 private:
  std::optional<std::string> old_;
};

pipeline::ReportRequest RequestFor(const fs::path& dir, const std::string& name) {
  pipeline::ReportRequest request;
  request.outputs.json = dir / (name + ".json");
  request.outputs.lcov = dir / (name + ".info");
  request.scope.root = HWCOV_SOURCE_DIR;
  return request;
}

// Loss details name the traced thread, whose id differs between runs.
std::string WithoutThreadIds(std::string text) {
  for (size_t at = text.find("tid "); at != std::string::npos; at = text.find("tid ", at + 1)) {
    size_t end = at + 4;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    text.replace(at + 4, end - (at + 4), "N");
  }
  return text;
}

// `hwcov run --backend intel-pt` as the CLI runs it: a LiveReport's sink as
// RecordOptions::live. With -o, the report of the trace it writes is its
// own, losses included; without, it writes no trace (nothing in TMPDIR)
// and reports what it reports with one.
TEST(IntelPtLive, RunReportsAsRecordThenReportWithoutATraceFile) {
  const Replay& replay = Replay::Get();
  testing::TempDir dir("pt-live-run");
  {  // hwcov run -o hw.data, then hwcov report hw.data
    pipeline::LiveReport live(RequestFor(dir.path(), "live-o"));
    RecordReplay(replay, kLossy, kLossySteps, dir.path() / "hw.data", &live.sink());
    live.Report();
  }
  const pipeline::ReportResult after =
      pipeline::RunReport({dir.path() / "hw.data"}, RequestFor(dir.path(), "after"));
  const std::string json = testing::ReadFile(dir.path() / "after.json");
  EXPECT_EQ(testing::ReadFile(dir.path() / "live-o.json"), json);
  EXPECT_EQ(testing::ReadFile(dir.path() / "live-o.info"),
            testing::ReadFile(dir.path() / "after.info"));
  EXPECT_NE(json.find("TRUNCATED"), std::string::npos) << "the loss is not in the report";
  EXPECT_EQ(after.coverage.quality.gaps_by_kind.at("lost-data"), 3u);
  EXPECT_GT(after.summary.total.lines.hit, 0u);

  const fs::path tmp = dir.path() / "tmp";
  fs::create_directories(tmp);
  {  // hwcov run
    TmpdirIs tmpdir(tmp);
    pipeline::LiveReport live(RequestFor(dir.path(), "live"));
    RecordReplay(replay, kLossy, kLossySteps, "", &live.sink());
    live.Report();
  }
  EXPECT_TRUE(fs::is_empty(tmp)) << "a file was left in TMPDIR";
  EXPECT_EQ(WithoutThreadIds(testing::ReadFile(dir.path() / "live.json")), WithoutThreadIds(json));
  EXPECT_EQ(testing::ReadFile(dir.path() / "live.info"),
            testing::ReadFile(dir.path() / "after.info"));
}

}  // namespace
}  // namespace hwcov
