// The record-independent half of hwcov: inputs to checked reports.
#include <algorithm>
#include <cstdio>
#include <utility>

#include "empty_reason.h"
#include "git_diff.h"
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

decoder::DecodeOptions DecodeOptionsOf(const DecodeSettings& settings) {
  decoder::DecodeOptions decode;
  decode.sysroot = settings.sysroot;
  decode.jobs = settings.jobs;
  decode.libipt_only = settings.libipt_only;
  decode.progress = settings.progress;
  return decode;
}

// Each test on its own, then summed: the total is what merging the coverage
// of separate runs of each test gives.
mapper::Coverage CoverageOfTests(const std::vector<profile::TestProfile>& profiles,
                                 const mapper::MapOptions& map) {
  std::vector<mapper::Coverage> tests;
  for (const profile::TestProfile& test : profiles) {
    mapper::Coverage coverage = mapper::MapProfile(test.profile, map);
    coverage.tests.push_back({test.name, coverage.files});
    tests.push_back(std::move(coverage));
  }
  mapper::Coverage all = report::MergeCoverage(tests);
  std::vector<std::string>& warnings = all.quality.warnings;  // one per test otherwise
  warnings.erase(std::unique(warnings.begin(), warnings.end()), warnings.end());
  return all;
}

mapper::Coverage CoverageOfTrace(const fs::path& path, const ReportRequest& request) {
  trace::Trace trace = trace::ReadPerfData(path);
  if (!trace.pt)
    throw Error(path.string() + ": the trace has no Intel PT data (no AUXTRACE_INFO record)");
  for (const std::string& w : trace.warnings) Tell(request, path.string() + ": " + w);
  const decoder::DecodeOptions decode = DecodeOptionsOf(request.decode);
  const mapper::MapOptions map{request.decode.debug_dirs};
  if (!request.per_test) return mapper::MapProfile(decoder::Decode(trace, decode), map);
  return CoverageOfTests(decoder::DecodeByTest(trace, decode), map);
}

mapper::Coverage CoverageOfJson(const fs::path& path, const ReportRequest& request) {
  mapper::Coverage coverage = report::ReadCoverageJson(path);
  if (!request.per_test)
    coverage.tests.clear();
  else if (coverage.tests.empty() && !coverage.files.empty())
    throw Error(path.string() +
                ": has no per-test coverage (it was written without --per-test), so its "
                "lines cannot be given to tests");
  return coverage;
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
    report::MakeLcovWriter(staged.Stage(outputs.lcov), outputs.test_name, outputs.lcov_format)
        ->Write(coverage, summary);
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
  if (const auto& pct = request.diff.fail_under; pct && !(*pct >= 0 && *pct <= 100))
    throw Error("--fail-under-diff must be a percentage from 0 to 100");
  if (request.diff.fail_under && request.diff.empty())
    throw Error("--fail-under-diff needs --diff REVISION or --diff-file FILE");
}

namespace {

std::optional<report::DiffCoverage> CoverDiff(const DiffSource& source, const fs::path& root,
                                              const mapper::Coverage& coverage) {
  if (source.empty()) return std::nullopt;
  const fs::path dir = root.empty() ? fs::current_path() : root;
  const report::ChangedLines changes = source.revision.empty() ? DiffFileChanges(source.file, dir)
                                                               : GitChanges(source.revision, dir);
  return report::CoverChanges(coverage, changes);
}

std::optional<std::string> DiffGate(const DiffSource& source, const report::DiffCoverage& diff) {
  if (!source.fail_under || diff.lines.found == 0) return std::nullopt;  // nothing changed
  if (diff.lines.Percent() >= *source.fail_under) return std::nullopt;
  char reason[160];
  std::snprintf(reason, sizeof reason,
                "diff coverage %.2f%% (%llu of %llu changed lines) is below --fail-under-diff %g",
                diff.lines.Percent(), static_cast<unsigned long long>(diff.lines.hit),
                static_cast<unsigned long long>(diff.lines.found), *source.fail_under);
  return reason;
}

}  // namespace

namespace {

// Merges |coverages| (several traces and JSON coverage files merge by
// summing), scopes, writes and gates them.
ReportResult ReportCoverages(const std::vector<mapper::Coverage>& coverages,
                             const ReportRequest& request) {
  const ResolvedScope scope = Resolve(request.scope);
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
  result.diff = CoverDiff(request.diff, result.root, result.coverage);
  WriteOutputs(request.outputs, result.root, result.coverage, result.summary);

  result.gate_failure = report::CheckThresholds(result.summary, request.thresholds);
  if (!result.gate_failure && result.diff)
    result.gate_failure = DiffGate(request.diff, *result.diff);
  const double share = all.quality.decoded_share();
  if (share < kMinimumDecodedShare && !request.allow_partial) {
    const std::string why =
        "only " + std::to_string(static_cast<int>(100 * share)) + "% of the trace decoded cleanly";
    Tell(request, why + ": the coverage is partial (see the gaps listed)");
    const bool gated = request.thresholds.line || request.thresholds.function ||
                       request.thresholds.branch || request.diff.fail_under;
    if (gated && !result.gate_failure)
      result.gate_failure =
          why + ": the gates fail on a partial trace (--allow-partial accepts it)";
  }
  return result;
}

}  // namespace

ReportResult RunReport(const std::vector<fs::path>& inputs, const ReportRequest& request) {
  ValidateRequest(request);
  CheckOutputs(request.outputs);  // before a decode that may take minutes
  std::vector<mapper::Coverage> coverages;
  for (const fs::path& path : inputs)
    coverages.push_back(IsCoverageJson(path) ? CoverageOfJson(path, request)
                                             : CoverageOfTrace(path, request));
  return ReportCoverages(coverages, request);
}

struct LiveReport::Impl {
  explicit Impl(const ReportRequest& r) : request(r), decoder(DecodeOptionsOf(r.decode)) {}
  ReportRequest request;
  decoder::StreamDecoder decoder;
  std::optional<mapper::Coverage> coverage;  // once mapped
};

LiveReport::LiveReport(const ReportRequest& request) : impl_(std::make_unique<Impl>(request)) {
  ValidateRequest(request);
  CheckOutputs(request.outputs);
}

LiveReport::~LiveReport() = default;

trace::TraceSink& LiveReport::sink() {
  // The stream decoder decodes the whole run as one: per test needs a file.
  if (impl_->request.per_test)
    throw Error(
        "per-test coverage is not decoded while recording (record to a file, then "
        "report it with --per-test)");
  return impl_->decoder;
}

ReportResult LiveReport::Report() { return Report(impl_->decoder.TakeProfile()); }

ReportResult LiveReport::Report(profile::ExecutionProfile counted) {
  impl_->coverage =
      mapper::MapProfile(counted, mapper::MapOptions{impl_->request.decode.debug_dirs});
  return ReportCoverages({*impl_->coverage}, impl_->request);
}

ReportResult LiveReport::Report(const std::vector<profile::TestProfile>& tests) {
  impl_->coverage = CoverageOfTests(tests, mapper::MapOptions{impl_->request.decode.debug_dirs});
  return ReportCoverages({*impl_->coverage}, impl_->request);
}

bool LiveReport::KeepCoverage(const fs::path& path) const {
  if (!impl_->coverage) return false;
  StagedOutputs staged;
  report::MakeJsonWriter(staged.Stage(path))
      ->Write(*impl_->coverage, report::Summarize(*impl_->coverage));
  staged.Commit();
  return true;
}

}  // namespace hwcov::pipeline
