// hwcov: code coverage from control-flow traces, without recompiling.
// A thin front end: parses options, calls the stage libraries, prints.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "hwcov/collector.h"
#include "hwcov/decoder.h"
#include "hwcov/pipeline.h"
#include "hwcov/report.h"
#include "hwcov/trace.h"
#include "hwcov/version.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

// hwcov itself failed. Not 1 or 2 (make, meson, pytest and most test
// programs use them), not 8 (ctest), 125-127 or 128+N (shells, timeout,
// git bisect): sysexits' EX_SOFTWARE. The traced program's status passes through.
constexpr int kErrorExit = 70;
constexpr int kGateExit = 3;  // a --fail-under-* threshold was not met

const char kUsage[] =
    "usage: hwcov <command> [options]\n"
    "\n"
    "commands:\n"
    "  run     [options] -- CMD [ARGS...]   record CMD, then report its coverage\n"
    "  record  [options] -- CMD [ARGS...]   record CMD's control flow to a perf.data trace\n"
    "  report  [options] TRACE|JSON...      report the coverage in recorded traces\n"
    "  merge   -o OUT IN.json...            sum JSON coverage files into one\n"
    "  dump    TRACE                        print what a trace holds: PT setup, queues and\n"
    "                                       packet counts, sideband, decoded profile (bug "
    "reports)\n"
    "  decode  --list-insns TRACE           print executed instruction addresses (debugging)\n"
    "\n"
    "Run 'hwcov <command> --help' for a command's options. See docs/user-guide.md.\n";

struct Args {
  std::vector<std::string> options;  // before "--"
  std::vector<std::string> command;  // after "--"
};

Args SplitAtDoubleDash(int argc, char** argv, int first) {
  Args args;
  int i = first;
  for (; i < argc && std::string(argv[i]) != "--"; ++i) args.options.push_back(argv[i]);
  for (++i; i < argc; ++i) args.command.push_back(argv[i]);
  return args;
}

po::variables_map Parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description* positional = nullptr) {
  po::variables_map vm;
  po::command_line_parser parser(args);
  // No guessing: "--htm" must not silently mean --html.
  parser.options(desc).style(po::command_line_style::default_style &
                             ~po::command_line_style::allow_guessing);
  if (positional) parser.positional(*positional);
  po::store(parser.run(), vm);
  po::notify(vm);
  return vm;
}

bool UseColor(int fd) {
  const char* term = std::getenv("TERM");
  return isatty(fd) && !std::getenv("NO_COLOR") && term && std::string(term) != "dumb";
}

std::string WithCommas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

struct ReportOptions {
  hwcov::pipeline::ReportRequest request;
  unsigned jobs = 0;
  std::string decoder = "fast";
  bool quiet = false;
  bool show_missing = false;
};

