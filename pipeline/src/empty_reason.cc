#include "empty_reason.h"

#include <cstdio>

namespace hwcov::pipeline {
namespace {

std::string Percent(double share) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * share);
  return buf;
}

uint64_t Gaps(const mapper::TraceQuality& q, const std::string& kind) {
  auto it = q.gaps_by_kind.find(kind);
  return it == q.gaps_by_kind.end() ? 0 : it->second;
}

std::string NothingDecoded(const mapper::TraceQuality& q) {
  std::string why = "no code was traced: " + Percent(q.decoded_share()) + " of " +
                    std::to_string(q.trace_bytes) + " PT bytes decoded, no instruction";
  if (uint64_t n = Gaps(q, "no-image"))
    why += "; " + std::to_string(n) +
           " no-image gaps (the traced binaries are missing here, were rebuilt, or the trace "
           "is from another machine: --sysroot)";
  else if (q.trace_bytes == 0)
    why +=
        " (the program exited before any traced code ran, or the filter matched no code it "
        "ran: --only, --all-code)";
  if (!q.warnings.empty()) why += "; " + q.warnings.front();
  return why;
}

std::string FilteredAway(const report::FilterCounts& n, const ScopeDescription& scope) {
  std::string why = "nothing in scope: none of the " + std::to_string(n.files) +
                    " source files with coverage is reported (";
  std::string sep;
  auto part = [&](size_t count, const std::string& what) {
    if (!count) return;
    why += sep + std::to_string(count) + " " + what;
    sep = ", ";
  };
  part(n.outside_root,
       "outside the source root " + scope.root +
           (n.example_outside_root.empty() ? "" : ", e.g. " + n.example_outside_root));
  part(n.system, "under /usr (system headers)");
  part(n.not_included, "matching no --include");
  part(n.excluded, "matching an --exclude");
  part(n.emptied, "excluded by LCOV_EXCL/GCOVR_EXCL markers");
  why += ")";
  if (n.outside_root || n.system)
    why += scope.root_is_default ? "; use --root DIR for sources elsewhere, or --all-code"
                                 : "; use another --root, or --all-code";
  return why;
}

}  // namespace

std::string EmptyReportReason(const mapper::Coverage& all, const report::FilterCounts& counts,
                              const ScopeDescription& scope) {
  const mapper::TraceQuality& q = all.quality;
  bool any_lines = false, any_functions = false;
  for (const mapper::FileCoverage& f : all.files) {
    any_lines |= !f.lines.empty();
    any_functions |= !f.functions.empty();
  }
  if (any_lines) return FilteredAway(counts, scope);
  if (q.instructions == 0) return NothingDecoded(q);
  if (any_functions || q.unmapped_instructions < q.instructions)
    return "no source lines: the traced binaries have no DWARF line information (stripped, or "
           "built without -g)" +
           (q.warnings.empty() ? std::string(", only ELF symbols") : ": " + q.warnings.front());
  return "no code was mapped: all " + std::to_string(q.instructions) +
         " decoded instructions ran in code with no binary here (binaries missing or moved)" +
         (q.warnings.empty() ? "" : "; " + q.warnings.front());
}

}  // namespace hwcov::pipeline
