// Results users can trust (issue 19): an empty or unmappable report is an
// error naming why, the default scope is the project's code, output paths
// are checked before the program runs, options that do not apply are
// refused, and failed writes leave no partial set of outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "hwcov/trace.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::RunCommand;
using testing::RunShell;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A small project in a git repository of its own: src/prog.c built -O0 -g.
class Project {
 public:
  explicit Project(const std::string& name) : dir_(name) {
    EXPECT_EQ(RunShell("git init -q .", path()).exit_code, 0);
    WriteText(dir_.path() / "src" / "prog.c",
              "#include <stdlib.h>\n"
              "static int twice(int x) { return 2 * x; }\n"
              "int main(int argc, char** argv) {\n"
              "  int n = argc > 1 ? atoi(argv[1]) : 0;\n"
              "  if (n > 100)\n"
              "    return twice(n);\n"
              "  return n;\n"
              "}\n");
    Build({});
  }
  void Build(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {"gcc", "-O0",           "-g",
                                     "-o",  prog().string(), (path() / "src" / "prog.c").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const CommandResult cc = RunCommand(argv);
    ASSERT_EQ(cc.exit_code, 0) << cc.err;
  }
  const fs::path& path() const { return dir_.path(); }
  fs::path prog() const { return path() / "prog"; }
  fs::path trace() const { return path() / "t.data"; }
  CommandResult Hwcov(std::vector<std::string> args) const {
    args.insert(args.begin(), HWCOV_BINARY);
    return RunCommand(args, path());
  }
  void Record() const {
    const CommandResult r =
        Hwcov({"record", "--backend", "soft", "-o", trace().string(), "--", prog().string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

 private:
  testing::TempDir dir_;
};

TEST(Trust, NothingInScopeIsAnErrorAndFailsEveryGate) {
  Project p("trust-scope");
  p.Record();
  const CommandResult r = p.Hwcov({"report", "-q", "--include", "nomatch", "--fail-under-line",
                                   "80", "--lcov", "x.info", p.trace().string()});
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "--include 'nomatch' matched no source file")) << r.err;
  EXPECT_TRUE(Contains(r.err, "nothing in scope")) << r.err;
  EXPECT_FALSE(Contains(r.out, "100.00%")) << r.out;
  EXPECT_FALSE(fs::exists(p.path() / "x.info"));
}

TEST(Trust, SourcesOutsideTheProjectRootAreNotReportedByDefault) {
  Project p("trust-root");
  p.Record();
  // Another project: a repository of its own beside this one.
  Project other("trust-other");
  const CommandResult r =
      RunCommand({HWCOV_BINARY, "report", "-q", p.trace().string()}, other.path());
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << r.out;
  EXPECT_TRUE(Contains(r.err, "outside the source root " + other.path().string())) << r.err;
  EXPECT_TRUE(Contains(r.err, "--root")) << r.err;
  // --root names the project; the table shows paths relative to it.
  const CommandResult rooted = RunCommand(
      {HWCOV_BINARY, "report", "-q", "--root", (p.path() / "src").string(), p.trace().string()},
      other.path());
  ASSERT_EQ(rooted.exit_code, 0) << rooted.err;
  EXPECT_TRUE(Contains(rooted.out, "\nprog.c ")) << rooted.out;
}

TEST(Trust, FiltersMatchThePathAsShown) {
  Project p("trust-relative");
  p.Record();
  const CommandResult r = p.Hwcov({"report", "-q", "--include", "^src/", p.trace().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "\nsrc/prog.c ")) << r.out;
  EXPECT_FALSE(Contains(r.err, "matched no source file")) << r.err;
}

// A trace whose second half is not PT any more (0xFF is a TIP with reserved IP
// bits: an error at every byte) decodes its first part only: the report says
// so, and a gate that would pass on what decoded fails unless --allow-partial.
TEST(Trust, APartialTraceFailsTheGatesUnlessAllowed) {
  Project p("trust-partial");
  // An indirect call per iteration (a TIP each): several PSB periods of trace.
  WriteText(p.path() / "src" / "prog.c",
            "typedef void (*step_fn)(int);\n"
            "static volatile int sink;\n"
            "static void up(int i) { sink += i; }\n"
            "static void down(int i) { sink -= i; }\n"
            "int main(void) {\n"
            "  step_fn volatile steps[2] = {up, down};\n"
            "  for (int i = 0; i < 6000; i++) steps[i & 1](i);\n"
            "  return 0;\n"
            "}\n");
  p.Build({});
  p.Record();
  const trace::Trace recorded = trace::ReadPerfData(p.trace());
  ASSERT_EQ(recorded.queues.size(), 1u);
  uint64_t total = 0;
  for (const trace::AuxBuffer& aux : recorded.queues[0].buffers) total += aux.size;
  std::string bytes;
  {
    std::ifstream in(p.trace(), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  uint64_t kept = total * 2 / 5;  // the first 40% of the stream stay PT
  for (const trace::AuxBuffer& aux : recorded.queues[0].buffers) {
    const uint64_t keep_here = std::min(kept, aux.size);
    kept -= keep_here;
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(aux.file_offset + keep_here),
              bytes.begin() + static_cast<std::ptrdiff_t>(aux.file_offset + aux.size), '\xff');
  }
  const fs::path damaged = p.path() / "damaged.data";
  std::ofstream(damaged, std::ios::binary) << bytes;

  const CommandResult gated = p.Hwcov({"report", "-q", "--fail-under-line", "1", damaged.string()});
  EXPECT_EQ(gated.exit_code, 3) << gated.out << gated.err;
  EXPECT_TRUE(Contains(gated.err, "% of the trace decoded cleanly: the coverage is partial"))
      << gated.err;
  EXPECT_TRUE(Contains(gated.err, "the gates fail on a partial trace (--allow-partial accepts it)"))
      << gated.err;
  const CommandResult allowed =
      p.Hwcov({"report", "-q", "--fail-under-line", "1", "--allow-partial", damaged.string()});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
  // The undamaged trace passes the same gate without the option.
  EXPECT_EQ(p.Hwcov({"report", "-q", "--fail-under-line", "1", p.trace().string()}).exit_code, 0);
}

TEST(Trust, StrippedBinaryIsAnErrorNotAnEmptyTracefile) {
  Project p("trust-stripped");
  p.Build({"-s"});
  const CommandResult r = p.Hwcov({"run", "-q", "--backend", "soft", "--lcov", "x.info",
                                   "--fail-under-line", "10", "--", p.prog().string()});
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << r.err;
  EXPECT_TRUE(Contains(r.err, "no DWARF line information")) << r.err;
  EXPECT_FALSE(fs::exists(p.path() / "x.info"));
}

TEST(Trust, BinaryGoneSinceTheRecordingIsAnError) {
  Project p("trust-gone");
  p.Record();
  fs::remove(p.prog());
  const CommandResult r = p.Hwcov({"report", "-q", p.trace().string()});
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << r.out;
  EXPECT_TRUE(Contains(r.err, "no code was")) << r.err;
  EXPECT_FALSE(Contains(r.out, "100.00%")) << r.out;
}

TEST(Trust, OutputPathsAreCheckedBeforeTheProgramRuns) {
  Project p("trust-outputs");
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--lcov", "/nonexistent/dir/x.info"},
        std::vector<std::string>{"--html", "/proc/hwcov-report"},
        std::vector<std::string>{"--json", p.path().string()}}) {
    std::vector<std::string> args = {"run", "--backend", "soft"};
    args.insert(args.end(), bad.begin(), bad.end());
    args.insert(args.end(), {"--", "/bin/sh", "-c", "touch ran"});
    const CommandResult r = p.Hwcov(args);
    EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << bad[1];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(Contains(r.err, bad[1])) << r.err;
    EXPECT_FALSE(fs::exists(p.path() / "ran"))
        << "the program ran before " << bad[1] << " was refused";
  }
}

// The reason a path cannot be written is the kernel's, in words: sysfs refuses
// even root with EACCES; /proc answers ENOENT for a directory that exists.
TEST(Trust, UnwritableOutputsNameTheReason) {
  Project p("trust-unwritable");
  const struct {
    std::string path, says;
  } cases[] = {{"/sys/hwcov-x.info", "Permission denied"},
               {"/proc/sys/hwcov-x.info", "directory /proc/sys does not accept new files"}};
  for (const auto& c : cases) {
    const CommandResult r =
        p.Hwcov({"run", "--backend", "soft", "--lcov", c.path, "--", "/bin/true"});
    EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << c.path;
    EXPECT_TRUE(Contains(r.err, c.path + ": cannot be written")) << r.err;
    EXPECT_TRUE(Contains(r.err, c.says)) << r.err;
    EXPECT_FALSE(Contains(r.err, "does not exist")) << r.err;
  }
}

// Decoded while recording, no trace file: the coverage is what stays.
TEST(Trust, FailedReportKeepsTheCoverage) {
  Project p("trust-keep");
  const CommandResult r =
      p.Hwcov({"run", "-q", "--backend", "soft", "--include", "nomatch", "--", p.prog().string()});
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure);
  const std::string marker = "the coverage is kept in ";
  const size_t at = r.err.find(marker);
  ASSERT_NE(at, std::string::npos) << r.err;
  const std::string rest = r.err.substr(at + marker.size());
  const fs::path kept = rest.substr(0, rest.find(' '));
  EXPECT_TRUE(fs::exists(kept)) << kept;
  // It reports once the filter is fixed.
  EXPECT_EQ(p.Hwcov({"report", "-q", kept.string()}).exit_code, 0);
  fs::remove(kept);
}

