// An execution profile: how often each block of code ran and each
// conditional branch went each way, keyed by (module, file offset), never by
// absolute address, with what could not be seen (gaps). The value that
// crosses from decoding to mapping (docs/architecture.md); the emu backend's
// in-plugin counting (docs/emu-backend.md, "Counting mode") produces one
// without a trace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hwcov/support.h"

namespace hwcov::profile {

// A binary whose code the profile counts.
struct Module {
  std::string path;           // the file hwcov reads (recorded path, or found by build id)
  std::string recorded_path;  // the path in the trace's sideband
  BuildId build_id;           // as recorded (MMAP2 or BUILD_ID feature); may be empty
};

// Instructions from |begin| to |last| (file offsets of the first and last
// instruction, inclusive, in one module) ran |count| times as one block.
struct BlockCount {
  uint32_t module = 0;
  uint64_t begin = 0;
  uint64_t last = 0;
  uint32_t instructions = 0;  // per execution
  uint64_t count = 0;
};

// Outcomes of the conditional branch at |offset|.
struct BranchCount {
  uint32_t module = 0;
  uint64_t offset = 0;
  uint64_t taken = 0;
  uint64_t not_taken = 0;
};

enum class GapKind {
  kOverflow,     // the CPU's trace buffer overflowed (OVF packet)
  kLostData,     // AUX data lost or truncated before it reached the file
  kNoImage,      // code with no binary to read it from
  kDecodeError,  // packets that do not match the code (desync, corruption)
};
std::string GapKindName(GapKind kind);

// A place in a binary: the profile's key for code.
struct CodeLocation {
  uint32_t module = 0;
  uint64_t offset = 0;  // file offset
  friend bool operator==(const CodeLocation&, const CodeLocation&) = default;
};

struct Gap {
  GapKind kind = GapKind::kDecodeError;
  uint32_t queue = 0;         // AUX queue (idx)
  uint64_t trace_offset = 0;  // offset in the queue's PT stream
  uint64_t ip = 0;            // where decoding stopped (overflow: resumed), when known
  // |ip| in a module, when a module covers it: the code around it may have
  // run in the gap without being seen.
  std::optional<CodeLocation> location;
  uint64_t skipped_bytes = 0;  // trace bytes not decoded because of this gap
  std::string detail;
};

struct ExecutionProfile {
  std::vector<Module> modules;
  std::vector<BlockCount> blocks;     // sorted by (module, begin, last)
  std::vector<BranchCount> branches;  // sorted by (module, offset)
  std::vector<Gap> gaps;
  std::vector<std::string> warnings;   // e.g. binaries missing or rebuilt
  uint64_t trace_bytes = 0;            // PT bytes in the trace
  uint64_t decoded_bytes = 0;          // of which decoded without error
  uint64_t instructions = 0;           // instructions decoded
  uint64_t unmapped_instructions = 0;  // of which in code no module covers
  // Bytes of stretches the fast path gave to libipt's block decoder (flow it
  // does not model: overflows, TSX, errors, code with no image).
  uint64_t libipt_stretch_bytes = 0;
  // The fast path's step cache (docs/architecture.md, "The fast path"):
  // lookups, how many of them found no step, and how many of those built
  // one (the others walked a step seen for the first time bit by bit).
  uint64_t fast_path_step_lookups = 0;
  uint64_t fast_path_step_misses = 0;
  uint64_t fast_path_steps_built = 0;

  double decoded_share() const {
    return trace_bytes ? static_cast<double>(decoded_bytes) / static_cast<double>(trace_bytes)
                       : 1.0;
  }
};

// One test's share of a run (docs/user-guide.md, "Per-test coverage").
struct TestProfile {
  std::string name;
  ExecutionProfile profile;
};

}  // namespace hwcov::profile
