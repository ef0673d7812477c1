// Helpers of the corruption suite: real soft-tracer recordings to damage,
// the record layout of a perf.data file, and the report hwcov makes of a
// trace through the library API (read, decode, map), so that each damaged
// input ends in an hwcov::Error message or a Coverage whose completeness
// can be checked.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hwcov/mapper.h"

namespace hwcov::robustness {

// |program| with |args| recorded by `hwcov record --backend soft`; the
// trace's bytes. Recordings are made once per process and reused.
const std::string& Recording(const std::string& program, const std::vector<std::string>& args);

// One record of a file-mode perf.data: where it starts and its length
// including an AUXTRACE's payload.
struct RecordSpan {
  uint64_t offset = 0, size = 0;
  uint32_t type = 0;
  uint64_t payload = 0;  // AUXTRACE: PT bytes after the 48-byte record
};

struct FileLayout {
  uint64_t data_offset = 0, data_size = 0;
  std::vector<RecordSpan> records;
};
FileLayout LayoutOf(const std::string& bytes);

// What a finished recording looks like when hwcov record was killed: the
// records up to |data_end| with data size 0 in the header, no features.
std::string AsInterrupted(const std::string& bytes, uint64_t data_end);

void WriteFile(const std::filesystem::path& path, const std::string& bytes);

template <typename T>
void Patch(std::string& bytes, uint64_t at, T value) {
  std::memcpy(bytes.data() + at, &value, sizeof value);
}

// The outcome of `hwcov report` on a trace, as the library computes it.
struct Outcome {
  std::optional<std::string> error;  // hwcov::Error's message
  mapper::Coverage coverage;
  bool finished = true;
  std::vector<std::string> trace_warnings;
};
Outcome Report(const std::filesystem::path& trace, const std::string& sysroot = "");

// Line counts by (file, line).
std::map<std::pair<std::string, uint32_t>, uint64_t> LineCounts(const mapper::Coverage& c);

// The detail of the first gap of |kind| ("lost-data"...), or "".
std::string GapDetail(const mapper::Coverage& c, const std::string& kind);

}  // namespace hwcov::robustness