TEST(Trust, OptionsOfAnotherBackendAreRefused) {
  Project p("trust-options");
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--filter", "src/"}, std::vector<std::string>{"--pid", "1"},
        std::vector<std::string>{"--buffer-size", "4M"}}) {
    std::vector<std::string> args = {"run", "--backend", "soft"};
    args.insert(args.end(), bad.begin(), bad.end());
    args.insert(args.end(), {"--", "/bin/sh", "-c", "touch ran"});
    const CommandResult r = p.Hwcov(args);
    EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << bad[0];
    EXPECT_TRUE(Contains(r.err, bad[0] + " applies to the intel-pt backend only")) << r.err;
    EXPECT_FALSE(fs::exists(p.path() / "ran"));
  }
  const CommandResult step =
      p.Hwcov({"record", "--backend", "emu", "--step-log", "s.log", "--", "/bin/true"});
  if (testing::HaveTool("qemu-x86_64")) {
    EXPECT_EQ(step.exit_code, testing::kHwcovFailure);
    EXPECT_TRUE(Contains(step.err, "--step-log applies to the soft backend only")) << step.err;
  }
}

TEST(Trust, BadJobCountsAndOptionPrefixesAreRefused) {
  Project p("trust-args");
  p.Record();
  for (const char* jobs : {"-1", "0", "100000", "x"}) {
    const CommandResult r = p.Hwcov({"report", "-j", jobs, p.trace().string()});
    EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << jobs;
    EXPECT_TRUE(Contains(r.err, "jobs")) << r.err;
  }
  const CommandResult prefix = p.Hwcov({"report", "--htm", "h", p.trace().string()});
  EXPECT_EQ(prefix.exit_code, testing::kHwcovFailure);
  EXPECT_TRUE(Contains(prefix.err, "'--htm'")) << prefix.err;
  EXPECT_FALSE(fs::exists(p.path() / "h"));
}

