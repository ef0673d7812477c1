// The decoder at scale: cutting streams into stretches decoded in parallel
// must not change the profile; damage (an overflow, lost bytes, a missing
// binary) must cost only the stretch it is in, and be reported as a gap.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "decode_test_support.h"
#include "hwcov/decoder.h"
#include "hwcov/trace.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using decoder::DecodeOptions;
using decoder::ExecutionProfile;
using decoder::GapKind;
using testing::Damage;
using testing::ExpectSameProfile;
using testing::kPrograms;
using testing::Psbs;
using testing::Record;

// The reference: the fast path must agree with it on damaged traces too
// (it declines the damaged stretches, which libipt then decodes).
ExecutionProfile DecodeWithLibipt(const trace::Trace& trace) {
  DecodeOptions options;
  options.libipt_only = true;
  return decoder::Decode(trace, options);
}

std::vector<uint64_t> Listing(const trace::Trace& trace,
                              std::vector<decoder::Gap>* gaps = nullptr) {
  std::vector<uint64_t> ips;
  decoder::ListInstructions(
      trace, [&](uint64_t ip) { ips.push_back(ip); },
      [&](const decoder::Gap& g) {
        if (gaps) gaps->push_back(g);
      });
  return ips;
}

// |damaged| is |original| with one contiguous run of instructions missing
// (give or take |slack| instructions decoded from the damaged stretch's
// intact start, which may end differently).
void ExpectOneRunMissing(const std::vector<uint64_t>& original,
                         const std::vector<uint64_t>& damaged, size_t slack = 0) {
  size_t prefix = 0;
  while (prefix < damaged.size() && prefix < original.size() && damaged[prefix] == original[prefix])
    ++prefix;
  size_t suffix = 0;
  while (suffix < damaged.size() - prefix && suffix < original.size() - prefix &&
         damaged[damaged.size() - 1 - suffix] == original[original.size() - 1 - suffix])
    ++suffix;
  EXPECT_GE(prefix + suffix + slack, damaged.size())
      << "prefix " << prefix << ", suffix " << suffix << " of " << damaged.size()
      << " decoded instructions match the undamaged trace (" << original.size() << ")";
  EXPECT_LT(damaged.size(), original.size());
}

class ParallelDecode : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("parallel-decode");
    // Libraries and all: a trace with many sync points and address changes.
    traces_ = new std::vector<fs::path>{
        Record(*dir_, "threads", {"--all-code", "--", (kPrograms / "threads").string()}),
        Record(*dir_, "dl", {"--all-code", "--", (kPrograms / "dl").string()}),
        Record(*dir_, "forker", {"--", (kPrograms / "forker").string()}),
    };
  }
  static void TearDownTestSuite() {
    delete traces_;
    delete dir_;
  }
  static testing::TempDir* dir_;
  static std::vector<fs::path>* traces_;
};
testing::TempDir* ParallelDecode::dir_ = nullptr;
std::vector<fs::path>* ParallelDecode::traces_ = nullptr;

TEST_F(ParallelDecode, ProfileDoesNotDependOnJobsOrStretches) {
  for (const fs::path& path : *traces_) {
    SCOPED_TRACE(path.string());
    trace::Trace trace = trace::ReadPerfData(path);
    DecodeOptions serial;
    serial.jobs = 1;
    serial.stretch_bytes = UINT64_MAX;  // one stretch per epoch
    serial.libipt_only = true;
    ExecutionProfile reference = decoder::Decode(trace, serial);
    EXPECT_TRUE(reference.gaps.empty());
    EXPECT_EQ(reference.decoded_bytes, reference.trace_bytes);
    for (auto [jobs, stretch, libipt] : {std::tuple<unsigned, uint64_t, bool>{4, 1, true},
                                         {2, 4096, true},
                                         {1, 1, true},
                                         {1, UINT64_MAX, false},
                                         {4, 1, false},
                                         {2, 4096, false},
                                         {1, 1, false}}) {
      DecodeOptions options;
      options.jobs = jobs;
      options.stretch_bytes = stretch;
      options.libipt_only = libipt;
      SCOPED_TRACE("-j" + std::to_string(jobs) + ", stretches of " + std::to_string(stretch) +
                   (libipt ? ", libipt" : ", fast path"));
      ExpectSameProfile(reference, decoder::Decode(trace, options));
    }
  }
}

