// End to end: hwcov's coverage of the test programs (tests/programs) against
// gcov's, line by line and function by function.
//
// For each case, in a temporary directory:
//   1. the --coverage build runs with GCOV_PREFIX so that its .gcda files land
//      in the directory; the .gcno files are copied beside them and
//      `gcov -t -b` reports per-line counts and per-function call counts;
//   2. `hwcov run --backend soft --lcov out.info` runs the plain -O0 build
//      (use_geometry with --only for itself and libgeometry.so: by default
//      hwcov traces the executable only);
//   3. every line that both consider instrumentable (gcov: a count or #####;
//      lcov: DA) is compared as executed (count > 0) or not. At least 99% must
//      agree, and every disagreement must be explained by a rule below; an
//      unexplained one fails. Functions (gcov "function X called N", lcov
//      FNDA) must agree 100%, and every function gcov knows must be in the
//      lcov file (matched by linkage name, else by file and line).
// The program's exit status, stdout and stderr must pass through hwcov run.
// Each case prints a table (lines compared and agreeing, every disagreement
// with file:line, both counts and its reason, the lines only one tool
// instruments, by kind, and the functions).
//
// Rules that explain a disagreement (see ClassifyDisagreement()):
//   brace   the line holds only '{' or '}': no statement of the programmer's,
//           only prologue or epilogue code, which gcov and the DWARF line
//           table attribute differently (gcc 12's gcov mostly does not count
//           such lines, so they are rarely compared and this has not fired
//           yet; it keeps the test meaningful with other gcov versions).
// An unexplained disagreement is diagnosed where possible, without being
// excused: "header rows counted under the including file" when the lcov file
// lacks a header that gcov reports and that header has DWARF rows (listed by
// objdump, not by hwcov's reader) on the same line number. That was hwcov bug
// B1: with DWARF 5 line tables (gcc 11+) and libdwarf 20210528, rows using the
// line program's initial file register (file 1, here geometry.h) came back
// from dwarf_linesrc() as file 0, the compilation unit's own source.
//
// Counts are printed for information only: gcov sums a line's count over
// every function with code on it (e.g. two template instances), hwcov reports
// the count of the line's most executed instruction.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace fs = std::filesystem;
using hwcov::testing::CommandResult;
using hwcov::testing::ReadFile;
using hwcov::testing::RunCommand;
using hwcov::testing::SplitLines;
using hwcov::testing::TempDir;

#ifndef HWCOV_GCOV
#define HWCOV_GCOV "gcov"
#endif
#ifndef HWCOV_OBJDUMP
#define HWCOV_OBJDUMP "objdump"
#endif

