// Mapping: an execution profile (module, file offset) to source coverage
// (file, line, function) through each binary's ELF and DWARF.
//
//   Coverage coverage = MapProfile(profile);
//   for (const FileCoverage& file : coverage.files) ...
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hwcov/profile.h"

namespace hwcov::mapper {

// The "unknown" state (docs/accuracy.md, "Trace gaps"): code the trace may
// have missed. A trace gap (overflow, lost data, decode error) has a place in
// a binary where decoding stopped or resumed; every instrumentable line of
// the function around that place whose count is 0 is unknown rather than
// uncovered, because it may have run while nothing was recorded. Unknown
// implies count 0: a line that was seen to run is never unknown. Reports leave
// unknown lines, functions and the branches on unknown lines out of their
// totals (neither hit nor missed) and count them separately.
struct LineCount {
  uint32_t line = 0;
  uint64_t count = 0;    // executions of the line's most executed instruction
  bool unknown = false;  // count 0, and the line's code is in a trace gap's function
};

struct FunctionCount {
  std::string name;       // linkage (mangled) name, as lcov wants it
  std::string demangled;  // for people
  uint32_t line = 0;      // declaration line
  uint64_t entry_count = 0;
  // entry_count 0, and the function's declaration line is unknown (or,
  // without DWARF, its ELF symbol contains a trace gap's place).
  bool unknown = false;
  // The last line of its code (0: not known, e.g. without DWARF): the
  // greatest line of the line-table rows in its code and its file (lcov 2.x
  // reads it as the function's end line).
  uint32_t end_line = 0;
};

// One outcome of a conditional branch, in lcov's BRDA terms. An outcome on an
// unknown line is unknown too (its jump never ran: count nullopt); there is
// no flag of its own, the line's LineCount says it.
struct BranchOutcome {
  uint32_t line = 0;
  uint32_t block = 0;             // the conditional jump's index on its line, in address order
  uint32_t branch = 0;            // 0 = not taken (falls through), 1 = taken
  std::optional<uint64_t> count;  // nullopt: the jump itself never ran ("-" in lcov)
};

struct FileCoverage {
  std::string path;
  std::vector<LineCount> lines;          // every instrumentable line, by line; includes
                                         // every function's and every branch's line.
                                         // A function or a branch outcome that ran
                                         // makes its line known (not unknown); every
                                         // function on an unknown line is unknown
  std::vector<FunctionCount> functions;  // by line, then name
  std::vector<BranchOutcome> branches;   // by line, block, branch (see docs/branches.md)
};

// How much of the trace the coverage rests on. Every report prints it.
struct TraceQuality {
  uint64_t trace_bytes = 0;
  uint64_t decoded_bytes = 0;
  uint64_t instructions = 0;
  uint64_t unmapped_instructions = 0;
  std::map<std::string, uint64_t> gaps_by_kind;
  std::vector<std::string> gap_details;  // one line per gap (offset, ip, reason)
  std::vector<std::string> warnings;

  double decoded_share() const {
    return trace_bytes ? static_cast<double>(decoded_bytes) / static_cast<double>(trace_bytes)
                       : 1.0;
  }
};

// One test's coverage (docs/user-guide.md, "Per-test coverage"): what the
// processes that ran for it covered, with the counts of that test alone.
struct TestCoverage {
  std::string name;
  std::vector<FileCoverage> files;  // sorted by path
};

struct Coverage {
  std::vector<FileCoverage> files;  // sorted by path
  TraceQuality quality;
  // Per test, sorted by name (empty unless per-test coverage was asked for):
  // |files| is their sum.
  std::vector<TestCoverage> tests;
};

struct MapOptions {
  // Extra roots for separate debug info, searched before /usr/lib/debug as
  // DIR/.build-id/xx/yyyy.debug and for .gnu_debuglink names (docs/debug-info.md).
  std::vector<std::string> debug_dirs;
};

// Maps |profile| onto source. Binaries are read from the module paths and
// their DWARF from the binary or its separate debug file; a binary without
// DWARF yields function coverage from its ELF symbols and a warning. Modules
// with one build id are one binary (several processes merge). Each binary's
// DWARF is read once per process (cached by build id). Throws hwcov::Error
// for a binary that cannot be read at all. Each gap with a location makes
// the zero-count lines of the function containing it unknown: the DWARF
// subprogram whose code (out-of-line body, with what is inlined into it)
// covers the location, else the ELF function symbol; a binary that only ran
// in gaps is mapped too.
Coverage MapProfile(const profile::ExecutionProfile& profile, const MapOptions& options = {});

// Adds |from| to |into| (reports over several traces): line and function
// counts add, branch outcomes add by (line, block, branch) and stay "-" only
// where neither ran the jump, trace-quality figures add up. Unknown states:
// covered anywhere wins (a count > 0 in either makes the line known); a line
// or function unknown in one and uncovered (0) or absent in the other stays
// unknown. Tests of one name merge the same way; the others are kept.
void Merge(Coverage& into, const Coverage& from);

}  // namespace hwcov::mapper