// A progress line on stderr for decodes that take more than a second, when
// stderr is a terminal: bytes decoded, MB/s, time left.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO)) {}
  ~ProgressBar() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }
  void Update(uint64_t done, uint64_t total) {
    if (!enabled_ || total == 0) return;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (elapsed < 1.0) return;
    const double rate = done / elapsed;
    const double left = rate > 0 ? (total - done) / rate : 0;
    std::fprintf(stderr, "\rhwcov: decoding %5.1f%%  %.1f/%.1f MB  %.1f MB/s  %.0f s left\033[K",
                 100.0 * done / total, done / 1e6, total / 1e6, rate / 1e6, left);
    shown_ = true;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

void AddReportOptions(po::options_description& desc, ReportOptions& options) {
  hwcov::pipeline::ReportRequest& r = options.request;
  desc.add_options()("lcov", po::value(&r.outputs.lcov)->value_name("FILE"),
                     "also write an lcov tracefile (genhtml, lcov --summary, Codecov...)")(
      "cobertura", po::value(&r.outputs.cobertura)->value_name("FILE"),
      "also write Cobertura XML (GitLab, Jenkins, Azure DevOps...)")(
      "json", po::value(&r.outputs.json)->value_name("FILE"),
      "also write hwcov's JSON coverage file (docs/json-format.md; input of merge and report)")(
      "html", po::value(&r.outputs.html)->value_name("DIR"),
      "also write a self-contained HTML report (index.html and annotated sources) in DIR")(
      "root", po::value(&r.scope.root)->value_name("DIR"),
      "source root: report only sources below DIR, shown relative to it (default: the project "
      "root of the working directory, its git top level, else the directory itself)")(
      "include", po::value(&r.scope.include)->value_name("REGEX"),
      "report only sources whose path (absolute, or as shown: relative to the root) matches "
      "REGEX (repeatable)")("exclude", po::value(&r.scope.exclude)->value_name("REGEX"),
                            "do not report sources whose path matches REGEX (repeatable)")(
      "fail-under-line",
      po::value<double>()->value_name("PCT")->notifier([&](double v) { r.thresholds.line = v; }),
      "exit with status 3 if line coverage is below PCT percent")(
      "fail-under-function", po::value<double>()->value_name("PCT")->notifier([&](double v) {
        r.thresholds.function = v;
      }),
      "exit with status 3 if function coverage is below PCT percent")(
      "fail-under-branch",
      po::value<double>()->value_name("PCT")->notifier([&](double v) { r.thresholds.branch = v; }),
      "exit with status 3 if branch coverage is below PCT percent")(
      "diff", po::value(&r.diff.revision)->value_name("REVISION"),
      "also report the coverage of the lines changed since REVISION (git diff REVISION: the "
      "working tree against it), and list the changed lines not covered")(
      "diff-file", po::value(&r.diff.file)->value_name("FILE"),
      "the same for a unified diff in FILE (paths relative to the root)")(
      "fail-under-diff",
      po::value<double>()->value_name("PCT")->notifier([&](double v) { r.diff.fail_under = v; }),
      "exit with status 3 if fewer than PCT percent of the changed lines with code ran")(
      "allow-partial", po::bool_switch(&r.allow_partial),
      "let the gates pass on a trace of which less than 50% decoded cleanly")(
      "show-missing", po::bool_switch(&options.show_missing),
      "list the uncovered line ranges of each file in the summary")(
      "test-name", po::value(&r.outputs.test_name)->value_name("NAME"),
      "test name for the lcov TN: record")(
      "per-test", po::bool_switch(&r.per_test),
      "per-test coverage: every traced program is a test run, named by $HWCOV_TEST_NAME, else "
      "pytest's $PYTEST_CURRENT_TEST, else its command line; the JSON, lcov (one TN: section per "
      "test) and HTML outputs say which tests covered each line, function and branch")(
      "lcov-format-version",
      po::value<std::string>()->value_name("1.x|2.0")->notifier([&](const std::string& v) {
        if (v != "1.x" && v != "2.0")
          throw po::validation_error(po::validation_error::invalid_option_value,
                                     "lcov-format-version", v);
        r.outputs.lcov_format =
            v == "2.0" ? hwcov::report::LcovFormat::kV2 : hwcov::report::LcovFormat::kV1;
      }),
      "1.x (default): the tracefile lcov 1.x, Coveralls and Codecov read (lcov 2.x warns that it "
      "derives function end lines); 2.0: with function end lines, for lcov >= 2.0 only")(
      "jobs,j", po::value<int>()->value_name("N")->notifier([&](int n) {
        if (n < 1 || n > 1024)
          throw po::validation_error(po::validation_error::invalid_option_value, "jobs",
                                     std::to_string(n));
        options.jobs = static_cast<unsigned>(n);
      }),
      "decode with N threads, 1 to 1024 (default: one per core)")(
      "decoder",
      po::value(&options.decoder)->value_name("fast|libipt")->notifier([](const std::string& v) {
        if (v != "fast" && v != "libipt")
          throw po::validation_error(po::validation_error::invalid_option_value, "decoder", v);
      }),
      "fast (default): hwcov's coverage decoder, handing what it does not model to libipt; "
      "libipt: libipt's block decoder for everything (the reference)")(
      "quiet,q", po::bool_switch(&options.quiet), "no progress line while decoding")(
      "sysroot", po::value(&r.decode.sysroot)->value_name("DIR"),
      "look for the traced binaries under DIR, as perf's --symfs (binaries copied from the "
      "recording machine); the build-id cache ($PERF_BUILDID_DIR or ~/.debug) is searched too")(
      "debug-dir", po::value(&r.decode.debug_dirs)->value_name("DIR"),
      "also look for separate debug info under DIR (DIR/.build-id/xx/yyyy.debug, or the "
      ".gnu_debuglink name), before /usr/lib/debug (repeatable)");
}

// `report`'s --all-code; `run` has one --all-code for tracing and reporting.
void AddReportScopeOption(po::options_description& desc, ReportOptions& options) {
  desc.add_options()(
      "all-code", po::bool_switch(&options.request.scope.all_code),
      "report every source: system headers (/usr/include), system binaries and files outside "
      "the root too");
}

// Reports |inputs| and prints the summary on |summary_out|: stdout for
// `report` (as llvm-cov and gcovr do), stderr for `run`, whose stdout is the
// traced program's.
// The request's decoder settings and message sink from the options.
void PrepareRequest(ReportOptions& options) {
  hwcov::pipeline::ReportRequest& request = options.request;
  request.decode.jobs = options.jobs;
  request.decode.libipt_only = options.decoder == "libipt";
  request.message = [](const std::string& line) { std::cerr << "hwcov: " << line << "\n"; };
}

int PrintReport(const hwcov::pipeline::ReportResult& result, const ReportOptions& options,
                std::ostream& summary_out);

int Report(const std::vector<fs::path>& inputs, ReportOptions& options, std::ostream& summary_out) {
  PrepareRequest(options);
  hwcov::pipeline::ReportRequest& request = options.request;
  ProgressBar progress(!options.quiet);
  request.decode.progress = [&](uint64_t done, uint64_t total) { progress.Update(done, total); };
  const hwcov::pipeline::ReportResult result = hwcov::pipeline::RunReport(inputs, request);
  request.decode.progress = nullptr;
  return PrintReport(result, options, summary_out);
}

// Prints |result|'s summary on |summary_out|; the exit status of its gates.
int PrintReport(const hwcov::pipeline::ReportResult& result, const ReportOptions& options,
                std::ostream& summary_out) {
  const bool color = &summary_out == &std::cout ? UseColor(STDOUT_FILENO) : UseColor(STDERR_FILENO);
  hwcov::report::MakeTextWriter(summary_out, {color, result.root, options.show_missing})
      ->Write(result.coverage, result.summary);
  if (result.diff) hwcov::report::WriteDiffSummary(summary_out, *result.diff, result.root);
  // After the reports are written: a failed gate still leaves them to look at.
  if (result.gate_failure) {
    summary_out.flush();
    std::cerr << "hwcov: " << *result.gate_failure << "\n";
    return kGateExit;
  }
  return 0;
}

struct RecordArgs {
  std::string output;
  std::string backend = "auto";
  std::string step_log;
  std::vector<std::string> only;
  std::vector<std::string> only_exe;
  bool trace_everything = false;
  bool no_inherit = false;
  bool baseline = false;
  bool no_return_compression = false;
  bool tnt8_only = false;
  uint64_t psb_period = 4096;
  std::string buffer_size;
  int pid = 0;
  double duration = 0;
  std::vector<std::string> filters;
  std::string emu_mode;  // hwcov run: "count" or "trace" (default: count unless a trace is needed)
  bool emu_count = false;
};

void AddRecordOptions(po::options_description& desc, RecordArgs& args) {
  desc.add_options()("backend", po::value(&args.backend)->value_name("B"),
                     "trace source: auto, intel-pt, emu or soft (default auto)")(
      "only", po::value(&args.only)->value_name("GLOB"),
      "trace only code in binaries whose path matches GLOB (repeatable; default: the traced "
      "executables themselves, not libc or ld.so)")(
      "only-exe", po::value(&args.only_exe)->value_name("GLOB"),
      "trace only processes whose executable matches GLOB (repeatable); others run untraced")(
      "all-code", po::bool_switch(&args.trace_everything),
      "no code filter: trace (and report) libc, ld.so, system programs and every other "
      "library too")("no-inherit", po::bool_switch(&args.no_inherit),
                     "trace only the first process, not its children")(
      "baseline", po::bool_switch(&args.baseline),
      "run the command once untraced first and report the slowdown (it runs twice)")(
      "buffer-size", po::value(&args.buffer_size)->value_name("SIZE"),
      "intel-pt: AUX buffer size per CPU/thread, e.g. 4M (power of two pages)")(
      "pid,p", po::value(&args.pid)->value_name("PID"),
      "intel-pt: attach to a running process instead of running CMD")(
      "duration", po::value(&args.duration)->value_name("SECONDS"),
      "intel-pt: with -p, stop after SECONDS (default: until Ctrl-C)")(
      "filter", po::value(&args.filters)->value_name("FILTER"),
      "intel-pt: perf-style address filter, e.g. 'filter main @ ./prog' (repeatable)")(
      "psb-period", po::value(&args.psb_period)->value_name("BYTES"),
      "soft/emu: bytes of trace between sync points (PSB+), as intel_pt's psb_period "
      "(default 4096)")("no-return-compression", po::bool_switch(&args.no_return_compression),
                        "soft/emu: write every return as a TIP packet, as Intel PT's noretcomp "
                        "config bit (for decoders without return compression)")(
      "tnt8-only", po::bool_switch(&args.tnt8_only),
      "soft/emu: short TNT packets only, never TNT-64 (for decoders without TNT-64)")(
      "step-log", po::value(&args.step_log)->value_name("FILE"),
      "soft tracer: write each single-stepped address to FILE (debugging)");
}

uint64_t ParseSize(const std::string& text) {
  size_t used = 0;
  uint64_t value = 0;
  try {
    value = std::stoull(text, &used, 0);
  } catch (const std::exception&) {
    throw hwcov::Error("invalid size '" + text + "'");
  }
  std::string suffix = text.substr(used);
  if (suffix == "K" || suffix == "k")
    value <<= 10;
  else if (suffix == "M" || suffix == "m")
    value <<= 20;
  else if (suffix == "G" || suffix == "g")
    value <<= 30;
  else if (!suffix.empty())
    throw hwcov::Error("invalid size '" + text + "'");
  return value;
}

// The record-time statistics line.
// |counted|: the emu backend's counting mode, which writes no trace.
std::string Stats(const hwcov::collector::RecordStats& s, const fs::path& output, bool counted) {
  char buf[512];
  if (counted) {
    std::snprintf(buf, sizeof buf,
                  "counted %s instructions of %llu process(es), %llu thread(s) in %.2f s "
                  "(emu counting mode, no trace)",
                  WithCommas(s.instructions).c_str(), static_cast<unsigned long long>(s.processes),
                  static_cast<unsigned long long>(s.threads), s.seconds);
    return buf;
  }
  std::string line = "recorded " + WithCommas(s.instructions) + " instructions";
  if (s.steps) {
    std::snprintf(
        buf, sizeof buf, " (%s single steps, %s steps/s)", WithCommas(s.steps).c_str(),
        WithCommas(static_cast<uint64_t>(s.seconds > 0 ? s.steps / s.seconds : 0)).c_str());
    line += buf;
  }
  std::snprintf(
      buf, sizeof buf, " of %llu process(es), %llu thread(s) in %.2f s; %s bytes of Intel PT %s%s",
      static_cast<unsigned long long>(s.processes), static_cast<unsigned long long>(s.threads),
      s.seconds, WithCommas(s.trace_bytes).c_str(), output.empty() ? "" : "in ",
      output.empty() ? "decoded as recorded (no trace file)" : output.string().c_str());
  line += buf;
  if (s.baseline_seconds > 0) {
    std::snprintf(buf, sizeof buf, "; %.0fx slower than the untraced run (%.3f s)",
                  s.seconds / s.baseline_seconds, s.baseline_seconds);
    line += buf;
  }
  return line;
}

// Options that only one trace source reads are refused with another, rather
// than silently ignored (gcovr users mean a source filter by --filter).
void CheckBackendOptions(const po::variables_map& vm, hwcov::collector::Backend backend) {
  using hwcov::collector::Backend;
  using hwcov::collector::IntelPtOptions;
  using hwcov::collector::SoftOptions;
  using hwcov::collector::SoftwarePtOptions;
  // Each option by the options struct it fills: the struct says which
  // backends read it.
  static const struct {
    const char* option;
    std::span<const Backend> backends;
    const char* hint;
  } kOwned[] = {
      {"buffer-size", IntelPtOptions::kBackends, ""},
      {"pid", IntelPtOptions::kBackends, ""},
      {"duration", IntelPtOptions::kBackends, ""},
      {"filter", IntelPtOptions::kBackends, " (for a source filter, use --include/--exclude)"},
      {"psb-period", SoftwarePtOptions::kBackends, ""},
      {"no-return-compression", SoftwarePtOptions::kBackends, ""},
      {"tnt8-only", SoftwarePtOptions::kBackends, ""},
      {"step-log", SoftOptions::kBackends, ""},
  };
  for (const auto& owned : kOwned) {
    if (!vm.count(owned.option) || vm[owned.option].defaulted()) continue;
    bool applies = false;
    std::string names;
    for (Backend b : owned.backends) {
      applies |= b == backend;
      names += (names.empty() ? "" : " or ") + hwcov::collector::BackendName(b);
    }
    if (!applies)
      throw hwcov::Error(std::string("--") + owned.option + " applies to the " + names +
                         " backend only, not " + hwcov::collector::BackendName(backend) +
                         owned.hint);
  }
}

hwcov::collector::RecordResult DoRecord(const RecordArgs& args, const po::variables_map& vm,
                                        const std::vector<std::string>& command,
                                        const fs::path& output,
                                        hwcov::trace::TraceSink* live = nullptr) {
  if (command.empty() && args.pid == 0) throw hwcov::Error("no command given: put it after '--'");
  hwcov::collector::RecordOptions options;
  const hwcov::collector::BackendChoice choice =
      hwcov::collector::ChooseBackend(hwcov::collector::ParseBackend(args.backend));
  CheckBackendOptions(vm, choice.backend);
  if (args.backend == "auto")
    std::cerr << "hwcov: backend " << hwcov::collector::BackendName(choice.backend) << ": "
              << choice.reason << "\n";
  options.command = command;
  options.output = output;
  options.live = live;
  options.backend = choice.backend;
  options.log = &std::cerr;
  options.step_log = args.step_log;
  options.only_paths = args.only;
  options.only_exe = args.only_exe;
  options.trace_everything = args.trace_everything;
  options.inherit = !args.no_inherit;
  options.measure_baseline = args.baseline;
  options.psb_period = args.psb_period;
  options.no_return_compression = args.no_return_compression;
  options.tnt8_only = args.tnt8_only;
  if (!args.buffer_size.empty()) options.buffer_size = ParseSize(args.buffer_size);
  options.attach_pid = args.pid;
  options.duration = args.duration;
  options.filters = args.filters;
  options.count = args.emu_count;
  hwcov::collector::RecordResult result = hwcov::collector::Record(options);
  std::cerr << "hwcov: " << Stats(result.stats, output, result.profile.has_value()) << "\n";
  if (result.killed_by_signal)
    std::cerr << "hwcov: the traced program was killed by "
              << hwcov::SignalName(result.killed_by_signal) << "; coverage up to then\n";
  return result;
}

int CmdRecord(int argc, char** argv) {
  Args args = SplitAtDoubleDash(argc, argv, 2);
  RecordArgs record;
  record.output = "perf.data";
  po::options_description desc("hwcov record [options] -- CMD [ARGS...]");
  desc.add_options()("help,h", "show this help")(
      "output,o", po::value(&record.output)->value_name("FILE"), "trace file (default perf.data)");
  AddRecordOptions(desc, record);
  po::variables_map vm = Parse(args.options, desc);
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  hwcov::pipeline::CheckOutputFile(record.output);
  return DoRecord(record, vm, args.command, record.output).exit_status;
}

// `hwcov run`: the trace is decoded while it is recorded
// (pipeline::LiveReport), and written to a file only with -o.
int RunDecodingLive(const Args& args, const RecordArgs& record, ReportOptions& report,
                    const po::variables_map& vm) {
  PrepareRequest(report);
  hwcov::pipeline::LiveReport live(report.request);
  hwcov::collector::RecordResult result =
      DoRecord(record, vm, args.command, record.output, record.emu_count ? nullptr : &live.sink());
  try {
    const int gate =
        PrintReport(!result.profile           ? live.Report()
                    : report.request.per_test ? live.Report(result.test_profiles)
                                              : live.Report(std::move(*result.profile)),
                    report, std::cerr);
    return result.exit_status != 0 ? result.exit_status : gate;
  } catch (const hwcov::Error& e) {
    std::cerr << "hwcov: " << e.what() << "\n";
    const int status = result.exit_status != 0 ? result.exit_status : kErrorExit;
    if (record.output.empty() && result.stats.trace_bytes == 0) return status;  // nothing to keep
    // The recording may have taken an hour: its trace (with -o) or its
    // coverage stays for `hwcov report`.
    fs::path kept = record.output;
    if (kept.empty()) {
      kept = fs::temp_directory_path() / ("hwcov-" + std::to_string(getpid()) + ".json");
      if (!live.KeepCoverage(kept)) kept.clear();
    }
    if (!kept.empty())
      std::cerr << "hwcov: the " << (record.output.empty() ? "coverage" : "trace") << " is kept in "
                << kept.string() << " (hwcov report " << kept.string() << ")\n";
    return status;
  }
}

int CmdRun(int argc, char** argv) {
  Args args = SplitAtDoubleDash(argc, argv, 2);
  RecordArgs record;
  ReportOptions report;
  po::options_description desc("hwcov run [options] -- CMD [ARGS...]");
  desc.add_options()("help,h", "show this help")(
      "output,o", po::value(&record.output)->value_name("FILE"),
      "also write the trace to FILE (default: none: the trace is decoded while it is recorded, "
      "or counted in the emu backend's counting mode; --per-test in trace mode writes a "
      "temporary file)")(
      "emu-mode", po::value(&record.emu_mode)->value_name("MODE"),
      "emu backend: count (the QEMU plugin counts blocks and branches itself: no trace, the "
      "fastest) or trace (Intel PT, decoded as it is recorded); default count, trace with -o");
  AddRecordOptions(desc, record);
  AddReportOptions(desc, report);
  po::variables_map vm = Parse(args.options, desc);
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (!record.emu_mode.empty() && record.emu_mode != "count" && record.emu_mode != "trace")
    throw hwcov::Error("--emu-mode: '" + record.emu_mode + "' is not count or trace");
  report.request.scope.all_code = record.trace_everything;
  hwcov::pipeline::ValidateRequest(report.request);
  // Every output is checked before the run: a typo must not cost a long suite.
  hwcov::pipeline::CheckOutputs(report.request.outputs);
  if (!record.output.empty()) hwcov::pipeline::CheckOutputFile(record.output);
  const hwcov::collector::Backend backend =
      hwcov::collector::ChooseBackend(hwcov::collector::ParseBackend(record.backend)).backend;
  const bool needs_trace = !record.output.empty();
  if (!record.emu_mode.empty() && backend != hwcov::collector::Backend::kEmu)
    throw hwcov::Error("--emu-mode applies to the emu backend only, not " +
                       hwcov::collector::BackendName(backend));
  if (record.emu_mode == "count" && needs_trace)
    throw hwcov::Error("--emu-mode count writes no trace: it cannot go with -o");
  record.emu_count =
      backend == hwcov::collector::Backend::kEmu && record.emu_mode != "trace" && !needs_trace;
  // Options that shape the Intel PT say a trace is wanted: no silent default.
  if (record.emu_count)
    for (const char* option : {"psb-period", "no-return-compression", "tnt8-only"})
      if (vm.count(option) && !vm[option].defaulted())
        throw hwcov::Error(std::string("--") + option +
                           " shapes the trace, which the emu backend's counting mode does not "
                           "write: add --emu-mode trace");
  // Per-test decoding reads a file (the stream decoder decodes the run as one).
  if (!report.request.per_test || record.emu_count)
    return RunDecodingLive(args, record, report, vm);
  fs::path trace = record.output;
  const bool temporary = trace.empty();
  if (temporary) trace = hwcov::pipeline::TemporaryTracePath();
  struct Cleanup {
    fs::path path;
    bool active;
    ~Cleanup() {
      std::error_code ec;
      if (active) fs::remove(path, ec);
    }
  } cleanup{trace, temporary};
  hwcov::collector::RecordResult result = DoRecord(record, vm, args.command, trace);
  // The program's own failure comes first; hwcov's, or a failed gate, only
  // when it passed.
  try {
    const int gate = Report({trace}, report, std::cerr);
    return result.exit_status != 0 ? result.exit_status : gate;
  } catch (const hwcov::Error& e) {
    std::cerr << "hwcov: " << e.what() << "\n";
    const int status = result.exit_status != 0 ? result.exit_status : kErrorExit;
    if (temporary && result.stats.trace_bytes == 0) return status;  // nothing worth keeping
    // The recording may have taken an hour: it stays for `hwcov report`.
    if (cleanup.active) trace = hwcov::pipeline::KeepTemporaryTrace(trace);
    cleanup.active = false;
    std::cerr << "hwcov: the trace is kept in " << trace.string() << " (hwcov report "
              << trace.string() << ")\n";
    return status;
  }
}

int CmdReport(int argc, char** argv) {
  Args args = SplitAtDoubleDash(argc, argv, 2);
  ReportOptions report;
  std::vector<std::string> traces;
  po::options_description desc("hwcov report [options] TRACE...");
  desc.add_options()("help,h", "show this help")(
      "trace", po::value(&traces)->value_name("TRACE"),
      "perf.data trace(s), and hwcov JSON coverage files (*.json) to add");
  AddReportOptions(desc, report);
  AddReportScopeOption(desc, report);
  po::positional_options_description positional;
  positional.add("trace", -1);
  po::variables_map vm = Parse(args.options, desc, &positional);
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (traces.empty()) traces.push_back("perf.data");
  return Report({traces.begin(), traces.end()}, report, std::cout);
}

// Sums JSON coverage files into one, e.g. the shards of a parallel CI job.
int CmdMerge(int argc, char** argv) {
  Args args = SplitAtDoubleDash(argc, argv, 2);
  std::string output;
  std::vector<std::string> files;
  po::options_description desc("hwcov merge -o OUT IN.json...");
  desc.add_options()("help,h", "show this help")("output,o", po::value(&output)->value_name("FILE"),
                                                 "merged JSON coverage file")(
      "input", po::value(&files)->value_name("IN"), "JSON coverage files (hwcov --json)");
  po::positional_options_description positional;
  positional.add("input", -1);
  po::variables_map vm = Parse(args.options, desc, &positional);
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (output.empty()) throw hwcov::Error("merge: no output file given (-o FILE)");
  if (files.empty()) throw hwcov::Error("merge: no input files given");
  std::vector<hwcov::mapper::Coverage> inputs;
  for (const std::string& f : files) inputs.push_back(hwcov::report::ReadCoverageJson(f));
  // Per-test files merge with per-test files only: name the first odd one out.
  for (size_t i = 0; i < inputs.size(); ++i)
    for (size_t j = 0; j < inputs.size(); ++j)
      if (!inputs[i].tests.empty() && inputs[j].tests.empty() && !inputs[j].files.empty())
        throw hwcov::Error(files[j] + ": has no per-test coverage (written without --per-test), " +
                           files[i] + " has: they cannot be merged");
  hwcov::mapper::Coverage merged = hwcov::report::MergeCoverage(inputs);
  hwcov::report::MakeJsonWriter(output)->Write(merged, hwcov::report::Summarize(merged));
  return 0;
}

int CmdDecode(int argc, char** argv) {
  Args args = SplitAtDoubleDash(argc, argv, 2);
  std::string trace_path;
  po::options_description desc("hwcov decode --list-insns TRACE");
  desc.add_options()("help,h", "show this help")(
      "list-insns",
      "print each executed instruction's address (hex), in trace order, as "
      "libipt's instruction decoder reconstructs it")(
      "trace", po::value(&trace_path)->value_name("TRACE"), "perf.data trace");
  po::positional_options_description positional;
  positional.add("trace", 1);
  po::variables_map vm = Parse(args.options, desc, &positional);
  if (vm.count("help") || !vm.count("list-insns") || trace_path.empty()) {
    std::cout << desc;
    return vm.count("help") ? 0 : kErrorExit;
  }
  hwcov::trace::Trace trace = hwcov::trace::ReadPerfData(trace_path);
  hwcov::decoder::ListInstructions(
      trace, [](uint64_t ip) { std::printf("%llx\n", static_cast<unsigned long long>(ip)); },
      [](const hwcov::decoder::Gap& gap) {
        std::fprintf(stderr, "hwcov: gap at trace offset %llu: %s\n",
                     static_cast<unsigned long long>(gap.trace_offset), gap.detail.c_str());
      });
  return 0;
}

int CmdDump(int argc, char** argv) {
  Args args = SplitAtDoubleDash(argc, argv, 2);
  std::string trace_path;
  hwcov::pipeline::DumpOptions options;
  bool no_profile = false;
  po::options_description desc("hwcov dump [options] TRACE");
  desc.add_options()("help,h", "show this help")("no-profile", po::bool_switch(&no_profile),
                                                 "do not decode: header, queues and sideband")(
      "decoder",
      po::value<std::string>()->value_name("fast|libipt")->notifier([&](const std::string& v) {
        if (v != "fast" && v != "libipt")
          throw po::validation_error(po::validation_error::invalid_option_value, "decoder", v);
        options.libipt_only = v == "libipt";
      }),
      "the decoder of the profile section (default fast)")(
      "sysroot", po::value(&options.sysroot)->value_name("DIR"),
      "look for the traced binaries under DIR")(
      "trace", po::value(&trace_path)->value_name("TRACE"), "perf.data trace");
  po::positional_options_description positional;
  positional.add("trace", 1);
  po::variables_map vm = Parse(args.options, desc, &positional);
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (trace_path.empty()) throw hwcov::Error("dump: no trace given");
  options.profile = !no_profile;
  hwcov::pipeline::DumpTrace(trace_path, std::cout, options);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? kErrorExit : 0;
  }
  const std::string command = argv[1];
  if (command == "--version") {
    std::cout << hwcov::kVersionString << "\n";
    return 0;
  }
  static const std::map<std::string, int (*)(int, char**)> kCommands = {
      {"run", CmdRun},     {"record", CmdRecord}, {"report", CmdReport},
      {"merge", CmdMerge}, {"dump", CmdDump},     {"decode", CmdDecode}};
  auto it = kCommands.find(command);
  if (it == kCommands.end()) {
    std::cerr << "hwcov: unknown command '" << command << "'\n" << kUsage;
    return kErrorExit;
  }
  try {
    return it->second(argc, argv);
  } catch (const po::error& e) {
    std::cerr << "hwcov " << command << ": " << e.what() << "\n";
  } catch (const hwcov::Interrupted& e) {
    std::cerr << "hwcov: " << e.what() << "\n";
    return 128 + e.signal();
  } catch (const hwcov::Error& e) {
    std::cerr << "hwcov: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "hwcov: internal error: " << e.what() << "\n";
  }
  return kErrorExit;
}