namespace {

const fs::path kPrograms = fs::path(HWCOV_TEST_PROGRAMS_DIR).lexically_normal();
const fs::path kCoveragePrograms = kPrograms / "coverage";
const std::string kSources =
    (fs::path(HWCOV_SOURCE_DIR) / "tests" / "programs").lexically_normal().string() + "/";

constexpr double kRequiredAgreement = 0.99;

bool IsProgramSource(const std::string& path) { return path.rfind(kSources, 0) == 0; }

std::string Base(const std::string& path) { return fs::path(path).filename().string(); }

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::string Percent(size_t part, size_t whole) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << (whole ? 100.0 * part / whole : 100.0) << "%";
  return s.str();
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// ---------------------------------------------------------------- the cases

struct Case {
  std::string name;  // gtest parameter name
  std::string program;
  std::vector<std::string> args;
  int exit_status;
  std::vector<std::string> hwcov_options = {};  // for hwcov run, before "--"
};

// hwcov traces only the executable unless told otherwise (--only).
const std::vector<std::string> kWithLibgeometry = {"--only", "use_geometry", "--only",
                                                   "libgeometry.so"};

void PrintTo(const Case& c, std::ostream* os) {
  *os << "hwcov run " << Join(c.hwcov_options) << " -- " << c.program << " " << Join(c.args);
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"loops", "loops", {"12"}, 0},
      {"loops_zero_status3", "loops", {"0", "3"}, 3},
      {"loops_negative", "loops", {"-1"}, 2},
      {"recursion", "recursion", {"12"}, 0},
      {"recursion_small", "recursion", {"1"}, 0},
      {"recursion_too_big", "recursion", {"25"}, 2},  // exit() from a callee
      {"switch", "switch", {"200", "404", "418", "999", "abc"}, 1},
      {"switch_no_args", "switch", {}, 0},
      {"funcptr", "funcptr", {"mul", "desc"}, 0},
      {"funcptr_div", "funcptr", {"div"}, 0},
      {"funcptr_unknown", "funcptr", {"pow"}, 2},
      {"funcptr_all_code", "funcptr", {"max"}, 0, {"--all-code"}},  // libc traced too
      {"shapes", "shapes", {"big"}, 0},
      {"shapes_triangle", "shapes", {"triangle"}, 0},
      {"use_geometry", "use_geometry", {"concave", "full"}, 0, kWithLibgeometry},
      {"use_geometry_default", "use_geometry", {}, 0, kWithLibgeometry},
      // The soft tracer on the shapes of real test suites.
      {"threads", "threads", {}, 0},
      {"forker", "forker", {"12"}, 0},
      {"dl", "dl", {}, 0, {"--only", "dl", "--only", "libplugin_*.so"}},
      {"signals", "sig", {}, 0},
      {"exceptions", "exc", {}, 0},
  };
  return cases;
}

// ------------------------------------------------------------------- gcov

using LineKey = std::pair<std::string, uint32_t>;  // (absolute source path, line)

struct GcovFunction {
  std::string file;
  uint32_t line = 0;
  uint64_t count = 0;
};

struct GcovData {
  std::map<LineKey, uint64_t> lines;              // instrumentable lines, summed over objects
  std::map<std::string, GcovFunction> functions;  // by (mangled) name, summed over objects
  std::set<std::string> files;
};

// Parses `gcov -t -b` output (the .gcov text format on stdout). A line with
// code of several functions (template instances, constructors) comes as a
// summary line "  N*:  L:src" followed by per-function sections between
// "------------------" lines; the sections repeat the counts, so only their
// "function" lines are taken.
void ParseGcov(const std::string& text, GcovData& out) {
  std::string file;
  bool in_section = false, after_separator = false;
  std::vector<std::pair<std::string, uint64_t>> pending;  // functions waiting for their line
  for (const std::string& raw : SplitLines(text)) {
    if (StartsWith(raw, "------------------")) {
      after_separator = true;
      in_section = false;
      continue;
    }
    if (after_separator) {
      after_separator = false;
      if (!raw.empty() && raw.back() == ':' && raw.find_first_of(" \t") == std::string::npos) {
        in_section = true;  // "_ZN6shapes5ShapeD2Ev:"
        continue;
      }
    }
    if (StartsWith(raw, "function ")) {
      std::istringstream s(raw);
      std::string word, name, called;
      uint64_t count = 0;
      s >> word >> name >> called >> count;
      if (called == "called") pending.push_back({name, count});
      continue;
    }
    const size_t c1 = raw.find(':');
    if (c1 == std::string::npos) continue;
    const size_t c2 = raw.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    const std::string count_field = Trim(raw.substr(0, c1));
    const std::string line_field = Trim(raw.substr(c1 + 1, c2 - c1 - 1));
    if (count_field.empty() || line_field.empty() ||
        line_field.find_first_not_of("0123456789") != std::string::npos)
      continue;  // "branch  0 taken 75%", "call    0 returned 100%"...
    const uint32_t line = static_cast<uint32_t>(std::stoul(line_field));
    const std::string source = raw.substr(c2 + 1);
    if (line == 0) {
      if (StartsWith(source, "Source:")) {
        file = fs::path(source.substr(7)).lexically_normal().string();
        out.files.insert(file);
      }
      continue;
    }
    for (auto& [name, count] : pending) {
      GcovFunction& f = out.functions[name];
      f.file = file;
      f.line = line;
      f.count += count;
    }
    pending.clear();
    if (in_section || count_field == "-") continue;
    std::string digits = count_field;
    if (!digits.empty() && digits.back() == '*') digits.pop_back();  // some block not executed
    uint64_t count = 0;
    if (digits != "#####" && digits != "=====") count = std::stoull(digits);
    out.lines[{file, line}] += count;
  }
}

