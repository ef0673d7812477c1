// The driver every front end calls: traces and JSON coverage files in, the
// reports out, with the checks that make a result trustworthy (an empty or
// mostly undecoded report is never passed off as a success).
//
//   ReportRequest request{.outputs = {.lcov = "cov.info"}};
//   CheckOutputs(request.outputs);          // before a long recording
//   ReportResult result = RunReport({"perf.data"}, request);
//   MakeTextWriter(std::cout)->Write(result.coverage, result.summary);
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hwcov/profile.h"
#include "hwcov/report.h"

namespace hwcov::trace {
class TraceSink;
}

namespace hwcov::pipeline {

// Report files to write; empty paths are not written. All are written to
// temporaries first and renamed into place together, so a failure leaves
// none of them changed.
struct Outputs {
  std::filesystem::path lcov;
  std::filesystem::path cobertura;
  std::filesystem::path json;
  std::filesystem::path html;  // a directory
  std::string test_name;       // lcov TN:
  report::LcovFormat lcov_format = report::LcovFormat::kV1;
  bool empty() const { return lcov.empty() && cobertura.empty() && json.empty() && html.empty(); }
};

// Throws hwcov::Error "<path>: <why>" when an output cannot be created there
// (missing directory, no permission, read-only file system, a directory in
// the way), by creating and removing a temporary beside it.
void CheckOutputs(const Outputs& outputs);
void CheckOutputFile(const std::filesystem::path& path);  // one file, e.g. the trace

// The trace of a `hwcov run` without -o: "$TMPDIR/hwcov-run-<pid>.data",
// removed when the run ends. Those of runs killed with SIGKILL are removed
// first (RemoveStaleOwnedEntries).
std::filesystem::path TemporaryTracePath();
// Renames a temporary trace to "hwcov-<pid>.data" beside it, a name no later
// run removes, when a failed report leaves it to `hwcov report`. Returns the
// new path.
std::filesystem::path KeepTemporaryTrace(const std::filesystem::path& trace);

// What part of the coverage is the project's: sources below |root| (empty:
// ProjectRoot() of the working directory), not system headers, unless
// |all_code|; then the --include/--exclude regexes.
struct Scope {
  std::filesystem::path root;
  bool all_code = false;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
};

// The git top level above |dir| (a directory holding .git), else |dir|.
std::filesystem::path ProjectRoot(const std::filesystem::path& dir);

struct DecodeSettings {
  std::string sysroot;                  // where the recorded binaries are (perf --symfs)
  std::vector<std::string> debug_dirs;  // roots of separate debug info
  unsigned jobs = 0;                    // 0: one per core
  bool libipt_only = false;             // the reference decoder for everything
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// The change a diff-coverage report is about: `git diff REVISION` in the
// project root's repository, or a unified diff file (paths relative to the
// root). Both empty: no diff coverage.
struct DiffSource {
  std::string revision;
  std::filesystem::path file;
  std::optional<double> fail_under;  // percent of changed lines with code
  bool empty() const { return revision.empty() && file.empty(); }
};

struct ReportRequest {
  Outputs outputs;
  Scope scope;
  report::Thresholds thresholds;
  DiffSource diff;
  // Below this share of the trace decoded cleanly, the report says so and
  // every gate fails, unless |allow_partial|.
  bool allow_partial = false;
  // Per-test coverage (docs/user-guide.md, "Per-test coverage"): each
  // trace's tests decoded and mapped apart and kept in Coverage::tests; JSON
  // inputs must have per-test data. Without it, JSON inputs' tests are dropped.
  bool per_test = false;
  DecodeSettings decode;
  // hwcov's messages about the inputs (warnings, filters that matched
  // nothing), one line each without the "hwcov: " prefix.
  std::function<void(const std::string&)> message;
};

inline constexpr double kMinimumDecodedShare = 0.5;

struct ReportResult {
  mapper::Coverage coverage;  // in scope
  report::Summary summary;
  std::filesystem::path root;                // the root the scope used
  std::optional<report::DiffCoverage> diff;  // when request.diff names a change
  std::optional<std::string> gate_failure;   // why a gate failed, one line
};

// Reads, decodes, maps, merges and filters |inputs| (perf.data traces and
// *.json coverage files), writes request.outputs and checks the gates.
// Throws hwcov::Error when nothing is in scope, naming why (no code decoded,
// binaries missing or rebuilt, no debug info, nothing matched the scope).
ReportResult RunReport(const std::vector<std::filesystem::path>& inputs,
                       const ReportRequest& request);

// Decoding while recording (`hwcov run`): sink() goes to
// collector::RecordOptions::live and decodes the trace as the recording
// produces it (a decoder::StreamDecoder), so no perf.data is needed; once the
// recording has finished, Report() maps, scopes, writes and gates the
// coverage as RunReport does for a trace file. The request is checked at
// construction, before the recording (request.per_test is refused: per-test
// decoding reads a file, DecodeByTest). request.decode.progress is not called.
class LiveReport {
 public:
  explicit LiveReport(const ReportRequest& request);
  ~LiveReport();
  trace::TraceSink& sink();
  ReportResult Report();
  // The same for a profile counted without a trace (the emu backend's
  // counting mode, collector::RecordResult::profile): sink() is unused.
  ReportResult Report(profile::ExecutionProfile counted);
  // When Report() failed after mapping (nothing in scope, a bad output...):
  // writes the whole coverage, unscoped, as hwcov JSON to |path|, so that
  // the recording is not lost (`hwcov report PATH` with other options).
  // False when there is nothing mapped to keep.
  bool KeepCoverage(const std::filesystem::path& path) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `hwcov dump`: the trace's header, Intel PT configuration, AUX queues with
// their packet counts (libipt's packet decoder), the sideband in time order
// and, with |profile|, the decoded execution profile: what a bug report needs.
struct DumpOptions {
  bool profile = true;
  bool libipt_only = false;
  std::string sysroot;
};
void DumpTrace(const std::filesystem::path& path, std::ostream& out, const DumpOptions& options);

// Bad thresholds and regexes fail before a long recording.
void ValidateRequest(const ReportRequest& request);

}  // namespace hwcov::pipeline
