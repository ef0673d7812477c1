// What the decoder tests share: recording soft traces of the test programs,
// comparing profiles field by field, and damaging a trace's PT stream.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "hwcov/decoder.h"
#include "test_support.h"

namespace hwcov::testing {

inline const std::filesystem::path kPrograms = HWCOV_TEST_PROGRAMS_DIR;

// A soft trace of |args| (hwcov record arguments after the output, e.g.
// {"--all-code", "--", program}) with sync points every 256 bytes: many
// stretches even in a small trace. |backend| is soft or emu.
std::filesystem::path Record(const TempDir& dir, const std::string& name,
                             const std::vector<std::string>& args,
                             const std::string& backend = "soft");

// Expects |a| and |b| to count the same blocks, branches, instructions,
// decoded bytes and gaps.
// Block and branch counts only: what two encodings of one run share.
void ExpectSameCounts(const decoder::ExecutionProfile& a, const decoder::ExecutionProfile& b);
void ExpectSameProfile(const decoder::ExecutionProfile& a, const decoder::ExecutionProfile& b);

// Module numbers follow the order images are first built, which differs
// when queues are decoded in another order (decoding while recording):
// |p| with its modules numbered by path instead, blocks and branches sorted.
decoder::ExecutionProfile ByPath(decoder::ExecutionProfile p);

// A copy of |path| named |name|.data whose PT bytes, the first AUX buffer of
// the largest queue (where its stream starts), went through |edit|.
std::filesystem::path Damage(const std::filesystem::path& path, const std::string& name,
                             const std::function<void(std::vector<uint8_t>& stream)>& edit);

// Offsets of the PSB packets in a stream.
std::vector<size_t> Psbs(const std::vector<uint8_t>& stream);

}  // namespace hwcov::testing