// ------------------------------------------------------------------- lcov

struct LcovFunction {
  std::string file;
  uint32_t line = 0;
  std::string name;
  uint64_t count = 0;
};

struct LcovData {
  std::map<LineKey, uint64_t> lines;
  std::vector<LcovFunction> functions;
  std::set<std::string> files;
};

LcovData ParseLcov(const std::string& text) {
  LcovData out;
  std::string file;
  std::vector<LcovFunction> record;                     // this record's FN lines
  std::map<std::string, std::deque<size_t>> unmatched;  // name -> FN indexes waiting for FNDA
  auto flush = [&] {
    for (auto& f : record) out.functions.push_back(f);
    record.clear();
    unmatched.clear();
  };
  for (const std::string& raw : SplitLines(text)) {
    const std::string line = Trim(raw);
    if (StartsWith(line, "SF:")) {
      file = fs::path(line.substr(3)).lexically_normal().string();
      out.files.insert(file);
    } else if (StartsWith(line, "FN:")) {
      const size_t comma = line.find(',');
      if (comma == std::string::npos) continue;
      LcovFunction f;
      f.file = file;
      f.line = static_cast<uint32_t>(std::stoul(line.substr(3, comma - 3)));
      f.name = line.substr(comma + 1);
      unmatched[f.name].push_back(record.size());
      record.push_back(f);
    } else if (StartsWith(line, "FNDA:")) {
      const size_t comma = line.find(',');
      if (comma == std::string::npos) continue;
      const std::string name = line.substr(comma + 1);
      auto& queue = unmatched[name];
      if (queue.empty()) continue;
      record[queue.front()].count = std::stoull(line.substr(5, comma - 5));
      queue.pop_front();
    } else if (StartsWith(line, "DA:")) {
      const size_t comma = line.find(',');
      if (comma == std::string::npos) continue;
      const uint32_t n = static_cast<uint32_t>(std::stoul(line.substr(3, comma - 3)));
      size_t end = line.find(',', comma + 1);  // optional checksum
      out.lines[{file, n}] =
          std::stoull(line.substr(comma + 1, end == std::string::npos ? end : end - comma - 1));
    } else if (line == "end_of_record") {
      flush();
    }
  }
  flush();
  return out;
}

// ---------------------------------------------------- DWARF, independently

// (file base name, line) of every row in the binaries' DWARF line tables, as
// binutils' objdump decodes them: an account of the line table that does not
// go through hwcov's reader.
std::set<std::pair<std::string, uint32_t>> DwarfRows(const std::vector<fs::path>& binaries) {
  std::set<std::pair<std::string, uint32_t>> rows;
  for (const fs::path& binary : binaries) {
    CommandResult r = RunCommand({HWCOV_OBJDUMP, "--dwarf=decodedline", binary.string()});
    if (r.exit_code != 0) continue;
    for (const std::string& raw : SplitLines(r.out)) {
      std::istringstream s(raw);
      std::string name, line, address;
      if (!(s >> name >> line >> address)) continue;
      if (line.find_first_not_of("0123456789") != std::string::npos || !StartsWith(address, "0x"))
        continue;
      rows.insert({Base(name), static_cast<uint32_t>(std::stoul(line))});
    }
  }
  return rows;
}

// ----------------------------------------------------------- the comparison

