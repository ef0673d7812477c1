#include "corrupt_trace.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "hwcov/decoder.h"
#include "hwcov/trace.h"
#include "test_support.h"

namespace hwcov::robustness {

namespace fs = std::filesystem;

const std::string& Recording(const std::string& program, const std::vector<std::string>& args) {
  static std::map<std::vector<std::string>, std::string> cache;
  std::vector<std::string> key = args;
  key.insert(key.begin(), program);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  testing::TempDir dir("robustness-recording");
  const fs::path out = dir.path() / "trace.data";
  std::vector<std::string> argv = {HWCOV_BINARY, "record",     "--backend", "soft",
                                   "-o",         out.string(), "--",        program};
  argv.insert(argv.end(), args.begin(), args.end());
  const testing::CommandResult r = testing::RunCommand(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return cache[key] = testing::ReadFile(out);
}

FileLayout LayoutOf(const std::string& bytes) {
  FileLayout layout;
  std::memcpy(&layout.data_offset, bytes.data() + 40, 8);
  std::memcpy(&layout.data_size, bytes.data() + 48, 8);
  uint64_t off = layout.data_offset;
  const uint64_t end = layout.data_offset + layout.data_size;
  while (off + 8 <= end) {
    RecordSpan r;
    uint16_t size;
    std::memcpy(&r.type, bytes.data() + off, 4);
    std::memcpy(&size, bytes.data() + off + 6, 2);
    if (r.type == 71) std::memcpy(&r.payload, bytes.data() + off + 8, 8);
    r.offset = off;
    r.size = size + r.payload;
    if (size < 8) break;
    layout.records.push_back(r);
    off += r.size;
  }
  return layout;
}

std::string AsInterrupted(const std::string& bytes, uint64_t data_end) {
  std::string out = bytes.substr(0, data_end);
  Patch<uint64_t>(out, 48, 0);                                                  // data.size
  for (int word = 0; word < 4; ++word) Patch<uint64_t>(out, 72 + 8 * word, 0);  // features
  return out;
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

Outcome Report(const fs::path& path, const std::string& sysroot) {
  Outcome o;
  try {
    trace::Trace t = trace::ReadPerfData(path);
    o.finished = t.finished;
    o.trace_warnings = t.warnings;
    decoder::DecodeOptions options;
    options.sysroot = sysroot;
    o.coverage = mapper::MapProfile(decoder::Decode(t, options));
  } catch (const Error& e) {
    o.error = e.what();
  }
  return o;
}

std::map<std::pair<std::string, uint32_t>, uint64_t> LineCounts(const mapper::Coverage& c) {
  std::map<std::pair<std::string, uint32_t>, uint64_t> out;
  for (const auto& f : c.files)
    for (const auto& l : f.lines) out[{f.path, l.line}] = l.count;
  return out;
}

std::string GapDetail(const mapper::Coverage& c, const std::string& kind) {
  for (const std::string& d : c.quality.gap_details)
    if (d.rfind(kind + " ", 0) == 0) return d;
  return "";
}

}  // namespace hwcov::robustness
