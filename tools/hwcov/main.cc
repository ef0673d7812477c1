// hwcov: code coverage from control-flow traces, without recompiling.
// A thin front end: parses options, calls the stage libraries, prints.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "hwcov/collector.h"
#include "hwcov/decoder.h"
#include "hwcov/mapper.h"
#include "hwcov/report.h"
#include "hwcov/trace.h"
#include "hwcov/version.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr int kErrorExit = 2;  // hwcov itself failed (the program's status passes through)
constexpr int kGateExit = 3;   // a --fail-under-* threshold was not met

const char kUsage[] =
    "usage: hwcov <command> [options]\n"
    "\n"
    "commands:\n"
    "  run     [options] -- CMD [ARGS...]   record CMD, then report its coverage\n"
    "  record  [options] -- CMD [ARGS...]   record CMD's control flow to a perf.data trace\n"
    "  report  [options] TRACE|JSON...      report the coverage in recorded traces\n"
    "  merge   -o OUT IN.json...            sum JSON coverage files into one\n"
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
  parser.options(desc);
  if (positional) parser.positional(*positional);
  po::store(parser.run(), vm);
  po::notify(vm);
  return vm;
}

bool UseColor() {
  const char* term = std::getenv("TERM");
  return isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR") && term && std::string(term) != "dumb";
}

std::string WithCommas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

struct ReportOptions {
  std::string lcov;
  std::string cobertura;
  std::string json;
  std::string html;
  std::string root;  // source root: report paths relative to it
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  hwcov::report::Thresholds thresholds;
  std::string test_name;
  std::string lcov_format = "1.x";
  std::string sysroot;                  // where the recorded binaries are (perf --symfs)
  std::vector<std::string> debug_dirs;  // roots of separate debug info
  unsigned jobs = 0;
  std::string decoder = "fast";
  bool quiet = false;
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
  desc.add_options()("lcov", po::value(&options.lcov)->value_name("FILE"),
                     "also write an lcov tracefile (genhtml, lcov --summary, Codecov...)")(
      "cobertura", po::value(&options.cobertura)->value_name("FILE"),
      "also write Cobertura XML (GitLab, Jenkins, Azure DevOps...)")(
      "json", po::value(&options.json)->value_name("FILE"),
      "also write hwcov's JSON coverage file (docs/json-format.md; input of merge and report)")(
      "html", po::value(&options.html)->value_name("DIR"),
      "also write a self-contained HTML report (index.html and annotated sources) in DIR")(
      "root", po::value(&options.root)->value_name("DIR"),
      "source root: report only sources below DIR and not under /usr; Cobertura file names "
      "are relative to DIR")("include", po::value(&options.include)->value_name("REGEX"),
                             "report only sources whose absolute path matches REGEX (repeatable)")(
      "exclude", po::value(&options.exclude)->value_name("REGEX"),
      "do not report sources whose absolute path matches REGEX (repeatable)")(
      "fail-under-line", po::value<double>()->value_name("PCT")->notifier([&](double v) {
        options.thresholds.line = v;
      }),
      "exit with status 3 if line coverage is below PCT percent")(
      "fail-under-function", po::value<double>()->value_name("PCT")->notifier([&](double v) {
        options.thresholds.function = v;
      }),
      "exit with status 3 if function coverage is below PCT percent")(
      "fail-under-branch", po::value<double>()->value_name("PCT")->notifier([&](double v) {
        options.thresholds.branch = v;
      }),
      "exit with status 3 if branch coverage is below PCT percent")(
      "test-name", po::value(&options.test_name)->value_name("NAME"),
      "test name for the lcov TN: record")(
      "lcov-format-version",
      po::value(&options.lcov_format)->value_name("1.x|2.0")->notifier([](const std::string& v) {
        if (v != "1.x" && v != "2.0")
          throw po::validation_error(po::validation_error::invalid_option_value,
                                     "lcov-format-version", v);
      }),
      "1.x (default): the tracefile lcov 1.x, Coveralls and Codecov read (lcov 2.x warns that it "
      "derives function end lines); 2.0: with function end lines, for lcov >= 2.0 only")(
      "jobs,j", po::value(&options.jobs)->value_name("N"),
      "decode with N threads (default: one per core)")(
      "decoder",
      po::value(&options.decoder)->value_name("fast|libipt")->notifier([](const std::string& v) {
        if (v != "fast" && v != "libipt")
          throw po::validation_error(po::validation_error::invalid_option_value, "decoder", v);
      }),
      "fast (default): hwcov's coverage decoder, handing what it does not model to libipt; "
      "libipt: libipt's block decoder for everything (the reference)")(
      "quiet,q", po::bool_switch(&options.quiet), "no progress line while decoding")(
      "sysroot", po::value(&options.sysroot)->value_name("DIR"),
      "look for the traced binaries under DIR, as perf's --symfs (binaries copied from the "
      "recording machine); the build-id cache ($PERF_BUILDID_DIR or ~/.debug) is searched too")(
      "debug-dir", po::value(&options.debug_dirs)->value_name("DIR"),
      "also look for separate debug info under DIR (DIR/.build-id/xx/yyyy.debug, or the "
      ".gnu_debuglink name), before /usr/lib/debug (repeatable)");
}

