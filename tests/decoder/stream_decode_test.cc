// Decoding while recording (StreamDecoder as RecordOptions::live, teed with
// a perf.data file of the same run): the profile decoded as the trace was
// produced, a range at a time, must be the one decoded from the file
// afterwards, with the sideband (mappings, exec, fork, threads, dlopen)
// arriving interleaved with the PT. The bound is set tiny so that every
// queue is cut at many sync points, across epochs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "decode_test_support.h"
#include "hwcov/collector.h"
#include "hwcov/decoder.h"
#include "hwcov/trace.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using decoder::DecodeOptions;
using decoder::ExecutionProfile;

struct Case {
  const char* name;
  const char* program;
  bool all_code;
  uint64_t buffer_bytes;  // StreamDecoder's bound
  uint64_t min_runs;      // decoded in at least this many ranges
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name << " (" << c.program << (c.all_code ? ", all code" : "") << ", bound "
      << c.buffer_bytes << " bytes)";
}

class StreamDecode : public ::testing::TestWithParam<Case> {};

TEST_P(StreamDecode, SameProfileAsTheFileOfTheSameRun) {
  const Case& c = GetParam();
  testing::TempDir dir("stream-decode");
  DecodeOptions options;
  options.jobs = 2;
  options.stream_buffer_bytes = c.buffer_bytes;
  decoder::StreamDecoder live(options);
  collector::RecordOptions record;
  record.command = {(testing::kPrograms / c.program).string()};
  record.output = dir.path() / "tee.data";
  record.live = &live;
  record.backend = collector::Backend::kSoft;
  record.trace_everything = c.all_code;
  record.psb_period = 256;  // many sync points, so many cuts
  ASSERT_EQ(collector::Record(record).exit_status, 0);
  const ExecutionProfile streamed = testing::ByPath(live.TakeProfile());
  const trace::Trace trace = trace::ReadPerfData(record.output);
  DecodeOptions after;
  after.jobs = 2;
  const ExecutionProfile expected = testing::ByPath(decoder::Decode(trace, after));
  ASSERT_GT(expected.instructions, 0u);
  EXPECT_GE(live.decode_runs(), c.min_runs) << "the trace was not decoded a range at a time";
  EXPECT_LE(live.peak_buffered_bytes(), c.buffer_bytes + (64 << 10));
  testing::ExpectSameProfile(expected, streamed);
  EXPECT_EQ(expected.trace_bytes, streamed.trace_bytes);
  EXPECT_EQ(expected.libipt_stretch_bytes, streamed.libipt_stretch_bytes);
  ASSERT_EQ(expected.modules.size(), streamed.modules.size());
  for (size_t i = 0; i < expected.modules.size(); ++i)
    EXPECT_EQ(expected.modules[i].path, streamed.modules[i].path);
}

// loops: one process, one queue. threads: a queue per thread, interleaved.
// dl: dlopen/dlclose, new epochs mid-stream. forker: fork and exec, each
// process its own address space, with libc (--all-code) and the [vdso].
INSTANTIATE_TEST_SUITE_P(Programs, StreamDecode,
                         ::testing::Values(Case{"loops", "loops", false, 128, 2},
                                           Case{"loops_all", "loops", true, 256, 4},
                                           Case{"threads", "threads", true, 256, 6},
                                           Case{"dl", "dl", true, 256, 8},
                                           Case{"forker", "forker", true, 256, 4},
                                           Case{"loops_default_bound", "loops", true,
                                                DecodeOptions{}.stream_buffer_bytes, 1}),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           return std::string(param.param.name);
                         });

// `hwcov run` (soft) without -o writes no trace anywhere, and reports what
// record-then-report does on the same (deterministic) program.
TEST(StreamDecodeCli, RunWritesNoTraceAndReportsAsRecordThenReport) {
  testing::TempDir dir("stream-decode-cli");
  const fs::path tmp = dir.path() / "tmp";
  fs::create_directories(tmp);
  const std::string program = (testing::kPrograms / "loops").string();
  const std::string root = HWCOV_SOURCE_DIR;
  const auto live = testing::RunCommand({"/usr/bin/env", "TMPDIR=" + tmp.string(), HWCOV_BINARY,
                                         "run", "-q", "--backend", "soft", "--root", root, "--json",
                                         (dir.path() / "live.json").string(), "--", program});
  ASSERT_EQ(live.exit_code, 0) << live.err;
  EXPECT_NE(live.err.find("decoded as recorded (no trace file)"), std::string::npos) << live.err;
  EXPECT_TRUE(fs::is_empty(tmp));
  const fs::path trace = dir.path() / "t.data";
  ASSERT_EQ(testing::RunCommand(
                {HWCOV_BINARY, "record", "--backend", "soft", "-o", trace.string(), "--", program})
                .exit_code,
            0);
  const auto after = testing::RunCommand({HWCOV_BINARY, "report", "-q", "--root", root, "--json",
                                          (dir.path() / "after.json").string(), trace.string()});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(testing::ReadFile(dir.path() / "live.json"),
            testing::ReadFile(dir.path() / "after.json"));
}

TEST(StreamDecoderSink, NoProfileBeforeTheEnd) {
  decoder::StreamDecoder live;
  EXPECT_THROW(live.TakeProfile(), Error);
}

}  // namespace
}  // namespace hwcov