const std::vector<std::string>& SourceLines(const std::string& path) {
  static std::map<std::string, std::vector<std::string>> cache;
  auto it = cache.find(path);
  if (it == cache.end()) it = cache.emplace(path, SplitLines(ReadFile(path))).first;
  return it->second;
}

std::string SourceText(const LineKey& key) {
  const std::vector<std::string>& lines = SourceLines(key.first);
  return key.second >= 1 && key.second <= lines.size() ? Trim(lines[key.second - 1]) : "";
}

struct Context {
  const GcovData& gcov;
  const LcovData& lcov;
  const std::set<std::pair<std::string, uint32_t>>& dwarf_rows;
};

// B1's precondition: |key|'s file includes a header that gcov reports and
// hwcov does not, and that header has DWARF rows on the same line number.
// Returns the header, or "".
std::string HeaderMergedInto(const LineKey& key, const Context& c) {
  for (const std::string& header : c.gcov.files) {
    if (header == key.first || !IsProgramSource(header) || c.lcov.files.count(header)) continue;
    if (c.dwarf_rows.count({Base(header), key.second})) return header;
  }
  return "";
}

// Why gcov and hwcov may disagree on |key|'s executed state, or "" if no rule applies.
std::string ClassifyDisagreement(const LineKey& key) {
  const std::string text = SourceText(key);
  if (text == "{" || text == "}" || text == "};")
    return "brace: only a brace on the line; prologue/epilogue code is placed differently by "
           "gcov and the DWARF line table";
  return "";
}

struct LineResult {
  size_t compared = 0, agreed = 0, counts_equal = 0;
  std::vector<std::string> table;              // one row per disagreement
  std::vector<std::string> count_differences;  // informational
  std::vector<std::string> unexplained;
  std::vector<LineKey> gcov_only, hwcov_only;  // instrumentable for one side only
};

std::string Where(const LineKey& key) { return Base(key.first) + ":" + std::to_string(key.second); }

// What kind of line only one of the tools considers instrumentable, for the
// table (information only: such lines are not compared).
std::string OneSidedKind(const LineKey& key, const std::set<std::string>& hwcov_files) {
  const std::string text = SourceText(key);
  if (!hwcov_files.count(key.first)) return "in a file hwcov does not report";
  if (text.empty() || StartsWith(text, "/*") || StartsWith(text, "//") || StartsWith(text, "*"))
    return "blank or comment";
  if (text == "{" || text == "}" || text == "};") return "brace-only";
  if (StartsWith(text, "case ") || StartsWith(text, "default:")) return "case label";
  if (text == "break;" || text == "continue;") return "break/continue";
  if (StartsWith(text, "class ") || StartsWith(text, "struct "))
    return "class head (compiler-generated members)";
  return "other";
}

std::string OneSidedSummary(const std::vector<LineKey>& keys,
                            const std::set<std::string>& hwcov_files) {
  std::map<std::string, std::vector<std::string>> by_kind;
  for (const auto& key : keys) by_kind[OneSidedKind(key, hwcov_files)].push_back(Where(key));
  std::string out;
  for (const auto& [kind, lines] : by_kind)
    out += (out.empty() ? "" : "; ") + std::to_string(lines.size()) + " " + kind + " (lines " +
           Join(lines) + ")";
  return out;
}

std::string Row(const LineKey& key, uint64_t gcov, uint64_t hwcov, const std::string& reason) {
  std::ostringstream s;
  s << "    " << std::left << std::setw(22) << Where(key) << std::right << std::setw(8) << gcov
    << std::setw(8) << hwcov << "  " << reason;
  return s.str();
}

