// Traces cut short: a finished recording cut at every record boundary and in
// the middle of every record is refused with an error naming the file and
// saying it is truncated; the same records as a killed recording leaves them
// (data size 0 in the header) give a report at every cut, whose every line
// count is at most the complete trace's and which says, as a lost-data gap,
// that the trace is incomplete.
#include <gtest/gtest.h>

#include <set>

#include "corrupt_trace.h"
#include "test_support.h"

namespace hwcov::robustness {
namespace {

namespace fs = std::filesystem;

// Recordings with few and with many records: one thread; four threads
// (a queue each); a fork (FORK, two processes); dlopen (MMAP2 mid-trace).
class Truncation : public ::testing::TestWithParam<std::vector<std::string>> {
 protected:
  const std::string& Trace() const {
    std::vector<std::string> args = GetParam();
    const std::string program = std::string(HWCOV_TEST_PROGRAMS_DIR "/") + args.front();
    args.erase(args.begin());
    return Recording(program, args);
  }
};

// Every record start, every record middle, the data end: where to cut.
std::set<uint64_t> CutPoints(const FileLayout& layout) {
  std::set<uint64_t> at;
  for (const RecordSpan& r : layout.records) {
    at.insert(r.offset);
    at.insert(r.offset + r.size / 2);
    if (r.payload) at.insert(r.offset + 48);  // AUXTRACE header only, no PT
  }
  at.insert(layout.data_offset + layout.data_size);
  return at;
}

TEST_P(Truncation, FinishedTraceCutAtEveryRecordIsAnError) {
  testing::TempDir dir("robust-cut-finished");
  const std::string& full = Trace();
  const FileLayout layout = LayoutOf(full);
  ASSERT_GT(layout.records.size(), 5u);
  const fs::path path = dir.path() / "cut.data";
  const uint64_t data_end = layout.data_offset + layout.data_size;
  int cuts = 0;
  for (uint64_t n : CutPoints(layout)) {
    WriteFile(path, full.substr(0, n));
    const Outcome o = Report(path);
    if (n == data_end) {
      // Every record is there, the features (build ids, [vdso] bytes) not.
      ASSERT_FALSE(o.error) << *o.error;
      EXPECT_FALSE(o.finished);
      EXPECT_NE(GapDetail(o.coverage, "lost-data").find("feature table truncated"),
                std::string::npos);
      continue;
    }
    ASSERT_TRUE(o.error) << "cut at " << n << " read as a trace";
    EXPECT_NE(o.error->find(path.string() + ": "), std::string::npos) << *o.error;
    EXPECT_NE(o.error->find("truncated"), std::string::npos) << "cut at " << n << ": " << *o.error;
    ++cuts;
  }
  std::cout << "[ cuts    ] " << cuts << " cuts of a " << full.size() << "-byte trace with "
            << layout.records.size() << " records\n";
}

TEST_P(Truncation, InterruptedTraceCutAtEveryRecordReportsWhatItHas) {
  testing::TempDir dir("robust-cut-interrupted");
  const std::string& full = Trace();
  const FileLayout layout = LayoutOf(full);
  const fs::path whole = dir.path() / "whole.data";
  WriteFile(whole, full);
  const Outcome reference = Report(whole);
  ASSERT_FALSE(reference.error) << *reference.error;
  ASSERT_TRUE(reference.finished);
  EXPECT_EQ(GapDetail(reference.coverage, "lost-data"), "");
  const auto full_counts = LineCounts(reference.coverage);
  ASSERT_FALSE(full_counts.empty());

  const std::string interrupted = AsInterrupted(full, layout.data_offset + layout.data_size);
  const fs::path path = dir.path() / "interrupted.data";
  int reports = 0, with_lines = 0;
  for (uint64_t n : CutPoints(layout)) {
    WriteFile(path, interrupted.substr(0, n));
    const Outcome o = Report(path);
    ASSERT_FALSE(o.error) << "cut at " << n << ": " << *o.error;
    EXPECT_FALSE(o.finished) << "cut at " << n;
    ++reports;
    // Honest: the report says the trace is incomplete and why...
    const std::string gap = GapDetail(o.coverage, "lost-data");
    EXPECT_NE(gap.find("the trace is incomplete"), std::string::npos)
        << "cut at " << n << ": " << gap;
    EXPECT_NE(gap.find("not properly terminated"), std::string::npos) << gap;
    const auto& q = o.coverage.quality;
    EXPECT_LE(q.decoded_bytes, q.trace_bytes);
    // ...and never claims more execution than the complete trace holds.
    const auto counts = LineCounts(o.coverage);
    for (const auto& [line, count] : counts) {
      auto it = full_counts.find(line);
      const uint64_t limit = it == full_counts.end() ? 0 : it->second;
      EXPECT_LE(count, limit) << line.first << ":" << line.second << " cut at " << n;
    }
    for (const auto& [line, count] : counts) with_lines += count > 0;
  }
  // The last cut is the whole data: the same coverage as the finished trace.
  WriteFile(path, interrupted);
  EXPECT_EQ(LineCounts(Report(path).coverage), full_counts);
  std::cout << "[ cuts    ] " << reports << " interrupted prefixes reported, " << with_lines
            << " executed lines over all of them\n";
}

// A cut inside the last AUXTRACE's PT keeps the PT bytes that are there.
TEST_P(Truncation, InterruptedInsideAuxtraceKeepsItsBytes) {
  testing::TempDir dir("robust-cut-aux");
  const std::string& full = Trace();
  const FileLayout layout = LayoutOf(full);
  const RecordSpan* aux = nullptr;
  for (const RecordSpan& r : layout.records)
    if (r.payload > 64) aux = &r;
  ASSERT_NE(aux, nullptr);
  const std::string interrupted = AsInterrupted(full, layout.data_offset + layout.data_size);
  const fs::path path = dir.path() / "aux.data";
  const uint64_t kept = aux->payload / 2;
  WriteFile(path, interrupted.substr(0, aux->offset + 48 + kept));
  const Outcome o = Report(path);
  ASSERT_FALSE(o.error) << *o.error;
  const std::string gap = GapDetail(o.coverage, "lost-data");
  EXPECT_NE(gap.find("trace ends inside the AUXTRACE record at offset " +
                     std::to_string(aux->offset) + ": " + std::to_string(kept) + " of its " +
                     std::to_string(aux->payload) + " PT bytes are in the file"),
            std::string::npos)
      << gap;
  EXPECT_GT(o.coverage.quality.trace_bytes, 0u);
}

std::string ProgramName(const ::testing::TestParamInfo<std::vector<std::string>>& info) {
  return info.param.front();
}

INSTANTIATE_TEST_SUITE_P(robustness, Truncation,
                         ::testing::Values(std::vector<std::string>{"loops", "12"},
                                           std::vector<std::string>{"threads"},
                                           std::vector<std::string>{"forker"},
                                           std::vector<std::string>{"dl"}),
                         ProgramName);

}  // namespace
}  // namespace hwcov::robustness
