// Maps one binary's share of an execution profile onto its source: line
// counts, function entries and branch outcomes, into a CoverageBuilder.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "coverage_builder.h"
#include "execution_depth.h"
#include "hwcov/profile.h"
#include "module_data.h"

namespace hwcov::mapper {

// What the profile says about one binary, by link-time address. Several
// profile modules can be the same binary (processes, paths): their counts add.
struct ModuleCounts {
  ExecutionDepth depth;
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> branches;  // jump -> (taken, not taken)
  std::vector<uint64_t> gaps;  // where trace gaps stopped or resumed decoding (Gap::location)
};

ModuleCounts CollectCounts(const ElfFile& elf, const profile::ExecutionProfile& profile,
                           const std::vector<uint32_t>& modules);

// Line, function and branch coverage from DWARF (module.debug.has_dwarf).
// The zero-count lines of the functions containing counts.gaps are unknown:
// the code of the out-of-line body (DWARF subprogram, all its ranges, with
// the copies inlined into it) around each gap, else its ELF function symbol.
void MapModule(const ModuleData& module, const ModuleCounts& counts, CoverageBuilder& out);

// Function coverage from ELF symbols alone, under the binary's own path; a
// function symbol containing a gap and never entered is unknown.
void MapSymbols(const ModuleData& module, const ModuleCounts& counts, CoverageBuilder& out);

}  // namespace hwcov::mapper
