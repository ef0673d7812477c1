// The emu backend (QEMU user mode with hwcov's plugin) against the soft
// backend, the exact reference on the real CPU: the test programs of the
// gcov suite and of the soft tracer's suite must get the same line, branch
// and function counts for the code hwcov traces. A difference is accepted
// only where a rule explains it, and the rule is asserted:
//   timing    a loop that spins until a timer signal arrives (sig.c) runs a
//             different number of times in any two runs, and so may the
//             handler: executed in both;
//   dispatch  a program that chooses its code by CPUID (dispatch.c) takes its
//             AVX-512 path on an AVX-512 machine and the other one under
//             QEMU, whose CPU has no AVX-512: the differences are exactly
//             that choice.
// Every emu trace must decode without gaps, and Linux perf must read the
// same instructions in it as hwcov's decoder.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "test_support.h"
#include "trace_helpers.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::ExpectNoGaps;
using testing::RunCommand;
using testing::SplitLines;
using testing::Traced;

const fs::path kPrograms = HWCOV_TEST_PROGRAMS_DIR;
const fs::path kEmuPrograms = HWCOV_EMU_PROGRAMS_DIR;
const fs::path kSources = fs::path(HWCOV_SOURCE_DIR) / "tests";

// Why the emu backend cannot run here, or empty.
const std::string& EmuUnavailable() {
  static const std::string why = [] {
    testing::TempDir dir("emu-probe");
    CommandResult r = RunCommand({HWCOV_BINARY, "record", "--backend", "emu", "-o",
                                  (dir.path() / "t.data").string(), "--", "/bin/true"});
    return r.exit_code == 0 ? std::string()
                            : "exit status " + std::to_string(r.exit_code) + ": " + r.err;
  }();
  return why;
}

#define SKIP_WITHOUT_EMU() \
  if (!EmuUnavailable().empty()) GTEST_SKIP() << "emu backend unavailable: " << EmuUnavailable()

// Writes NAME.BACKEND.data and NAME.BACKEND.info in |dir|.
Traced Trace(const testing::TempDir& dir, const std::string& backend, const std::string& name,
             const std::vector<std::string>& options, const std::vector<std::string>& command) {
  return testing::TraceRun(dir, backend, name + "." + backend, options, command);
}

// Checks nothing where perf is not installed.
void ExpectPerfAgrees(const fs::path& trace) {
  testing::ExpectPerfAgrees(trace, 50, testing::WithoutPerf::kPass);
}

// An lcov tracefile's records keyed by "file:line[:block:branch]".
struct Lcov {
  std::set<std::string> files;
  std::map<std::string, std::string> lines, branches, functions;
};

Lcov ParseLcov(const fs::path& path) {
  Lcov lcov;
  std::string file;
  for (const std::string& line : SplitLines(testing::ReadFile(path))) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string tag = line.substr(0, colon), rest = line.substr(colon + 1);
    std::vector<std::string> f;
    std::istringstream in(rest);
    for (std::string part; std::getline(in, part, ',');) f.push_back(part);
    if (tag == "SF") {
      file = fs::path(rest).filename().string();
      lcov.files.insert(file);
    } else if (tag == "DA" && f.size() >= 2) {
      lcov.lines[file + ":" + f[0]] = f[1];
    } else if (tag == "BRDA" && f.size() >= 4) {
      lcov.branches[file + ":" + f[0] + ":" + f[1] + ":" + f[2]] = f[3];
    } else if (tag == "FNDA" && f.size() >= 2) {
      lcov.functions[file + ":" + f[1]] = f[0];
    }
  }
  return lcov;
}

// Line numbers of |source| whose text contains one of |needles|.
std::set<std::string> LinesWith(const fs::path& source, const std::vector<std::string>& needles) {
  std::set<std::string> out;
  const std::vector<std::string> lines = SplitLines(testing::ReadFile(source));
  for (size_t i = 0; i < lines.size(); ++i)
    for (const std::string& n : needles)
      if (lines[i].find(n) != std::string::npos) out.insert(std::to_string(i + 1));
  return out;
}