LineResult CompareLines(const Context& c) {
  LineResult r;
  for (const auto& [key, gcov_count] : c.gcov.lines) {
    if (!IsProgramSource(key.first)) continue;
    auto it = c.lcov.lines.find(key);
    if (it == c.lcov.lines.end()) {
      r.gcov_only.push_back(key);
      continue;
    }
    const uint64_t hwcov_count = it->second;
    const bool agree = (gcov_count > 0) == (hwcov_count > 0);
    ++r.compared;
    r.agreed += agree;
    if (gcov_count == hwcov_count)
      ++r.counts_equal;
    else
      r.count_differences.push_back(Row(key, gcov_count, hwcov_count, SourceText(key)));
    if (agree) continue;
    std::string reason = ClassifyDisagreement(key);
    if (reason.empty()) {
      const std::string header = HeaderMergedInto(key, c);
      reason = "UNEXPLAINED";
      if (!header.empty())
        reason += " (looks like bug B1: " + Base(header) + ":" + std::to_string(key.second) +
                  " has DWARF rows, the lcov file has no " + Base(header) + ")";
      r.unexplained.push_back(Where(key) + " (" + SourceText(key) + ")");
    }
    r.table.push_back(Row(key, gcov_count, hwcov_count, reason));
  }
  for (const auto& [key, count] : c.lcov.lines)
    if (IsProgramSource(key.first) && !c.gcov.lines.count(key)) r.hwcov_only.push_back(key);
  return r;
}

struct FunctionResult {
  size_t compared = 0, agreed = 0, by_location = 0;
  std::vector<std::string> table;  // disagreements and notes
  std::vector<std::string> disagreements;
  std::vector<std::string> gcov_only, hwcov_only;
};

FunctionResult CompareFunctions(const Context& c) {
  FunctionResult r;
  struct Hw {
    uint64_t count = 0;
    std::set<std::string> files;
    std::set<uint32_t> lines;
    bool used = false;
  };
  std::map<std::string, Hw> hw_by_name;
  for (const LcovFunction& f : c.lcov.functions) {
    if (!IsProgramSource(f.file)) continue;
    Hw& h = hw_by_name[f.name];
    h.count += f.count;
    h.files.insert(Base(f.file));
    h.lines.insert(f.line);
  }
  auto judge = [&](const std::string& what, uint64_t gcov_count, uint64_t hwcov_count,
                   const std::string& note) {
    ++r.compared;
    const bool agree = (gcov_count > 0) == (hwcov_count > 0);
    r.agreed += agree;
    if (!agree) r.disagreements.push_back(what);
    if (!agree || !note.empty()) {
      std::ostringstream s;
      s << "    " << what << ": gcov " << gcov_count << ", hwcov " << hwcov_count
        << (agree ? "" : "  DISAGREE") << (note.empty() ? "" : "  (" + note + ")");
      r.table.push_back(s.str());
    }
  };
  // 1. By name (lcov FN names are linkage names, as gcov's are).
  std::map<LineKey, std::pair<std::vector<std::string>, uint64_t>> gcov_left;  // by location
  for (const auto& [name, g] : c.gcov.functions) {
    if (!IsProgramSource(g.file)) continue;
    auto it = hw_by_name.find(name);
    if (it == hw_by_name.end()) {
      auto& slot = gcov_left[{g.file, g.line}];
      slot.first.push_back(name);
      slot.second += g.count;
      continue;
    }
    it->second.used = true;
    std::string note;
    if (it->second.files != std::set<std::string>{Base(g.file)}) {
      note = "gcov has it in " + Base(g.file) + ", hwcov in";
      for (const auto& f : it->second.files) note += " " + f;
    }
    judge(name, g.count, it->second.count, note);
  }
  // 2. By location, for functions DWARF gives no linkage name (gcc omits it
  //    for lambdas and templates instantiated with a lambda): hwcov then
  //    names them by DW_AT_name, e.g. "operator()".
  std::map<LineKey, std::pair<std::vector<std::string>, uint64_t>> hw_left;
  for (const LcovFunction& f : c.lcov.functions) {
    if (!IsProgramSource(f.file) || hw_by_name[f.name].used) continue;
    auto& slot = hw_left[{f.file, f.line}];
    slot.first.push_back(f.name);
    slot.second += f.count;
  }
  for (const auto& [key, g] : gcov_left) {
    auto it = hw_left.find(key);
    if (it == hw_left.end()) {
      for (const auto& name : g.first) r.gcov_only.push_back(name + " at " + Where(key));
      continue;
    }
    ++r.by_location;
    judge(Join(g.first) + " at " + Where(key), g.second, it->second.second,
          "matched by location: hwcov names it '" + Join(it->second.first) + "'");
    hw_left.erase(it);
  }
  for (const auto& [key, h] : hw_left)
    for (const auto& name : h.first) r.hwcov_only.push_back(name + " at " + Where(key));
  return r;
}

