// MapProfile(): groups the profile's modules by binary, maps each binary
// once (module_mapper.cc) with its cached DWARF (module_data.cc), and adds
// the trace-quality figures every report prints.
#include <map>
#include <sstream>

#include "coverage_builder.h"
#include "hwcov/hex.h"
#include "hwcov/mapper.h"
#include "module_data.h"
#include "module_mapper.h"

namespace hwcov::mapper {
namespace {

TraceQuality Quality(const profile::ExecutionProfile& profile,
                     const std::vector<std::string>& warnings) {
  TraceQuality q;
  q.trace_bytes = profile.trace_bytes;
  q.decoded_bytes = profile.decoded_bytes;
  q.instructions = profile.instructions;
  q.unmapped_instructions = profile.unmapped_instructions;
  for (const profile::Gap& gap : profile.gaps) {
    ++q.gaps_by_kind[profile::GapKindName(gap.kind)];
    q.gap_details.push_back(
        profile::GapKindName(gap.kind) + " in queue " + std::to_string(gap.queue) +
        " at trace offset " + Hex(gap.trace_offset) + (gap.ip ? ", ip " + Hex(gap.ip) : "") + ": " +
        gap.detail + " (" + std::to_string(gap.skipped_bytes) + " bytes skipped)");
  }
  q.warnings = profile.warnings;
  q.warnings.insert(q.warnings.end(), warnings.begin(), warnings.end());
  return q;
}

// Profile modules that are one binary: the same build id (processes of one
// program, a binary reached by two paths), or the same path without one.
// Modules none of whose code ran are left out: the profile lists every
// binary mapped into a traced process, including those the code filter kept
// out of the trace (libc, ld.so), and 0% for code that was never traced
// would be wrong. A module where a trace gap stopped or resumed was traced
// (its code ran, unseen): it is kept, for its unknown lines.
std::map<std::string, std::vector<uint32_t>> GroupModules(
    const profile::ExecutionProfile& profile) {
  std::vector<bool> ran(profile.modules.size());
  for (const profile::BlockCount& b : profile.blocks)
    if (b.module < ran.size()) ran[b.module] = true;
  for (const profile::Gap& gap : profile.gaps)
    if (gap.location && gap.location->module < ran.size()) ran[gap.location->module] = true;
  std::map<std::string, std::vector<uint32_t>> groups;
  for (uint32_t i = 0; i < profile.modules.size(); ++i) {
    const profile::Module& m = profile.modules[i];
    if (!ran[i] || m.path.empty() || m.path[0] == '[') continue;  // [vdso]: no source
    BuildId id = m.build_id;
    if (id.empty())
      if (auto from_file = ReadElfBuildId(m.path)) id = *from_file;
    groups[id.empty() ? "path:" + m.path : "build-id:" + id.Hex()].push_back(i);
  }
  return groups;
}

}  // namespace

Coverage MapProfile(const profile::ExecutionProfile& profile, const MapOptions& options) {
  CoverageBuilder builder;
  std::vector<std::string> warnings;
  for (const auto& [key, modules] : GroupModules(profile)) {
    const std::string& path = profile.modules[modules.front()].path;
    std::shared_ptr<const ModuleData> module = LoadModule(path, options.debug_dirs);
    for (const std::string& w : module->warnings) warnings.push_back(w);
    ModuleCounts counts = CollectCounts(module->elf, profile, modules);
    if (module->debug.has_dwarf) {
      MapModule(*module, counts, builder);
    } else {
      warnings.push_back(path +
                         ": no DWARF debug info (looked in the binary, the build-id and "
                         "debuglink locations" +
                         std::string(options.debug_dirs.empty() ? "" : " and --debug-dir") +
                         "); function coverage from ELF symbols only");
      MapSymbols(*module, counts, builder);
    }
  }
  Coverage coverage;
  coverage.files = builder.Build();
  coverage.quality = Quality(profile, warnings);
  return coverage;
}

}  // namespace hwcov::mapper