TEST(Trust, HwcovFailuresHaveTheirOwnExitStatus) {
  Project p("trust-status");
  // The program's own 2 (make's "a test failed") passes through...
  const CommandResult own = p.Hwcov(
      {"run", "-q", "--backend", "soft", "--", "/bin/sh", "-c", p.prog().string() + "; exit 2"});
  EXPECT_EQ(own.exit_code, 2) << own.err;
  // ...and hwcov's own failure is 70, not 2.
  WriteText(p.path() / "bad.data", "not a trace");
  EXPECT_EQ(p.Hwcov({"report", "bad.data"}).exit_code, testing::kHwcovFailure);
}

// A full file system: the reason is named and no output of the set is left.
TEST(Trust, FullDiskNamesTheReasonAndLeavesNoPartialOutputs) {
  Project p("trust-enospc");
  p.Record();
  if (!testing::HaveTool("unshare")) GTEST_SKIP() << "no unshare(1)";
  const std::string full = (p.path() / "full").string();
  fs::create_directories(full);
  // lcov and JSON fit in the 12 KiB; the HTML pages do not.
  const std::string script = "mount -t tmpfs -o size=12k tmpfs " + full + " || exit 99; " +
                             HWCOV_BINARY + " report -q --lcov " + full + "/a.info --json " + full +
                             "/a.json --html " + full + "/html " + p.trace().string() +
                             "; rc=$?; ls -A " + full + "; exit $rc";
  const CommandResult r = RunCommand({"unshare", "-m", "/bin/sh", "-c", script}, p.path());
  if (r.exit_code == 99 || Contains(r.err, "unshare failed"))
    GTEST_SKIP() << "cannot mount a tmpfs here: " << r.err;
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "No space left on device")) << r.err;
  EXPECT_EQ(r.out, "") << "outputs left on the full file system";
}