// Runs the coverage build of |c| with its .gcda going to |dir|, then gcov.
GcovData RunGcov(const Case& c, const fs::path& dir, CommandResult& run) {
  const fs::path rel = kCoveragePrograms.relative_path();
  const auto strip = std::distance(rel.begin(), rel.end());
  std::vector<std::string> argv = {"env", "GCOV_PREFIX=" + dir.string(),
                                   "GCOV_PREFIX_STRIP=" + std::to_string(strip),
                                   (kCoveragePrograms / c.program).string()};
  argv.insert(argv.end(), c.args.begin(), c.args.end());
  run = RunCommand(argv, dir);
  GcovData data;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".gcda") continue;
    const std::string stem = entry.path().stem().string();
    fs::copy_file(kCoveragePrograms / (stem + ".gcno"), dir / (stem + ".gcno"),
                  fs::copy_options::overwrite_existing);
    CommandResult gcov = RunCommand({HWCOV_GCOV, "-t", "-b", stem + ".gcda"}, dir);
    EXPECT_EQ(gcov.exit_code, 0) << "gcov " << stem << ".gcda failed:\n" << gcov.err;
    ParseGcov(gcov.out, data);
  }
  return data;
}

// The program's stderr in hwcov run's: without hwcov's "hwcov: ..." lines
// and the summary, which comes last (from its "Filename" header on).
std::vector<std::string> WithoutHwcovLines(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& line : SplitLines(text)) {
    if (StartsWith(line, "Filename ")) break;
    if (!StartsWith(line, "hwcov")) out.push_back(line);
  }
  return out;
}

class AgreementTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    // objdump is optional: it only helps diagnose disagreements.
    if (RunCommand({HWCOV_GCOV, "--version"}).exit_code != 0)
      GTEST_SKIP() << HWCOV_GCOV << " is not available";
  }
};

