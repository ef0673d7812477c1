// Independent decoders agree with hwcov on real soft traces of a real program:
// the single-stepped addresses, libipt's instruction decoder reading
// hwcov's perf.data, Linux perf's own Intel PT decoder (`perf script`), and
// hwcov's block-decoder profile all describe the same execution.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "hwcov/decoder.h"
#include "hwcov/trace.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::RunCommand;
using testing::SplitLines;

std::vector<uint64_t> ParseHexLines(const std::string& text) {
  std::vector<uint64_t> out;
  for (const std::string& line : SplitLines(text)) {
    std::string t = line;
    t.erase(0, t.find_first_not_of(' '));
    if (!t.empty()) out.push_back(std::stoull(t, nullptr, 16));
  }
  return out;
}

// Two traces of the same run: with the default filter (only the program's
// own code, TIP.PGD/TIP.PGE at every call into libc and back) and without a
// filter (libc and the vdso single-stepped too).
class CrossCheck : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() { dir_ = new testing::TempDir("cross-check"); }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override {
    if (fs::exists(Trace())) return;
    std::vector<std::string> argv = {HWCOV_BINARY, "record", "--backend",  "soft",
                                     "-o",         Trace(),  "--step-log", StepLog()};
    if (AllCode()) argv.push_back("--all-code");
    for (const char* a : {"--", HWCOV_EXAMPLE_PRIMES, "--twins", "40"}) argv.push_back(a);
    auto r = RunCommand(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static bool AllCode() { return GetParam(); }
  static std::string Name() { return AllCode() ? "all" : "filtered"; }
  static std::string Trace() { return (dir_->path() / (Name() + ".data")).string(); }
  static std::string StepLog() { return (dir_->path() / (Name() + ".steps")).string(); }
  static std::vector<uint64_t> Steps() { return ParseHexLines(ReadFile(StepLog())); }
  static testing::TempDir* dir_;
};
testing::TempDir* CrossCheck::dir_ = nullptr;

INSTANTIATE_TEST_SUITE_P(Filter, CrossCheck, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "AllCode" : "DefaultFilter";
                         });

TEST_P(CrossCheck, LibiptDecodesExactlyTheSingleSteppedInstructions) {
  auto r = RunCommand({HWCOV_BINARY, "decode", "--list-insns", Trace()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // no gaps
  auto steps = Steps();
  ASSERT_GT(steps.size(), AllCode() ? 10000u : 1000u);
  EXPECT_EQ(ParseHexLines(r.out), steps);
}

TEST_P(CrossCheck, PerfScriptDecodesTheSameInstructions) {
  if (!testing::HaveTool("perf")) GTEST_SKIP() << "perf (linux-perf) not installed";
  auto r = RunCommand({"perf", "script", "-f", "--itrace=i1i", "-F", "ip", "-i", Trace()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ParseHexLines(r.out), Steps()) << "perf stderr: " << r.err;
}

TEST_P(CrossCheck, PerfSeesTheSideband) {
  if (!testing::HaveTool("perf")) GTEST_SKIP() << "perf (linux-perf) not installed";
  auto r = RunCommand({"perf", "script", "-f", "--show-mmap-events", "--show-task-events",
                       "--itrace=", "-i", Trace()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("PERF_RECORD_COMM"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PERF_RECORD_MMAP2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("examples/primes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PERF_RECORD_EXIT"), std::string::npos) << r.out;
}

// The block profile counts every instruction exactly as often as it was
// stepped: expand each block with the same instruction lengths the steps
// had, translate to (module, file offset) and compare the multisets.
TEST_P(CrossCheck, BlockProfileCountsEveryStep) {
  trace::Trace trace = trace::ReadPerfData(Trace());
  decoder::ExecutionProfile profile = decoder::Decode(trace);
  EXPECT_EQ(profile.decoded_bytes, profile.trace_bytes);
  EXPECT_TRUE(profile.gaps.empty());
  auto steps = Steps();
  EXPECT_EQ(profile.instructions, steps.size());

  // Step addresses to (module path, file offset) through the MMAP2 records.
  std::map<std::pair<std::string, uint64_t>, uint64_t> stepped;
  for (uint64_t ip : steps) {
    const trace::MmapEvent* hit = nullptr;
    for (const auto& m : trace.mmaps)
      if (ip >= m.start && ip < m.start + m.len) hit = &m;
    ASSERT_NE(hit, nullptr) << std::hex << ip;
    ++stepped[{hit->filename, ip - hit->start + hit->pgoff}];
  }
  // Each block's instruction starts, from the stepped set's own offsets.
  std::map<std::pair<std::string, uint64_t>, uint64_t> profiled;
  for (const auto& b : profile.blocks) {
    const std::string& path = profile.modules[b.module].path;
    auto it = stepped.lower_bound({path, b.begin});
    uint32_t n = 0;
    for (; it != stepped.end() && it->first.first == path && it->first.second <= b.last; ++it, ++n)
      profiled[it->first] += b.count;
    EXPECT_EQ(n, b.instructions) << path << " block " << std::hex << b.begin << "-" << b.last;
  }
  EXPECT_EQ(profiled, stepped);

  // Branch outcomes: taken + not-taken of each conditional branch equals the
  // number of times it was stepped.
  for (const auto& br : profile.branches) {
    auto key = std::make_pair(profile.modules[br.module].path, br.offset);
    EXPECT_EQ(br.taken + br.not_taken, stepped[key]) << key.first << "+" << std::hex << br.offset;
  }
}

}  // namespace
}  // namespace hwcov
