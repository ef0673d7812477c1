#include "decode_test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <tuple>

#include "hwcov/trace.h"

namespace hwcov::testing {

namespace fs = std::filesystem;
using decoder::ExecutionProfile;

fs::path Record(const TempDir& dir, const std::string& name, const std::vector<std::string>& args,
                const std::string& backend) {
  const fs::path trace = dir.path() / (name + ".data");
  // Sync points every 256 bytes: many stretches even in a small trace.
  std::vector<std::string> argv = {HWCOV_BINARY,   "record", "--backend", backend,
                                   "--psb-period", "256",    "-o",        trace.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunCommand(argv, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return trace;
}

namespace {

std::string Describe(const ExecutionProfile& p) {
  return std::to_string(p.blocks.size()) + " blocks, " + std::to_string(p.branches.size()) +
         " branches, " + std::to_string(p.instructions) + " instructions, " +
         std::to_string(p.decoded_bytes) + "/" + std::to_string(p.trace_bytes) + " bytes";
}

}  // namespace

void ExpectSameCounts(const ExecutionProfile& a, const ExecutionProfile& b) {
  ASSERT_EQ(a.blocks.size(), b.blocks.size()) << Describe(a) << " vs " << Describe(b);
  for (size_t i = 0; i < a.blocks.size(); ++i) {
    EXPECT_EQ(a.blocks[i].module, b.blocks[i].module);
    EXPECT_EQ(a.blocks[i].begin, b.blocks[i].begin);
    EXPECT_EQ(a.blocks[i].last, b.blocks[i].last);
    EXPECT_EQ(a.blocks[i].count, b.blocks[i].count) << "block at " << a.blocks[i].begin;
  }
  ASSERT_EQ(a.branches.size(), b.branches.size());
  for (size_t i = 0; i < a.branches.size(); ++i) {
    EXPECT_EQ(a.branches[i].offset, b.branches[i].offset);
    EXPECT_EQ(a.branches[i].taken, b.branches[i].taken) << "branch at " << a.branches[i].offset;
    EXPECT_EQ(a.branches[i].not_taken, b.branches[i].not_taken)
        << "branch at " << a.branches[i].offset;
  }
}

decoder::ExecutionProfile ByPath(decoder::ExecutionProfile p) {
  std::vector<uint32_t> order(p.modules.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return std::tie(p.modules[a].path, p.modules[a].build_id.bytes) <
           std::tie(p.modules[b].path, p.modules[b].build_id.bytes);
  });
  std::vector<uint32_t> rank(order.size());
  for (uint32_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
  std::vector<decoder::Module> modules;
  for (uint32_t i : order) modules.push_back(p.modules[i]);
  p.modules = modules;
  for (auto& b : p.blocks) b.module = rank[b.module];
  for (auto& b : p.branches) b.module = rank[b.module];
  for (auto& g : p.gaps)
    if (g.location) g.location->module = rank[g.location->module];
  std::sort(p.blocks.begin(), p.blocks.end(), [](const auto& a, const auto& b) {
    return std::tie(a.module, a.begin, a.last) < std::tie(b.module, b.begin, b.last);
  });
  std::sort(p.branches.begin(), p.branches.end(), [](const auto& a, const auto& b) {
    return std::tie(a.module, a.offset) < std::tie(b.module, b.offset);
  });
  return p;
}

void ExpectSameProfile(const ExecutionProfile& a, const ExecutionProfile& b) {
  ExpectSameCounts(a, b);
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_EQ(a.instructions, b.instructions);
  EXPECT_EQ(a.unmapped_instructions, b.unmapped_instructions);
  EXPECT_EQ(a.decoded_bytes, b.decoded_bytes);
  ASSERT_EQ(a.gaps.size(), b.gaps.size());
  for (size_t i = 0; i < a.gaps.size(); ++i) {
    EXPECT_EQ(a.gaps[i].kind, b.gaps[i].kind) << a.gaps[i].detail << " vs " << b.gaps[i].detail;
    EXPECT_EQ(a.gaps[i].trace_offset, b.gaps[i].trace_offset);
    EXPECT_EQ(a.gaps[i].skipped_bytes, b.gaps[i].skipped_bytes);
  }
}

// A recording can hand its PT over in several buffers (pt_encoder.cc).
fs::path Damage(const fs::path& path, const std::string& name,
                const std::function<void(std::vector<uint8_t>& stream)>& edit) {
  trace::Trace trace = trace::ReadPerfData(path);
  const trace::AuxQueue* largest = nullptr;
  uint64_t most = 0;
  for (const auto& q : trace.queues) {
    uint64_t bytes = 0;
    for (const auto& b : q.buffers) bytes += b.size;
    if (!largest || bytes > most) {
      largest = &q;
      most = bytes;
    }
  }
  const trace::AuxBuffer& buffer = largest->buffers.front();
  std::vector<uint8_t> stream(trace.AuxBytes(buffer).begin(), trace.AuxBytes(buffer).end());
  edit(stream);
  std::string file = ReadFile(path);
  std::copy(stream.begin(), stream.end(), file.begin() + static_cast<long>(buffer.file_offset));
  const fs::path out = path.parent_path() / (name + ".data");
  std::ofstream(out, std::ios::binary) << file;
  return out;
}

std::vector<size_t> Psbs(const std::vector<uint8_t>& s) {
  static const uint8_t kPsb[16] = {2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82,
                                   2, 0x82, 2, 0x82, 2, 0x82, 2, 0x82};
  std::vector<size_t> out;
  for (size_t i = 0; i + 16 <= s.size(); ++i)
    if (std::equal(kPsb, kPsb + 16, s.begin() + static_cast<long>(i))) out.push_back(i);
  return out;
}

}  // namespace hwcov::testing
