// Traces written the way decoders without return compression or long TNT
// packets need them (RecordOptions::no_return_compression, tnt8_only: the
// software backends' PtEncoding): the packets are what was asked for (no
// TNT-64; more TIPs, one per return, and noretcomp in the recorded attr),
// libipt's block decoder and hwcov's fast path agree on them field by field,
// and the coverage is the same as with the default encoding.
#include <gtest/gtest.h>
#include <intel-pt.h>

#include <map>
#include <ostream>
#include <string>

#include "decode_test_support.h"
#include "hwcov/collector.h"
#include "hwcov/decoder.h"
#include "hwcov/trace.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using decoder::DecodeOptions;
using decoder::ExecutionProfile;

struct Encoding {
  const char* name;
  bool no_return_compression;
  bool tnt8_only;
};
constexpr Encoding kEncodings[] = {
    {"default", false, false},
    {"noretcomp", true, false},
    {"tnt8", false, true},
    {"noretcomp-tnt8", true, true},
};

// Packets of every queue by libipt type, walked with libipt's packet decoder.
std::map<int, uint64_t> PacketTypes(const trace::Trace& trace) {
  std::map<int, uint64_t> types;
  for (const auto& queue : trace.queues) {
    std::vector<uint8_t> stream;
    for (const auto& buffer : queue.buffers) {
      auto bytes = trace.AuxBytes(buffer);
      stream.insert(stream.end(), bytes.begin(), bytes.end());
    }
    pt_config config;
    pt_config_init(&config);
    config.begin = stream.data();
    config.end = stream.data() + stream.size();
    pt_packet_decoder* decoder = pt_pkt_alloc_decoder(&config);
    if (pt_pkt_sync_forward(decoder) >= 0) {
      pt_packet packet;
      while (pt_pkt_next(decoder, &packet, sizeof packet) > 0) ++types[packet.type];
    }
    pt_pkt_free_decoder(decoder);
  }
  return types;
}

struct Program {
  const char* name;
  collector::Backend backend;
  bool all_code;
};

std::string TestName(const Program& program) {
  return std::string(program.name) + "_" +
         (program.backend == collector::Backend::kEmu ? "emu" : "soft");
}

// Failure messages name the program, not the struct's bytes.
void PrintTo(const Program& program, std::ostream* os) {
  *os << TestName(program) << (program.all_code ? " --all-code" : "");
}

class PtEncodings : public ::testing::TestWithParam<Program> {};

TEST_P(PtEncodings, DecodersAgreeAndCoverageDoesNotChange) {
  const Program& program = GetParam();
  testing::TempDir dir("pt-encodings");
  std::optional<ExecutionProfile> first;
  uint64_t default_tips = 0;
  for (const Encoding& encoding : kEncodings) {
    SCOPED_TRACE(encoding.name);
    collector::RecordOptions options;
    options.command = {(testing::kPrograms / program.name).string()};
    options.output = dir.path() / (std::string(encoding.name) + ".data");
    options.backend = program.backend;
    options.trace_everything = program.all_code;
    options.psb_period = 256;  // many stretches
    options.no_return_compression = encoding.no_return_compression;
    options.tnt8_only = encoding.tnt8_only;
    ASSERT_EQ(collector::Record(options).exit_status, 0);
    const trace::Trace trace = trace::ReadPerfData(options.output);

    ASSERT_TRUE(trace.pt);
    EXPECT_EQ(trace.pt->return_compression(), !encoding.no_return_compression);
    std::map<int, uint64_t> types = PacketTypes(trace);
    EXPECT_GT(types[ppt_tnt_8] + types[ppt_tnt_64], 0u);
    if (encoding.tnt8_only) {
      EXPECT_EQ(types[ppt_tnt_64], 0u);
    }
    if (!encoding.no_return_compression && !encoding.tnt8_only) default_tips = types[ppt_tip];
    // Each compressed return of the default encoding is a TIP now.
    if (encoding.no_return_compression) {
      EXPECT_GT(types[ppt_tip], default_tips);
    }

    DecodeOptions reference;
    reference.libipt_only = true;
    const ExecutionProfile expected = decoder::Decode(trace, reference);
    ASSERT_GT(expected.instructions, 0u);
    ASSERT_TRUE(expected.gaps.empty()) << expected.gaps[0].detail;
    for (size_t entries : {DecodeOptions{}.step_cache_entries, size_t{2}}) {
      DecodeOptions fast_options;
      fast_options.jobs = 2;
      fast_options.step_cache_entries = entries;
      const ExecutionProfile fast = decoder::Decode(trace, fast_options);
      testing::ExpectSameProfile(expected, fast);
      EXPECT_EQ(fast.libipt_stretch_bytes, 0u);
    }
    // The same run, however it was encoded (the trace's size differs).
    if (!first) {
      first = expected;
    } else {
      EXPECT_EQ(first->instructions, expected.instructions);
      testing::ExpectSameCounts(*first, expected);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Programs, PtEncodings,
                         ::testing::Values(Program{"recursion", collector::Backend::kSoft, false},
                                           Program{"funcptr", collector::Backend::kSoft, false},
                                           Program{"shapes", collector::Backend::kEmu, true}),
                         [](const ::testing::TestParamInfo<Program>& param) {
                           return TestName(param.param);
                         });

}  // namespace
}  // namespace hwcov
