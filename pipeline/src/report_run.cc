// The record-independent half of hwcov: inputs to checked reports.
#include <utility>

#include "empty_reason.h"
#include "hwcov/decoder.h"
#include "hwcov/mapper.h"
#include "hwcov/pipeline.h"
#include "hwcov/support.h"
#include "hwcov/trace.h"
#include "staged_outputs.h"

namespace hwcov::pipeline {
namespace fs = std::filesystem;
namespace {

bool IsCoverageJson(const fs::path& path) { return path.extension() == ".json"; }

void Tell(const ReportRequest& request, const std::string& line) {
  if (request.message) request.message(line);
}

mapper::Coverage CoverageOfTrace(const fs::path& path, const ReportRequest& request) {
  trace::Trace trace = trace::ReadPerfData(path);
  if (!trace.pt)
    throw Error(path.string() + ": the trace has no Intel PT data (no AUXTRACE_INFO record)");
  for (const std::string& w : trace.warnings) Tell(request, path.string() + ": " + w);
  decoder::DecodeOptions decode;
  decode.sysroot = request.decode.sysroot;
  decode.jobs = request.decode.jobs;
  decode.libipt_only = request.decode.libipt_only;
  decode.progress = request.decode.progress;
  return mapper::MapProfile(decoder::Decode(trace, decode),
                            mapper::MapOptions{request.decode.debug_dirs});
}

struct ResolvedScope {
  report::FilterOptions filter;
  ScopeDescription description;
};

ResolvedScope Resolve(const Scope& scope) {
  ResolvedScope out;
  out.filter.include = scope.include;
  out.filter.exclude = scope.exclude;
  out.filter.system_sources = scope.all_code;
  if (!scope.root.empty()) {
    out.filter.root = fs::absolute(scope.root).lexically_normal();
    out.description.root = out.filter.root.string();
  } else if (!scope.all_code) {
    out.filter.root = ProjectRoot(fs::current_path());
    out.description.root =
        out.filter.root.string() + " (the project root of the working directory)";
    out.description.root_is_default = true;
  }
  return out;
}

void WriteOutputs(const Outputs& outputs, const fs::path& root, const mapper::Coverage& coverage,
                  const report::Summary& summary) {
  StagedOutputs staged;
  if (!outputs.lcov.empty())
    report::MakeLcovWriter(staged.Stage(outputs.lcov), outputs.test_name)->Write(coverage, summary);
  if (!outputs.json.empty())
    report::MakeJsonWriter(staged.Stage(outputs.json))->Write(coverage, summary);
  if (!outputs.cobertura.empty())
    report::MakeCoberturaWriter(staged.Stage(outputs.cobertura), root)->Write(coverage, summary);
  if (!outputs.html.empty())
    report::MakeHtmlWriter(staged.Stage(outputs.html), root)->Write(coverage, summary);
  staged.Commit();
}

}  // namespace

void ValidateRequest(const ReportRequest& request) {
  report::Filter({}, Resolve(request.scope).filter);
  report::CheckThresholds({}, request.thresholds);
}

ReportResult RunReport(const std::vector<fs::path>& inputs, const ReportRequest& request) {
  ValidateRequest(request);
  const ResolvedScope scope = Resolve(request.scope);
  // Several traces and JSON coverage files merge by summing their coverage.
  std::vector<mapper::Coverage> coverages;
  for (const fs::path& path : inputs)
    coverages.push_back(IsCoverageJson(path) ? report::ReadCoverageJson(path)
                                             : CoverageOfTrace(path, request));
  mapper::Coverage all = report::MergeCoverage(coverages);
  report::FilterCounts counts;
  ReportResult result;
  result.coverage = report::Filter(all, scope.filter, &counts);
  result.root = scope.filter.root;
  for (const std::string& pattern : counts.unmatched_patterns)
    Tell(request, pattern +
                      " matched no source file (patterns are searched in the absolute "
                      "path and in the path relative to the root)");
  result.summary = report::Summarize(result.coverage);
  const report::Ratio& lines = result.summary.total.lines;
  if (lines.found == 0 && lines.unknown == 0 && result.summary.total.functions.found == 0)
    throw Error(EmptyReportReason(all, counts, scope.description));
  WriteOutputs(request.outputs, result.root, result.coverage, result.summary);

  result.gate_failure = report::CheckThresholds(result.summary, request.thresholds);
  const double share = all.quality.decoded_share();
  if (share < kMinimumDecodedShare && !request.allow_partial) {
    const std::string why =
        "only " + std::to_string(static_cast<int>(100 * share)) + "% of the trace decoded cleanly";
    Tell(request, why + ": the coverage is partial (see the gaps listed)");
    const bool gated =
        request.thresholds.line || request.thresholds.function || request.thresholds.branch;
    if (gated && !result.gate_failure)
      result.gate_failure =
          why + ": the gates fail on a partial trace (--allow-partial accepts it)";
  }
  return result;
}

}  // namespace hwcov::pipeline