// Line numbers of the bodies of |functions| in |source| (declaration to
// the closing brace in column 0).
std::set<std::string> FunctionLines(const fs::path& source,
                                    const std::vector<std::string>& functions) {
  std::set<std::string> out;
  const std::vector<std::string> lines = SplitLines(testing::ReadFile(source));
  for (const std::string& fn : functions) {
    bool in = false;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (!in && lines[i].find(" " + fn + "(") != std::string::npos) in = true;
      if (in) out.insert(std::to_string(i + 1));
      if (in && lines[i].rfind("}", 0) == 0) break;
    }
  }
  return out;
}

std::string LineOf(const std::string& key) {  // "file:line[:...]" -> "line"
  const size_t a = key.find(':');
  const size_t b = key.find(':', a + 1);
  return key.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
}

enum class Rule { kNone, kTiming, kDispatch };

struct Case {
  std::string name;
  std::vector<std::string> command;
  int exit_status = 0;
  std::vector<std::string> options = {};
  Rule rule = Rule::kNone;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string P(const std::string& name) { return (kPrograms / name).string(); }
std::string E(const std::string& name) { return (kEmuPrograms / name).string(); }

std::vector<Case> Cases() {
  const std::vector<std::string> geometry = {"--only", "use_geometry", "--only", "libgeometry.so"};
  return {
      {"loops", {P("loops"), "12"}},
      {"loops_status3", {P("loops"), "0", "3"}, 3},
      {"recursion", {P("recursion"), "12"}},
      {"recursion_exit_from_callee", {P("recursion"), "25"}, 2},
      {"switch", {P("switch"), "200", "404", "418", "999", "abc"}, 1},
      {"funcptr", {P("funcptr"), "mul", "desc"}},
      {"funcptr_div", {P("funcptr"), "div"}},
      {"funcptr_unknown", {P("funcptr"), "pow"}, 2},
      {"shapes", {P("shapes"), "big"}},
      {"shapes_triangle", {P("shapes"), "triangle"}},
      {"use_geometry", {P("use_geometry"), "concave", "full"}, 0, geometry},
      {"threads", {P("threads")}},
      {"forker", {P("forker"), "12"}},
      {"dl", {P("dl")}, 0, {"--only", "dl", "--only", "libplugin_*.so"}},
      {"signals", {P("sig")}, 0, {}, Rule::kTiming},
      {"exceptions", {P("exc")}},
      {"fault_in_block", {E("fault")}},
      {"fault_kills", {E("fault"), "crash"}, 128 + SIGSEGV},
      {"sigkill", {E("fault"), "kill"}, 128 + SIGKILL},
      {"cpu_dispatch", {E("dispatch")}, 0, {}, Rule::kDispatch},
  };
}

class EmuAgreesWithSoft : public ::testing::TestWithParam<Case> {};

TEST_P(EmuAgreesWithSoft, SameCoverage) {
  SKIP_WITHOUT_EMU();
  const Case& c = GetParam();
  testing::TempDir dir("emu-" + c.name);
  Traced emu = Trace(dir, "emu", c.name, c.options, c.command);
  Traced soft = Trace(dir, "soft", c.name, c.options, c.command);
  ASSERT_EQ(emu.run.exit_code, c.exit_status) << emu.run.err;
  ASSERT_EQ(soft.run.exit_code, c.exit_status) << soft.run.err;
  ExpectNoGaps(emu);
  // One note on the emulated CPU, whatever the number of processes.
  const std::string note = "hwcov: emu: the program runs on QEMU's emulated CPU";
  const size_t at = emu.run.err.find(note);
  EXPECT_NE(at, std::string::npos) << emu.run.err;
  EXPECT_EQ(emu.run.err.find(note, at + 1), std::string::npos) << emu.run.err;

  const Lcov e = ParseLcov(emu.lcov), s = ParseLcov(soft.lcov);
  ASSERT_FALSE(s.lines.empty());
  EXPECT_EQ(e.files, s.files);
  EXPECT_EQ(e.functions.size(), s.functions.size());

  std::set<std::string> explained;  // line numbers a rule allows to differ
  fs::path source;
  if (c.rule == Rule::kTiming) {
    // The spin loop runs until the fifth SIGALRM, and more may arrive
    // before the timer is stopped: how many depends on the speed.
    source = kSources / "programs" / "sig.c";
    explained = LinesWith(source, {"ticks < 5", "spin++"});
    explained.merge(FunctionLines(source, {"on_alarm"}));
    explained.insert("on_alarm");
  }
  bool host_avx512 = false;
  if (c.rule == Rule::kDispatch) {
    source = kSources / "emu" / "programs" / "dispatch.c";
    host_avx512 = soft.run.out.find("avx512f=1") != std::string::npos;
    EXPECT_NE(emu.run.out.find("avx512f=0"), std::string::npos)
        << "QEMU's CPU has no AVX-512: " << emu.run.out;
    if (host_avx512) {
      explained = FunctionLines(source, {"wide_path", "narrow_path"});
      explained.insert({"wide_path", "narrow_path"});
      for (const std::string& l :
           LinesWith(source, {"if (avx512)", "r = wide_path", "r = narrow_path"}))
        explained.insert(l);
    }
  } else {
    EXPECT_EQ(emu.run.out.substr(0, emu.run.out.find("Filename")),
              soft.run.out.substr(0, soft.run.out.find("Filename")))
        << "the program's own output";
  }

  size_t compared = 0, differing = 0;
  auto compare = [&](const std::map<std::string, std::string>& a,
                     const std::map<std::string, std::string>& b, const char* kind) {
    for (const auto& [key, count] : b) {
      auto it = a.find(key);
      ASSERT_NE(it, a.end()) << kind << " " << key << " only in the soft trace";
      ++compared;
      if (it->second == count) continue;
      ++differing;
      const bool executed_in_both =
          it->second != "0" && it->second != "-" && count != "0" && count != "-";
      // FNDA keys name the function, the others a line.
      const std::string where =
          std::string(kind) == "FNDA" ? key.substr(key.find(':') + 1) : LineOf(key);
      const bool allowed =
          explained.contains(where) && (c.rule == Rule::kDispatch || executed_in_both);
      EXPECT_TRUE(allowed) << kind << " " << key << ": emu " << it->second << ", soft " << count;
    }
    EXPECT_EQ(a.size(), b.size()) << kind;
  };
  compare(e.lines, s.lines, "DA");
  compare(e.branches, s.branches, "BRDA");
  compare(e.functions, s.functions, "FNDA");
  std::cout << c.name << ": " << compared << " lcov records compared, " << differing
            << " differ (explained by "
            << (c.rule == Rule::kTiming     ? "timing"
                : c.rule == Rule::kDispatch ? "CPU dispatch"
                                            : "nothing")
            << ")\n";
  if (c.rule == Rule::kNone) {
    EXPECT_EQ(differing, 0u);
  }
  if (c.rule == Rule::kDispatch && host_avx512) {
    // The rule held because the paths differ, and exactly as CPUID says.
    EXPECT_EQ(e.functions.at("dispatch.c:wide_path"), "0");
    EXPECT_EQ(e.functions.at("dispatch.c:narrow_path"), "1");
    EXPECT_EQ(s.functions.at("dispatch.c:wide_path"), "1");
    EXPECT_EQ(s.functions.at("dispatch.c:narrow_path"), "0");
  }
  ExpectPerfAgrees(emu.trace);
}

INSTANTIATE_TEST_SUITE_P(Programs, EmuAgreesWithSoft, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

// Counting mode (docs/emu-backend.md, the default of `hwcov run --backend
// emu`) against the trace mode on every program above: the plugin's per-TB
// counts and rare events, turned into a profile without Intel PT, must give
// the lcov records that the trace of the same program gives, exactly. Only
// sig.c's timer-bound lines may differ (the timing rule: both executed).
class EmuCountingMode : public ::testing::TestWithParam<Case> {};

TEST_P(EmuCountingMode, SameCoverageAsTheTrace) {
  SKIP_WITHOUT_EMU();
  const Case& c = GetParam();
  testing::TempDir dir("emu-count-" + c.name);
  auto run = [&](const std::string& mode, CommandResult& r) {
    const fs::path info = dir.path() / (mode + ".info");
    std::vector<std::string> argv = {HWCOV_BINARY, "run", "--backend", "emu",
                                     "--emu-mode", mode,  "--lcov",    info.string()};
    argv.insert(argv.end(), c.options.begin(), c.options.end());
    argv.push_back("--");
    argv.insert(argv.end(), c.command.begin(), c.command.end());
    r = RunCommand(argv, dir.path());
    EXPECT_EQ(r.exit_code, c.exit_status) << mode << ": " << r.err;
    return fs::exists(info) ? ParseLcov(info) : Lcov{};
  };
  CommandResult trace_run, count_run;
  const Lcov traced = run("trace", trace_run), counted = run("count", count_run);
  EXPECT_NE(count_run.err.find("(emu counting mode, no trace)"), std::string::npos)
      << count_run.err;
  EXPECT_NE(trace_run.err.find("bytes of Intel PT"), std::string::npos) << trace_run.err;
  ASSERT_FALSE(traced.lines.empty()) << trace_run.err;
  EXPECT_EQ(counted.files, traced.files);
  std::set<std::string> explained;
  if (c.rule == Rule::kTiming) {
    const fs::path source = kSources / "programs" / "sig.c";
    explained = LinesWith(source, {"ticks < 5", "spin++"});
    explained.merge(FunctionLines(source, {"on_alarm"}));
    explained.insert("on_alarm");
  }
  size_t compared = 0;
  auto compare = [&](const std::map<std::string, std::string>& a,
                     const std::map<std::string, std::string>& b, const char* kind) {
    EXPECT_EQ(a.size(), b.size()) << kind;
    for (const auto& [key, count] : b) {
      auto it = a.find(key);
      ASSERT_NE(it, a.end()) << kind << " " << key << " only in the trace";
      ++compared;
      if (it->second == count) continue;
      const std::string where =
          std::string(kind) == "FNDA" ? key.substr(key.find(':') + 1) : LineOf(key);
      // On a timer-bound line, the lines ran in both; a branch outcome may
      // not have (the loop's entry test sees 5 ticks already on a loaded
      // machine).
      const bool executed_in_both =
          it->second != "0" && it->second != "-" && count != "0" && count != "-";
      EXPECT_TRUE(explained.contains(where) && (executed_in_both || std::string(kind) == "BRDA"))
          << kind << " " << key << ": counted " << it->second << ", traced " << count;
    }
  };
  compare(counted.lines, traced.lines, "DA");
  compare(counted.branches, traced.branches, "BRDA");
  compare(counted.functions, traced.functions, "FNDA");
  std::cout << c.name << ": " << compared << " lcov records compared\n";
}

INSTANTIATE_TEST_SUITE_P(Programs, EmuCountingMode, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

// A block left early with no signal: smc.c stores into the page of the
// code it runs, so QEMU drops the block and goes on at the store, in the
// middle of it. The soft backend cannot run it (it takes the write access
// away from traced code: docs/soft-tracer.md); by hand: 7 iterations run
// each statement of the loop's body 7 times and its test 8 times.
TEST(EmuCountingMode, BlockLeftAtAStoreIntoItsOwnPage) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-smc");
  const fs::path source = kSources / "emu" / "programs" / "smc.c";
  const std::string test = *LinesWith(source, {"for (int i = 0; i < n; i++)"}).begin();
  const std::set<std::string> body =
      LinesWith(source, {"sum += i * 3", "*byte = *byte", "sum ^= i"});
  ASSERT_EQ(body.size(), 3u);
  for (const std::string mode : {"trace", "count"}) {
    const fs::path info = dir.path() / (mode + ".info");
    const CommandResult r = RunCommand({HWCOV_BINARY, "run", "--backend", "emu", "--emu-mode", mode,
                                        "--lcov", info.string(), "--", E("smc"), "7"},
                                       dir.path());
    ASSERT_EQ(r.exit_code, 0) << mode << ": " << r.err;
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "50") << mode;
    const Lcov lcov = ParseLcov(info);
    EXPECT_EQ(lcov.lines.at("smc.c:" + test), "8") << mode;
    for (const std::string& line : body) EXPECT_EQ(lcov.lines.at("smc.c:" + line), "7") << mode;
  }
}

// A test suite run by a shell script: the shell, the script's interpreter
// and `exec` are followed, only the programs under test are traced.
TEST(EmuBackend, ShellScriptWithOnlyExe) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-shell");
  const fs::path script = dir.path() / "suite.sh";
  std::ofstream(script) << "#!/bin/sh\n"
                        << P("loops") << " 3 && " << P("recursion") << " 4 || exit 1\n"
                        << P("forker") << " 5 >/dev/null\n"
                        << "exec " << P("loops") << " 2\n";
  fs::permissions(script, fs::perms::owner_all);
  const std::vector<std::string> options = {"--only-exe", "loops",      "--only-exe",
                                            "recursion",  "--only-exe", "forker"};
  Traced emu = Trace(dir, "emu", "suite", options, {script.string()});
  Traced soft = Trace(dir, "soft", "suite", options, {script.string()});
  ASSERT_EQ(emu.run.exit_code, 0) << emu.run.err;
  ASSERT_EQ(soft.run.exit_code, 0) << soft.run.err;
  ExpectNoGaps(emu);
  // loops twice (the second by exec from the script's shell), recursion,
  // forker and its child; the shells are not traced.
  EXPECT_NE(emu.run.err.find("of 5 process(es)"), std::string::npos) << emu.run.err;
  const Lcov e = ParseLcov(emu.lcov), s = ParseLcov(soft.lcov);
  EXPECT_EQ(e.files, (std::set<std::string>{"loops.c", "recursion.c", "forker.c"}));
  EXPECT_EQ(e.lines, s.lines);
  EXPECT_EQ(e.branches, s.branches);
  EXPECT_EQ(e.functions, s.functions);
  ExpectPerfAgrees(emu.trace);
}