// jq's layout: ./prog is a libtool wrapper script that execs .libs/prog,
// which is linked to the project's own shared library.
TEST(Trust, LibtoolLayoutReportsTheProjectLibraryByDefault) {
  testing::TempDir dir("trust-libtool");
  WriteText(dir.path() / "lib" / "geo.c",
            "int area(int w, int h) {\n"
            "  if (w < 0 || h < 0)\n"
            "    return 0;\n"
            "  return w * h;\n"
            "}\n");
  WriteText(dir.path() / "main.c",
            "int area(int, int);\n"
            "int main(void) { return area(2, 3) == 6 ? 0 : 1; }\n");
  const std::string libs = (dir.path() / ".libs").string();
  fs::create_directories(libs);
  ASSERT_EQ(RunShell("gcc -O0 -g -shared -fPIC -o .libs/libgeo.so.0 lib/geo.c && "
                     "gcc -O0 -g -o .libs/prog main.c .libs/libgeo.so.0 -Wl,-rpath," +
                         libs,
                     dir.path())
                .exit_code,
            0);
  WriteText(dir.path() / "prog", "#!/bin/sh\nexec \"$(dirname \"$0\")/.libs/prog\" \"$@\"\n");
  fs::permissions(dir.path() / "prog", fs::perms::owner_all, fs::perm_options::add);
  const CommandResult r = RunCommand(
      {HWCOV_BINARY, "run", "-q", "--backend", "soft", "--json", "c.json", "--", "./prog"},
      dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = testing::ReadFile(dir.path() / "c.json");
  EXPECT_TRUE(Contains(json, (dir.path() / "lib" / "geo.c").string())) << json;
  EXPECT_TRUE(Contains(json, (dir.path() / "main.c").string())) << json;
  EXPECT_FALSE(Contains(json, "/usr/")) << "system code in the default scope";
  EXPECT_TRUE(Contains(r.err, "geo.c")) << r.err;  // the summary is on stderr
}

// `hwcov run`'s summary goes to stderr: a test comparing the program's stdout
// with an expected file sees exactly what the program wrote.
TEST(Trust, TheProgramsStdoutIsByteForByteItsOwn) {
  testing::TempDir dir("trust-stdout");
  WriteText(dir.path() / "say.c",
            "#include <stdio.h>\n"
            "int main(void) { printf(\"line one\\nno newline at the end\"); return 0; }\n");
  ASSERT_EQ(RunShell("gcc -O0 -g -o say say.c && ./say > expected", dir.path()).exit_code, 0);
  const CommandResult r =
      RunCommand({HWCOV_BINARY, "run", "-q", "--backend", "soft", "--", "./say"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, testing::ReadFile(dir.path() / "expected"));
  EXPECT_TRUE(Contains(r.err, "TOTAL")) << r.err;
}

// --show-missing lists the lines gcov marks "#####", as ranges.
TEST(Trust, ShowMissingListsTheLinesGcovCallsUnexecuted) {
  Project p("trust-missing");
  p.Record();
  const CommandResult r = p.Hwcov({"report", "-q", "--show-missing", p.trace().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string ranges;
  for (const std::string& line : testing::SplitLines(r.out))
    if (line.rfind("src/prog.c ", 0) == 0) ranges = line.substr(line.rfind("%") + 1);
  ASSERT_FALSE(ranges.empty()) << r.out;
  // The same program under gcov.
  ASSERT_EQ(RunShell("mkdir -p g && cd g && gcc -O0 --coverage -o prog ../src/prog.c && ./prog; "
                     "gcov -o . ../src/prog.c > /dev/null",
                     p.path())
                .exit_code,
            0);
  std::vector<uint32_t> unexecuted;
  for (const std::string& line : testing::SplitLines(testing::ReadFile(p.path() / "g/prog.c.gcov")))
    if (line.find("#####:") != std::string::npos)
      unexecuted.push_back(static_cast<uint32_t>(std::stoul(line.substr(line.find(':') + 1))));
  ASSERT_FALSE(unexecuted.empty());
  std::string expected;
  for (size_t i = 0; i < unexecuted.size(); ++i) {
    // Consecutive unexecuted lines with only non-code lines between them
    // form one range; this program has none, so each run is consecutive.
    size_t j = i;
    while (j + 1 < unexecuted.size() && unexecuted[j + 1] == unexecuted[j] + 1) ++j;
    expected += (expected.empty() ? "" : ", ") + std::to_string(unexecuted[i]);
    if (j > i) expected += "-" + std::to_string(unexecuted[j]);
    i = j;
  }
  EXPECT_EQ(ranges.substr(ranges.find_first_not_of(' ')), expected) << r.out;
}

}  // namespace
}  // namespace hwcov
