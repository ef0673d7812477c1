// Fuzz target: the ELF/DWARF loader of the mapper (a binary's segments,
// symbols, PLT, build id, debuglink, compressed sections, libdwarf's DIE
// tree, hwcov's own line-program decoder, the branch scan) and the mapping
// of a profile onto it. Any bytes as a binary must give coverage or an
// hwcov::Error. The profile is fixed: its executable segments ran, in blocks
// of 64 bytes, with a branch outcome at each block start.
//
// It calls the mapper's internals (mapper/src) because MapProfile() caches
// every binary it loads for the life of the process: one per input here.
#include <cstdint>

#include "coverage_builder.h"
#include "fuzz_input.h"
#include "hwcov/mapper.h"
#include "module_data.h"
#include "module_mapper.h"

namespace {

namespace mapper = hwcov::mapper;
using hwcov::fuzz::Check;

hwcov::profile::ExecutionProfile ProfileFor(const mapper::ElfFile& elf, const std::string& path) {
  hwcov::profile::ExecutionProfile profile;
  profile.modules.push_back({path, path, {}});
  constexpr uint64_t kBlock = 64;
  constexpr size_t kMaxBlocks = 2048;  // bounded time per input
  for (const mapper::LoadSegment& s : elf.segments) {
    if (!s.executable) continue;
    for (uint64_t at = 0; at < s.filesz && profile.blocks.size() < kMaxBlocks; at += kBlock) {
      const uint64_t begin = s.offset + at;
      const uint64_t last = begin + std::min(kBlock, s.filesz - at) - 1;
      profile.blocks.push_back({0, begin, last, 8, at % 3 + 1});
      profile.branches.push_back({0, begin, at % 2, 1});
    }
  }
  return profile;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hwcov::fuzz::ScratchFile file("input.elf");
  const std::string path = file.Write(data, size).string();
  try {
    std::shared_ptr<const mapper::ModuleData> module = mapper::LoadModuleUncached(path, {});
    const hwcov::profile::ExecutionProfile profile = ProfileFor(module->elf, path);
    const mapper::ModuleCounts counts = mapper::CollectCounts(module->elf, profile, {0});
    mapper::CoverageBuilder builder;
    if (module->debug.has_dwarf)
      mapper::MapModule(*module, counts, builder);
    else
      mapper::MapSymbols(*module, counts, builder);
    mapper::Coverage coverage;
    coverage.files = builder.Build();
    for (const mapper::FileCoverage& f : coverage.files) {
      for (size_t i = 1; i < f.lines.size(); ++i)
        Check(f.lines[i - 1].line < f.lines[i].line, "lines sorted and unique");
      for (const mapper::BranchOutcome& b : f.branches)
        Check(b.branch <= 1, "branch outcome is 0 or 1");
    }
    mapper::Coverage twice = coverage;
    mapper::Merge(twice, coverage);  // the public sum of two traces' coverage
    Check(twice.files.size() == coverage.files.size(), "merge with itself keeps the files");
    size_t lines = 0;
    for (const mapper::FileCoverage& f : coverage.files) lines += f.lines.size();
    hwcov::fuzz::Accepted(std::to_string(coverage.files.size()) + " files, " +
                          std::to_string(lines) + " lines" +
                          (module->debug.has_dwarf ? "" : " (no DWARF)"));
  } catch (const hwcov::Error& e) {
    hwcov::fuzz::Refused(e.what());
  }
  return 0;
}