hwcov::decoder::ExecutionProfile Decode(const hwcov::trace::Trace& trace,
                                        const ReportOptions& options) {
  hwcov::decoder::DecodeOptions decode;
  decode.sysroot = options.sysroot;
  decode.jobs = options.jobs;
  decode.libipt_only = options.decoder == "libipt";
  ProgressBar progress(!options.quiet);
  decode.progress = [&](uint64_t done, uint64_t total) { progress.Update(done, total); };
  return hwcov::decoder::Decode(trace, decode);
}

fs::path RootDir(const ReportOptions& options) {
  return options.root.empty() ? fs::path() : fs::absolute(options.root).lexically_normal();
}

bool IsCoverageJson(const fs::path& path) { return path.extension() == ".json"; }

hwcov::report::FilterOptions Filters(const ReportOptions& options) {
  return {RootDir(options), options.include, options.exclude, true};
}

// Bad thresholds and regexes fail before a long recording or decode: an empty
// coverage passes every valid gate and filter.
void ValidateReportOptions(const ReportOptions& options) {
  hwcov::report::Filter({}, Filters(options));
  hwcov::report::CheckThresholds({}, options.thresholds);
}

int Report(const std::vector<fs::path>& traces, const ReportOptions& options) {
  ValidateReportOptions(options);
  // Several traces and JSON coverage files merge by summing their coverage.
  std::vector<hwcov::mapper::Coverage> inputs;
  for (const fs::path& path : traces) {
    if (IsCoverageJson(path)) {
      inputs.push_back(hwcov::report::ReadCoverageJson(path));
      continue;
    }
    hwcov::trace::Trace trace = hwcov::trace::ReadPerfData(path);
    if (!trace.pt)
      throw hwcov::Error(path.string() +
                         ": the trace has no Intel PT data (no AUXTRACE_INFO record)");
    for (const std::string& w : trace.warnings)
      std::cerr << "hwcov: " << path.string() << ": " << w << "\n";
    inputs.push_back(hwcov::mapper::MapProfile(Decode(trace, options),
                                               hwcov::mapper::MapOptions{options.debug_dirs}));
  }
  hwcov::mapper::Coverage merged =
      hwcov::report::Filter(hwcov::report::MergeCoverage(inputs), Filters(options));
  hwcov::report::Summary summary = hwcov::report::Summarize(merged);
  if (!options.lcov.empty())
    hwcov::report::MakeLcovWriter(options.lcov, options.test_name,
                                  options.lcov_format == "2.0" ? hwcov::report::LcovFormat::kV2
                                                               : hwcov::report::LcovFormat::kV1)
        ->Write(merged, summary);
  if (!options.json.empty()) hwcov::report::MakeJsonWriter(options.json)->Write(merged, summary);
  if (!options.html.empty())
    hwcov::report::MakeHtmlWriter(options.html, RootDir(options))->Write(merged, summary);
  if (!options.cobertura.empty())
    hwcov::report::MakeCoberturaWriter(options.cobertura, RootDir(options))->Write(merged, summary);
  hwcov::report::MakeTextWriter(std::cout, UseColor())->Write(merged, summary);
  // After the reports are written: a failed gate still leaves them to look at.
  if (auto reason = hwcov::report::CheckThresholds(summary, options.thresholds)) {
    std::cout.flush();
    std::cerr << "hwcov: " << *reason << "\n";
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
  uint64_t psb_period = 4096;
  std::string buffer_size;
  int pid = 0;
  double duration = 0;
  std::vector<std::string> filters;
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
      "no code filter: trace libc, ld.so and every other library too")(
      "no-inherit", po::bool_switch(&args.no_inherit),
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
      "(default 4096)")("step-log", po::value(&args.step_log)->value_name("FILE"),
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
std::string Stats(const hwcov::collector::RecordStats& s, const fs::path& output) {
  char buf[512];
  std::string line = "recorded " + WithCommas(s.instructions) + " instructions";
  if (s.steps) {
    std::snprintf(
        buf, sizeof buf, " (%s single steps, %s steps/s)", WithCommas(s.steps).c_str(),
        WithCommas(static_cast<uint64_t>(s.seconds > 0 ? s.steps / s.seconds : 0)).c_str());
    line += buf;
  }
  std::snprintf(
      buf, sizeof buf, " of %llu process(es), %llu thread(s) in %.2f s; %s bytes of Intel PT in %s",
      static_cast<unsigned long long>(s.processes), static_cast<unsigned long long>(s.threads),
      s.seconds, WithCommas(s.trace_bytes).c_str(), output.string().c_str());
  line += buf;
  if (s.baseline_seconds > 0) {
    std::snprintf(buf, sizeof buf, "; %.0fx slower than the untraced run (%.3f s)",
                  s.seconds / s.baseline_seconds, s.baseline_seconds);
    line += buf;
  }
  return line;
}

hwcov::collector::RecordResult DoRecord(const RecordArgs& args,
                                        const std::vector<std::string>& command,
                                        const fs::path& output) {
  if (command.empty() && args.pid == 0) throw hwcov::Error("no command given: put it after '--'");
  hwcov::collector::RecordOptions options;
  options.command = command;
  options.output = output;
  options.backend = hwcov::collector::ParseBackend(args.backend);
  options.log = &std::cerr;
  options.step_log = args.step_log;
  options.only_paths = args.only;
  options.only_exe = args.only_exe;
  options.trace_everything = args.trace_everything;
  options.inherit = !args.no_inherit;
  options.measure_baseline = args.baseline;
  options.psb_period = args.psb_period;
  if (!args.buffer_size.empty()) options.buffer_size = ParseSize(args.buffer_size);
  options.attach_pid = args.pid;
  options.duration = args.duration;
  options.filters = args.filters;
  hwcov::collector::RecordResult result = hwcov::collector::Record(options);
  std::cerr << "hwcov: " << Stats(result.stats, output) << "\n";
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
  return DoRecord(record, args.command, record.output).exit_status;
}

int CmdRun(int argc, char** argv) {
  Args args = SplitAtDoubleDash(argc, argv, 2);
  RecordArgs record;
  ReportOptions report;
  po::options_description desc("hwcov run [options] -- CMD [ARGS...]");
  desc.add_options()("help,h", "show this help")(
      "output,o", po::value(&record.output)->value_name("FILE"),
      "keep the trace in FILE (default: a temporary file, removed)");
  AddRecordOptions(desc, record);
  AddReportOptions(desc, report);
  po::variables_map vm = Parse(args.options, desc);
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  ValidateReportOptions(report);
  fs::path trace = record.output;
  const bool temporary = trace.empty();
  if (temporary)
    trace = fs::temp_directory_path() / ("hwcov-" + std::to_string(getpid()) + ".data");
  struct Cleanup {
    fs::path path;
    bool active;
    ~Cleanup() {
      std::error_code ec;
      if (active) fs::remove(path, ec);
    }
  } cleanup{trace, temporary};
  hwcov::collector::RecordResult result = DoRecord(record, args.command, trace);
  const int gate = Report({trace}, report);
  // The program's own failure comes first; a failed gate only when it passed.
  return result.exit_status != 0 ? result.exit_status : gate;
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
  po::positional_options_description positional;
  positional.add("trace", -1);
  po::variables_map vm = Parse(args.options, desc, &positional);
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (traces.empty()) traces.push_back("perf.data");
  return Report({traces.begin(), traces.end()}, report);
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
  static const std::map<std::string, int (*)(int, char**)> kCommands = {{"run", CmdRun},
                                                                        {"record", CmdRecord},
                                                                        {"report", CmdReport},
                                                                        {"merge", CmdMerge},
                                                                        {"decode", CmdDecode}};
  auto it = kCommands.find(command);
  if (it == kCommands.end()) {
    std::cerr << "hwcov: unknown command '" << command << "'\n" << kUsage;
    return kErrorExit;
  }
  try {
    return it->second(argc, argv);
  } catch (const po::error& e) {
    std::cerr << "hwcov " << command << ": " << e.what() << "\n";
  } catch (const hwcov::Error& e) {
    std::cerr << "hwcov: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "hwcov: internal error: " << e.what() << "\n";
  }
  return kErrorExit;
}