TEST(EmuBackend, NoInheritTracesOnlyTheFirstProcess) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-noinherit");
  Traced t = Trace(dir, "emu", "forker", {"--no-inherit"}, {P("forker"), "7"});
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  EXPECT_NE(t.run.out.find("child: 21"), std::string::npos) << t.run.out;
  ExpectNoGaps(t);
  EXPECT_NE(t.run.err.find("of 1 process(es)"), std::string::npos) << t.run.err;
  EXPECT_NE(testing::ReadFile(t.lcov).find("FNDA:0,child_work"), std::string::npos);
}

// libc and ld.so too: their paths depend on the CPU (ifuncs), so they are
// not compared with the soft trace, only decoded.
TEST(EmuBackend, AllCodeDecodesWithoutGaps) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-all");
  Traced t = Trace(dir, "emu", "threads", {"--all-code"}, {P("threads")});
  ASSERT_EQ(t.run.exit_code, 0) << t.run.err;
  ExpectNoGaps(t);
  ExpectPerfAgrees(t.trace);
}

TEST(EmuBackend, SigtermToHwcovStopsTheProgramsAndKeepsTheTrace) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-term");
  testing::ExpectSigtermKeepsTrace({"--backend", "emu", "--all-code"}, dir.path() / "term.data");
}