TEST_P(AgreementTest, LinesAndFunctionsMatchGcov) {
  const Case& c = GetParam();
  TempDir dir("gcov-" + c.name);
  const fs::path program = kPrograms / c.program;
  ASSERT_TRUE(fs::exists(program))
      << program << " is missing: build the hwcov_test_programs target";

  // The program on its own, for what hwcov run must pass through.
  std::vector<std::string> argv = {program.string()};
  argv.insert(argv.end(), c.args.begin(), c.args.end());
  const CommandResult plain = RunCommand(argv, dir.path());
  ASSERT_EQ(plain.exit_code, c.exit_status) << "the program itself: " << plain.err;

  // gcov.
  CommandResult coverage_run;
  const GcovData gcov = RunGcov(c, dir.path(), coverage_run);
  ASSERT_EQ(coverage_run.exit_code, c.exit_status) << coverage_run.err;
  EXPECT_EQ(coverage_run.out, plain.out) << "the --coverage build behaves differently";
  ASSERT_FALSE(gcov.lines.empty()) << "gcov reported nothing; files in " << dir.path() << ":\n"
                                   << RunCommand({"ls", "-la", dir.path().string()}).out;

  // hwcov.
  const fs::path lcov_path = dir.path() / "out.info";
  std::vector<std::string> hwcov_argv = {HWCOV_BINARY, "run",    "--backend",
                                         "soft",       "--lcov", lcov_path.string()};
  hwcov_argv.insert(hwcov_argv.end(), c.hwcov_options.begin(), c.hwcov_options.end());
  hwcov_argv.push_back("--");
  hwcov_argv.insert(hwcov_argv.end(), argv.begin(), argv.end());
  const CommandResult hw = RunCommand(hwcov_argv, dir.path());
  ASSERT_TRUE(fs::exists(lcov_path))
      << "hwcov run wrote no lcov file (exit " << hw.exit_code << "):\n"
      << hw.err;
  EXPECT_EQ(hw.exit_code, c.exit_status) << "the exit status did not pass through hwcov run\n"
                                         << hw.err;
  EXPECT_TRUE(StartsWith(hw.out, plain.out))
      << "the program's stdout did not pass through first:\n--- program:\n"
      << plain.out << "--- hwcov run:\n"
      << hw.out;
  EXPECT_EQ(WithoutHwcovLines(hw.err), SplitLines(plain.err))
      << "stderr other than hwcov's own 'hwcov...' lines should be the program's:\n"
      << hw.err;
  const LcovData lcov = ParseLcov(ReadFile(lcov_path));

  std::vector<fs::path> binaries = {program};
  for (const auto& entry : fs::directory_iterator(kPrograms))
    if (entry.path().extension() == ".so") binaries.push_back(entry.path());
  const auto rows = DwarfRows(binaries);
  const Context context{gcov, lcov, rows};
  const LineResult lines = CompareLines(context);
  const FunctionResult functions = CompareFunctions(context);

  // The table.
  std::ostringstream t;
  t << "== hwcov run" << (c.hwcov_options.empty() ? "" : " " + Join(c.hwcov_options)) << " -- "
    << c.program << (c.args.empty() ? "" : " " + Join(c.args)) << " (exit status " << hw.exit_code
    << ")\n";
  t << "  lines: " << lines.compared << " compared, executed state agrees on " << lines.agreed
    << " (" << Percent(lines.agreed, lines.compared) << ")\n";
  if (!lines.gcov_only.empty())
    t << "  instrumentable for gcov only: " << OneSidedSummary(lines.gcov_only, lcov.files) << "\n";
  if (!lines.hwcov_only.empty())
    t << "  instrumentable for hwcov only: " << OneSidedSummary(lines.hwcov_only, lcov.files)
      << "\n";
  if (!lines.table.empty()) {
    t << "  disagreements:\n    " << std::left << std::setw(22) << "file:line" << std::right
      << std::setw(8) << "gcov" << std::setw(8) << "hwcov"
      << "  reason\n";
    for (const auto& row : lines.table) t << row << "\n";
  }
  t << "  counts equal on " << lines.counts_equal << " of " << lines.compared
    << " lines (information only)\n";
  for (const auto& row : lines.count_differences) t << row << "\n";
  t << "  functions: " << functions.compared << " compared (" << functions.by_location
    << " matched by location), executed state agrees on " << functions.agreed << " ("
    << Percent(functions.agreed, functions.compared) << ")\n";
  for (const auto& row : functions.table) t << row << "\n";
  if (!functions.hwcov_only.empty()) {
    t << "    hwcov only (compiler-generated, gcov does not instrument them):";
    for (const auto& f : functions.hwcov_only) t << " " << f;
    t << "\n";
  }
  std::cout << t.str() << std::flush;

  RecordProperty("lines_compared", static_cast<int>(lines.compared));
  RecordProperty("lines_agreed", static_cast<int>(lines.agreed));
  RecordProperty("functions_compared", static_cast<int>(functions.compared));
  RecordProperty("functions_agreed", static_cast<int>(functions.agreed));

  // The requirements.
  EXPECT_GT(lines.compared, 20u) << "too few lines in common: is the lcov file's SF right?";
  EXPECT_GE(static_cast<double>(lines.agreed),
            kRequiredAgreement * static_cast<double>(lines.compared))
      << "line agreement " << Percent(lines.agreed, lines.compared) << " is below 99%";
  EXPECT_TRUE(lines.unexplained.empty())
      << "unexplained disagreements: " << Join(lines.unexplained);
  EXPECT_TRUE(functions.disagreements.empty())
      << "functions executed for one tool only: " << Join(functions.disagreements);
  EXPECT_GT(functions.compared, 2u);
  EXPECT_TRUE(functions.gcov_only.empty())
      << "functions gcov knows that the lcov file lacks: " << Join(functions.gcov_only);
}

