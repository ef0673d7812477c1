// hwcov's coverage decoder (the fast path) against its reference, libipt's
// block decoder, on real traces of the test programs: soft traces of whole
// processes (libraries, ld.so, signals, threads, fork, dlopen) and of the
// program's own code only (tracing enabled and disabled at every library
// call), and emu traces. Profiles must be identical, field by field, however
// the streams are cut and whatever the size of the fast path's step cache
// (none, tiny: evicting all the time, the default); and the fast path must
// have decoded them itself.
#include <gtest/gtest.h>

#include "decode_test_support.h"
#include "hwcov/decoder.h"
#include "hwcov/trace.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using decoder::DecodeOptions;
using decoder::ExecutionProfile;
using testing::kPrograms;

struct Case {
  std::string name;
  std::string backend;
  std::vector<std::string> args;  // hwcov record arguments after -o
};

std::string Program(const std::string& name) { return (kPrograms / name).string(); }

std::vector<Case> Cases() {
  return {
      {"loops-all", "soft", {"--all-code", "--", Program("loops")}},
      {"recursion-all", "soft", {"--all-code", "--", Program("recursion")}},
      {"switch-all", "soft", {"--all-code", "--", Program("switch")}},
      {"funcptr-all", "soft", {"--all-code", "--", Program("funcptr")}},
      {"sig-all", "soft", {"--all-code", "--", Program("sig")}},
      {"geometry-all", "soft", {"--all-code", "--", Program("use_geometry")}},
      {"dl-all", "soft", {"--all-code", "--", Program("dl")}},
      {"threads-all", "soft", {"--all-code", "--", Program("threads")}},
      {"forker", "soft", {"--", Program("forker")}},
      {"shapes-own", "soft", {"--", Program("shapes")}},
      {"exc-own", "soft", {"--", Program("exc")}},
      {"sig-own", "soft", {"--", Program("sig")}},
      {"shapes-emu", "emu", {"--all-code", "--", Program("shapes")}},
      {"exc-emu", "emu", {"--all-code", "--", Program("exc")}},
      {"threads-emu", "emu", {"--all-code", "--", Program("threads")}},
  };
}

// Failure messages show the case, not the struct's bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name << ": hwcov record --backend " << c.backend;
  for (const std::string& arg : c.args) *os << " " << arg;
}

class FastPath : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() { dir_ = new testing::TempDir("fast-path"); }
  static void TearDownTestSuite() { delete dir_; }
  static testing::TempDir* dir_;
};
testing::TempDir* FastPath::dir_ = nullptr;

TEST_P(FastPath, SameProfileAsLibiptBlockDecoder) {
  const Case& c = GetParam();
  const fs::path path = testing::Record(*dir_, c.name, c.args, c.backend);
  trace::Trace trace = trace::ReadPerfData(path);
  DecodeOptions reference;
  reference.libipt_only = true;
  reference.jobs = 1;
  reference.stretch_bytes = UINT64_MAX;
  const ExecutionProfile expected = decoder::Decode(trace, reference);
  ASSERT_GT(expected.instructions, 0u);
  ASSERT_TRUE(expected.gaps.empty()) << expected.gaps[0].detail;
  for (auto [jobs, stretch] : {std::pair<unsigned, uint64_t>{1, UINT64_MAX}, {2, 1}, {1, 4096}}) {
    // The step cache as configured by default, a two-step cache that evicts
    // all the time (counts added at eviction), and none (bit by bit).
    uint64_t default_misses = 0, default_hits = 0;
    for (size_t entries : {DecodeOptions{}.step_cache_entries, size_t{2}, size_t{0}}) {
      DecodeOptions options;
      options.jobs = jobs;
      options.stretch_bytes = stretch;
      options.step_cache_entries = entries;
      SCOPED_TRACE("-j" + std::to_string(jobs) + ", stretches of " + std::to_string(stretch) +
                   ", step cache of " + std::to_string(entries));
      const ExecutionProfile fast = decoder::Decode(trace, options);
      testing::ExpectSameProfile(expected, fast);
      // It decoded them: nothing in these clean traces is beyond it.
      EXPECT_EQ(fast.libipt_stretch_bytes, 0u) << "of " << fast.trace_bytes << " bytes";
      if (entries == 0) {
        EXPECT_EQ(fast.fast_path_step_lookups, 0u);
      } else {
        // Every trace has TNT packets: the steps did the walking (a step is
        // built at its second miss, which a short trace need not have).
        EXPECT_GT(fast.fast_path_step_lookups, 0u);
        EXPECT_GT(fast.fast_path_step_misses, 0u);
        EXPECT_LE(fast.fast_path_steps_built, fast.fast_path_step_misses);
      }
      if (entries == DecodeOptions{}.step_cache_entries) {
        default_misses = fast.fast_path_step_misses;
        default_hits = fast.fast_path_step_lookups - default_misses;
      }
      // Steps used again and again, more of them than slots: the tiny cache
      // evicted steps it then needed again.
      if (entries == 2 && default_misses > 2 && default_hits > 1000) {
        EXPECT_GT(fast.fast_path_step_misses, default_misses);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Traces, FastPath, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           std::string name = param.param.name;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

// Real Intel PT from a Skylake (../shared/fixtures): user and kernel, per-CPU
// queues, PIP, CBR, MTC, CYC, MODE.TSX... Its binaries are not here, so both
// decoders find only no-image gaps; they must find the same ones.
TEST(FastPathHardware, SameGapsAsLibiptOnRealTraces) {
  for (const char* name : {"perf.data.intel_pt-4.14", "perf.data.piped.intel_pt-4.14"}) {
    SCOPED_TRACE(name);
    trace::Trace trace = trace::ReadPerfData(fs::path(HWCOV_SHARED_DIR) / "fixtures" / name);
    DecodeOptions reference;
    reference.libipt_only = true;
    const ExecutionProfile expected = decoder::Decode(trace, reference);
    ASSERT_FALSE(expected.gaps.empty());
    for (size_t entries : {DecodeOptions{}.step_cache_entries, size_t{2}}) {
      DecodeOptions options;
      options.step_cache_entries = entries;
      testing::ExpectSameProfile(expected, decoder::Decode(trace, options));
    }
  }
}

}  // namespace
}  // namespace hwcov