TEST(EmuBackend, MissingProgramIsOneLineError) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-missing");
  auto r = RunCommand({HWCOV_BINARY, "record", "--backend", "emu", "-o",
                       (dir.path() / "t.data").string(), "--", "./no-such-program"});
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure);
  EXPECT_EQ(r.err, "hwcov: ./no-such-program: cannot run: No such file or directory\n");
  EXPECT_FALSE(fs::exists(dir.path() / "t.data"));
}

// A test driver that runs a test under valgrind (json-c's, automake's
// LOG_COMPILER = valgrind) leaves it out of the trace: valgrind runs it on
// its own JIT. Both backends say so once, and still trace the program the
// same script runs directly.
TEST(EmuBackend, ValgrindInTheRunIsNamedOnceAndWhatRanWithoutItIsTraced) {
  SKIP_WITHOUT_EMU();
  if (!fs::exists("/usr/bin/valgrind")) GTEST_SKIP() << "valgrind is not installed";
  testing::TempDir dir("emu-valgrind");
  const fs::path script = dir.path() / "suite.sh";
  std::ofstream(script) << "#!/bin/sh\n"
                        << "valgrind -q " << P("loops") << " 2 || exit 1\n"
                        << "valgrind -q " << P("loops") << " 3 || exit 1\n"
                        << P("recursion") << " 4\n";
  fs::permissions(script, fs::perms::owner_all);
  const std::string note = "valgrind runs programs on its own JIT";
  for (const char* backend : {"emu", "soft"}) {
    Traced t = Trace(dir, backend, "valgrind", {}, {script.string()});
    ASSERT_EQ(t.run.exit_code, 0) << backend << ": " << t.run.err;
    const size_t first = t.run.err.find(note);
    EXPECT_NE(first, std::string::npos) << backend << ": " << t.run.err;
    EXPECT_EQ(t.run.err.find(note, first + 1), std::string::npos) << backend << ": " << t.run.err;
    EXPECT_EQ(ParseLcov(t.lcov).files, (std::set<std::string>{"recursion.c"})) << backend;
  }
}