TEST_F(ParallelDecode, StretchesListExactlyTheSerialInstructions) {
  for (const fs::path& path : *traces_) {
    trace::Trace trace = trace::ReadPerfData(path);
    DecodeOptions whole, cut;
    whole.stretch_bytes = UINT64_MAX;
    cut.stretch_bytes = 1;
    std::vector<uint64_t> a, b;
    decoder::ListInstructions(
        trace, [&](uint64_t ip) { a.push_back(ip); }, [](auto&) {}, whole);
    decoder::ListInstructions(
        trace, [&](uint64_t ip) { b.push_back(ip); }, [](auto&) {}, cut);
    EXPECT_EQ(a, b) << path;
  }
}

TEST_F(ParallelDecode, OverflowIsAGapAndTheRestDecodesExactly) {
  const fs::path& path = traces_->at(1);  // one thread, many sync points
  fs::path damaged = Damage(path, "ovf", [](std::vector<uint8_t>& s) {
    auto psbs = Psbs(s);
    ASSERT_GE(psbs.size(), 3u);
    // The second PSB+ (PSB, TSC, MODE.Exec, [FUP], PSBEND) becomes what the
    // CPU writes after an internal buffer overflow: OVF, then the FUP where
    // tracing resumed (if it was on), then PAD.
    const size_t at = psbs[1];
    const size_t psbend = at + 16 + 8 + 2 + (s[at + 26] == 0x7d ? 7 : 0);
    ASSERT_EQ(s[psbend], 0x02);
    ASSERT_EQ(s[psbend + 1], 0x23);
    std::vector<uint8_t> replacement = {0x02, 0xf3};
    if (s[at + 26] == 0x7d)
      replacement.insert(replacement.end(), s.begin() + at + 26, s.begin() + at + 33);
    replacement.resize(psbend + 2 - at, 0);
    std::copy(replacement.begin(), replacement.end(), s.begin() + static_cast<long>(at));
  });
  trace::Trace original = trace::ReadPerfData(path), broken = trace::ReadPerfData(damaged);
  ExecutionProfile p = decoder::Decode(broken);
  ExpectSameProfile(p, DecodeWithLibipt(broken));
  ASSERT_FALSE(p.gaps.empty());
  EXPECT_TRUE(std::any_of(p.gaps.begin(), p.gaps.end(),
                          [](const decoder::Gap& g) { return g.kind == GapKind::kOverflow; }))
      << decoder::GapKindName(p.gaps[0].kind) << ": " << p.gaps[0].detail;
  // Where tracing resumed, as a place in a binary: the mapper marks the code
  // around it "unknown" rather than uncovered.
  for (const decoder::Gap& g : p.gaps)
    if (g.kind == GapKind::kOverflow) {
      ASSERT_TRUE(g.location.has_value()) << std::hex << g.ip;
      EXPECT_LT(g.location->module, p.modules.size());
    }
  // The OVF stands where a sync point was and the FUP after it says where
  // execution resumed, so nothing else is lost: the rest decodes exactly.
  EXPECT_EQ(Listing(original), Listing(broken));
}

