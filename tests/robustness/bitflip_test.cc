// Bit flips in the PT payload of AUXTRACE records. Intel PT has no checksum:
// a flipped TNT bit that still fits the code is a different, valid path,
// and no decoder can tell. What hwcov guarantees is that a flip never
// crashes or hangs it, that decoding resynchronises at the next PSB, and
// that the report's figures stay consistent. The test also measures how
// often a flip shows in the report (as a gap) or goes unseen, which
// docs/robustness.md quotes.
#include <gtest/gtest.h>

#include <random>

#include "corrupt_trace.h"
#include "test_support.h"

namespace hwcov::robustness {
namespace {

namespace fs = std::filesystem;

TEST(robustness, BitFlipsInAuxtracePayloads) {
  testing::TempDir dir("robust-bitflip");
  const std::string& good = Recording(HWCOV_TEST_PROGRAMS_DIR "/loops", {"12"});
  const FileLayout layout = LayoutOf(good);
  std::vector<std::pair<uint64_t, uint64_t>> payloads;  // [begin, end) of PT bytes
  for (const RecordSpan& r : layout.records)
    if (r.payload) payloads.emplace_back(r.offset + 48, r.offset + r.size);
  ASSERT_FALSE(payloads.empty());

  const fs::path whole = dir.path() / "whole.data";
  WriteFile(whole, good);
  const Outcome reference = Report(whole);
  ASSERT_FALSE(reference.error);
  const auto reference_counts = LineCounts(reference.coverage);

  std::mt19937_64 random(20240611);  // fixed: the same flips every run
  const fs::path path = dir.path() / "flipped.data";
  constexpr int kFlips = 150;
  int with_gap = 0, unchanged = 0, unseen = 0;
  for (int i = 0; i < kFlips; ++i) {
    const auto& [begin, end] = payloads[random() % payloads.size()];
    const uint64_t at = begin + random() % (end - begin);
    std::string bytes = good;
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << (random() % 8)));
    WriteFile(path, bytes);
    const Outcome o = Report(path);
    ASSERT_FALSE(o.error) << "flip at " << at << ": " << *o.error;  // the reader never sees PT
    const auto& q = o.coverage.quality;
    EXPECT_LE(q.decoded_bytes, q.trace_bytes);
    EXPECT_EQ(q.trace_bytes, reference.coverage.quality.trace_bytes);
    uint64_t gaps = 0;
    for (const auto& [kind, n] : q.gaps_by_kind) gaps += n;
    if (gaps) {
      ++with_gap;
      EXPECT_LT(q.decoded_bytes, q.trace_bytes) << "a gap skips bytes; flip at " << at;
    } else if (LineCounts(o.coverage) == reference_counts) {
      ++unchanged;
    } else {
      ++unseen;
    }
  }
  std::cout << "[ flips   ] " << kFlips << " single-bit flips: " << with_gap
            << " reported as gaps, " << unchanged << " without effect on the coverage, " << unseen
            << " changed the coverage unseen\n";
  // Most flips desynchronise the decoder, which says so.
  EXPECT_GT(with_gap, kFlips / 2);
}

}  // namespace
}  // namespace hwcov::robustness