// HWCOV_QEMU_PLUGIN and HWCOV_QEMU name what they name or are errors saying
// so; set but empty, they are unset (the plugin next to hwcov, qemu-x86_64
// from PATH).
TEST(EmuBackend, EnvironmentOverridesAreCheckedAndEmptyMeansUnset) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-env");
  const std::string out = (dir.path() / "t.data").string();
  auto record = [&](const std::string& setting) {
    return RunCommand({"/usr/bin/env", setting, HWCOV_BINARY, "record", "--backend", "emu",
                       "--all-code", "-o", out, "--", "/bin/true"});
  };
  for (const char* name : {"HWCOV_QEMU_PLUGIN", "HWCOV_QEMU"}) {
    const std::string missing = (dir.path() / "missing").string();
    CommandResult r = record(std::string(name) + "=" + missing);
    EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(std::string(name) + "=" + missing + ": "), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
  for (const char* setting : {"HWCOV_QEMU_PLUGIN=", "HWCOV_QEMU="}) {
    CommandResult r = record(setting);
    EXPECT_EQ(r.exit_code, 0) << setting << ": " << r.err;
    EXPECT_TRUE(fs::exists(out)) << setting;
    fs::remove(out);
  }
}

// A run killed with SIGKILL leaves its recording directory in /dev/shm; the
// next run removes those whose hwcov is gone, and only those.
TEST(EmuBackend, StaleRecordingDirectoriesOfKilledRunsAreRemoved) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-stale");
  const fs::path base = dir.path() / "shm";
  const pid_t gone = fork();
  if (gone == 0) _exit(0);
  ASSERT_GT(gone, 0);
  waitpid(gone, nullptr, 0);
  // Named as RecordingDir names them: "hwcov-emu-<owner pid>-XXXXXX".
  const std::string stale = "hwcov-emu-" + std::to_string(gone) + "-stale1";
  const std::string live = "hwcov-emu-" + std::to_string(getpid()) + "-live1";
  for (const std::string& name : {stale, live}) {
    fs::create_directories(base / name);
    std::ofstream(base / name / "1.0.tbs") << "x";
  }
  const CommandResult r = testing::RunShell("HWCOV_EMU_DIR=" + base.string() + " " + HWCOV_BINARY +
                                                " record --backend emu -o t.data -- " +
                                                (kPrograms / "loops").string() + " 3 >/dev/null",
                                            dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(base / stale));
  EXPECT_TRUE(fs::exists(base / live));
  size_t left = 0;
  for (const auto& e : fs::directory_iterator(base)) left += e.path() != base / live;
  EXPECT_EQ(left, 0u) << "the run's own directory was not removed";
}

}  // namespace
}  // namespace hwcov