// An address filter that matches nothing (a binary on overlayfs): the CPU
// writes sync points -- PSB, PSBEND, no FUP since tracing is off -- and no
// TIP.PGE ever. The profile says so rather than showing a quiet 0%.
TEST_F(ParallelDecode, ATraceThatNeverSwitchedOnIsAWarning) {
  const fs::path path = Record(*dir_, "loops", {"--", (kPrograms / "loops").string()});
  fs::path damaged = Damage(path, "nopge", [](std::vector<uint8_t>& s) {
    const auto psbs = Psbs(s);
    ASSERT_FALSE(psbs.empty());
    std::vector<uint8_t> off(s.begin() + static_cast<long>(psbs[0]),
                             s.begin() + static_cast<long>(psbs[0]) + 16);
    off.insert(off.end(), {0x02, 0x23});  // PSBEND
    off.resize(s.size(), 0);              // PAD
    s = off;
  });
  auto warned = [](const ExecutionProfile& p) {
    return std::any_of(p.warnings.begin(), p.warnings.end(), [](const std::string& w) {
      return w.find("no TIP.PGE") != std::string::npos;
    });
  };
  const trace::Trace broken = trace::ReadPerfData(damaged);
  ASSERT_EQ(broken.queues.size(), 1u);
  ASSERT_EQ(broken.queues[0].buffers.size(), 1u) << "Damage edits the first buffer only";
  const ExecutionProfile p = decoder::Decode(broken);
  EXPECT_EQ(p.instructions, 0u);
  EXPECT_GT(p.trace_bytes, 0u);
  EXPECT_TRUE(warned(p));
  EXPECT_FALSE(warned(decoder::Decode(trace::ReadPerfData(path))));
}

TEST_F(ParallelDecode, LostBytesCostOnlyTheirStretch) {
  const fs::path& path = traces_->at(1);
  fs::path damaged = Damage(path, "lost", [](std::vector<uint8_t>& s) {
    auto psbs = Psbs(s);
    ASSERT_GE(psbs.size(), 2u);
    // Undecodable bytes (02 ff: no such packet) where the trace between two
    // sync points was. Random garbage could parse as plausible packets for a
    // while: a real decoder cannot tell, so that case proves nothing here.
    const size_t from = psbs[0] + 40, to = psbs[1];
    for (size_t i = from; i < to; ++i) s[i] = (i - from) % 2 ? 0xff : 0x02;
  });
  trace::Trace original = trace::ReadPerfData(path), broken = trace::ReadPerfData(damaged);
  std::vector<decoder::Gap> gaps;
  std::vector<uint64_t> listing = Listing(broken, &gaps);
  ASSERT_FALSE(gaps.empty());
  EXPECT_EQ(gaps[0].kind, GapKind::kDecodeError);
  ExpectOneRunMissing(Listing(original), listing, listing.size() / 100);
  ExecutionProfile p = decoder::Decode(broken);
  ExpectSameProfile(p, DecodeWithLibipt(broken));
  EXPECT_LT(p.decoded_bytes, p.trace_bytes);
  EXPECT_GT(p.gaps.at(0).skipped_bytes, 0u);
  // Decoding stopped somewhere in the program's code: that place is known.
  ASSERT_TRUE(p.gaps.at(0).location.has_value()) << std::hex << p.gaps.at(0).ip;
  EXPECT_LT(p.gaps.at(0).location->module, p.modules.size());
}

TEST_F(ParallelDecode, CodeWithoutItsBinaryIsANoImageGap) {
  // dl with its plugins traced, then the plugins removed.
  testing::TempDir dir("no-image");
  for (const char* f : {"dl", "libplugin_a.so", "libplugin_b.so"})
    fs::copy_file(kPrograms / f, dir.path() / f);
  const fs::path trace_path = Record(
      dir, "dl", {"--only", "dl", "--only", "libplugin_*.so", "--", (dir.path() / "dl").string()});
  trace::Trace before = trace::ReadPerfData(trace_path);
  std::vector<uint64_t> full = Listing(before);
  fs::remove(dir.path() / "libplugin_b.so");
  trace::Trace after = trace::ReadPerfData(trace_path);
  ExecutionProfile p = decoder::Decode(after);
  ExpectSameProfile(p, DecodeWithLibipt(after));
  EXPECT_TRUE(std::any_of(p.gaps.begin(), p.gaps.end(),
                          [](const decoder::Gap& g) { return g.kind == GapKind::kNoImage; }));
  EXPECT_TRUE(std::any_of(p.warnings.begin(), p.warnings.end(), [](const std::string& w) {
    return w.find("libplugin_b.so") != std::string::npos;
  }));
  EXPECT_LT(p.decoded_bytes, p.trace_bytes);
  ExpectOneRunMissing(full, Listing(after));
}

}  // namespace
}  // namespace hwcov
