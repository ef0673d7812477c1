// Cutting perf.data files short, shared by the reader tests on synthetic
// files and on real recordings.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>

#include "hwcov/support.h"
#include "hwcov/trace.h"

namespace hwcov::testing {

// Offsets where the records of a pipe-mode file start, and its end.
inline std::set<size_t> PipeRecordBoundaries(const std::string& bytes) {
  std::set<size_t> at;
  size_t off = 16;
  while (off + 8 <= bytes.size()) {
    at.insert(off);
    uint32_t type;
    uint16_t size;
    std::memcpy(&type, bytes.data() + off, 4);
    std::memcpy(&size, bytes.data() + off + 6, 2);
    uint64_t extra = 0;  // an AUXTRACE record's AUX data follows it
    if (type == 71 && off + 16 <= bytes.size()) std::memcpy(&extra, bytes.data() + off + 8, 8);
    if (size < 8) break;
    off += size + extra;
  }
  at.insert(off);
  return at;
}

// Cuts |bytes| at every |step|-th offset, writes the prefix to |path| and
// reads it: each is rejected with an error that names the file, or read as
// an unfinished trace. A pipe-mode file has no length in its header, so one
// cut exactly between two records reads as complete.
inline void CheckEveryTruncation(const std::string& bytes, bool pipe_mode,
                                 const std::filesystem::path& path, size_t step = 1) {
  const std::set<size_t> boundaries = pipe_mode ? PipeRecordBoundaries(bytes) : std::set<size_t>{};
  int errors = 0, unfinished = 0;
  for (size_t n = 0; n < bytes.size(); n += step) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(n));
      ASSERT_TRUE(out.good()) << path;
    }
    try {
      trace::Trace t = trace::ReadPerfData(path);
      if (pipe_mode && boundaries.count(n)) continue;
      EXPECT_FALSE(t.finished) << "cut at " << n << " of " << bytes.size();
      ++unfinished;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
      ++errors;
    }
  }
  std::cout << "[ cut     ] " << (bytes.size() + step - 1) / step << " prefixes of " << bytes.size()
            << " bytes: " << errors << " errors, " << unfinished << " unfinished traces\n";
}

}  // namespace hwcov::testing