std::string CaseName(const ::testing::TestParamInfo<Case>& param) { return param.param.name; }

INSTANTIATE_TEST_SUITE_P(gcov, AgreementTest, ::testing::ValuesIn(Cases()), CaseName);

// --------------------------------------------------------------- exit status

class ExitStatusTest : public ::testing::TestWithParam<int> {};

TEST_P(ExitStatusTest, PassesThroughRunAndRecord) {
  const int status = GetParam();
  TempDir dir("gcov-exit-" + std::to_string(status));
  const std::string program = (kPrograms / "loops").string();
  const std::string trace = (dir.path() / "trace.data").string();
  CommandResult run = RunCommand({HWCOV_BINARY, "run", "--backend", "soft", "-o", trace, "--",
                                  program, "2", std::to_string(status)},
                                 dir.path());
  EXPECT_EQ(run.exit_code, status) << run.err;
  EXPECT_NE(run.out.find("sum_for(2) = 3"), std::string::npos) << run.out;
  CommandResult record = RunCommand({HWCOV_BINARY, "record", "--backend", "soft", "-o", trace, "--",
                                     program, "2", std::to_string(status)},
                                    dir.path());
  EXPECT_EQ(record.exit_code, status) << record.err;
  CommandResult report = RunCommand({HWCOV_BINARY, "report", trace}, dir.path());
  EXPECT_EQ(report.exit_code, 0) << report.err;
}

std::string StatusName(const ::testing::TestParamInfo<int>& param) {
  return "status_" + std::to_string(param.param);
}

INSTANTIATE_TEST_SUITE_P(gcov, ExitStatusTest, ::testing::Values(1, 3, 42, 255), StatusName);

// ----------------------------------------------------------- bug B1 alone

// A static inline function of geometry.h, compiled into use_geometry, should
// be reported under geometry.h, and no blank line should have a DA (bug B1
// put the header's rows under use_geometry.c, with the header's numbers).
class HeaderTest : public ::testing::TestWithParam<std::string> {};

TEST_P(HeaderTest, HeaderLinesStayInTheHeader) {
  TempDir dir("gcov-header");
  const fs::path lcov_path = dir.path() / "out.info";
  std::vector<std::string> argv = {HWCOV_BINARY, "run",    "--backend",
                                   "soft",       "--lcov", lcov_path.string()};
  argv.insert(argv.end(), kWithLibgeometry.begin(), kWithLibgeometry.end());
  argv.push_back("--");
  argv.push_back((kPrograms / GetParam()).string());
  CommandResult hw = RunCommand(argv, dir.path());
  ASSERT_EQ(hw.exit_code, 0) << hw.err;
  const LcovData lcov = ParseLcov(ReadFile(lcov_path));
  const std::string header = kSources + "geometry.h";
  bool found = false;
  for (const auto& f : lcov.functions)
    if (f.name == "geo_make_point" && f.file == header) found = true;
  EXPECT_TRUE(lcov.files.count(header)) << "no SF record for " << header;
  EXPECT_TRUE(found) << "geo_make_point is not reported in geometry.h";
  for (const auto& [key, count] : lcov.lines) {
    if (IsProgramSource(key.first)) {
      EXPECT_FALSE(SourceText(key).empty()) << Where(key) << " is blank, yet has DA " << count;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(gcov, HeaderTest, ::testing::Values("use_geometry"));

}  // namespace
