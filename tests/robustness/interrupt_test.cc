// Ctrl-C, SIGTERM and SIGKILL at chosen moments of a `hwcov run` through a
// libtool-style wrapper (a shell script exec-ing .libs/stop_at), for the
// software backends: the run ends with the program's own fate (128 + the
// signal), keeps the coverage up to the signal (the lines before it ran, the
// lines after it did not: programs/stop_at.c), reports statistics that agree
// with each other, and leaves no temporary file behind. A run killed with
// SIGKILL cannot clean up: the next run removes what it left.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "hwcov/support.h"
#include "test_support.h"

namespace hwcov::robustness {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;

// The line of |source| holding |marker|.
int LineOf(const std::string& source, const std::string& marker) {
  const size_t at = source.find(marker);
  EXPECT_NE(at, std::string::npos) << marker;
  return 1 + static_cast<int>(std::count(source.begin(), source.begin() + at, '\n'));
}

// DA: counts of stop_at.c in an lcov tracefile.
std::map<int, long> LineCounts(const std::string& info) {
  std::map<int, long> counts;
  bool in_file = false;
  for (const std::string& line : testing::SplitLines(info)) {
    if (line.rfind("SF:", 0) == 0) in_file = line.ends_with("/stop_at.c");
    int number = 0;
    long count = 0;
    if (in_file && std::sscanf(line.c_str(), "DA:%d,%ld", &number, &count) == 2)
      counts[number] = count;
  }
  return counts;
}

// The project: .libs/stop_at built from the test tree's source, and the
// wrapper script beside it, as libtool lays them out.
class Project {
 public:
  explicit Project(const std::string& name) : dir_(name) {
    fs::create_directories(dir_.path() / ".libs");
    fs::create_directories(tmp());
    fs::create_directories(emu_dir());
    const CommandResult cc = testing::RunCommand(
        {"gcc", "-O0", "-g", "-o", (dir_.path() / ".libs/stop_at").string(), kSource});
    EXPECT_EQ(cc.exit_code, 0) << cc.err;
    fs::copy_file(kWrapper, wrapper());
    fs::permissions(wrapper(), fs::perms::owner_all, fs::perm_options::add);
  }
  const fs::path& path() const { return dir_.path(); }
  fs::path wrapper() const { return dir_.path() / "stop_at"; }
  fs::path tmp() const { return dir_.path() / "tmp"; }      // TMPDIR of the runs
  fs::path emu_dir() const { return dir_.path() / "shm"; }  // HWCOV_EMU_DIR
  // `hwcov run` in a session of its own, so that "group" stops only it.
  CommandResult Run(const std::string& backend, const std::string& args,
                    const std::string& options = "") const {
    return testing::RunShell("TMPDIR=" + tmp().string() + " HWCOV_EMU_DIR=" + emu_dir().string() +
                                 " setsid -w " + HWCOV_BINARY + " run --backend " + backend + " " +
                                 options + " --root " HWCOV_TEST_SOURCE_DIR " --lcov out.info -- " +
                                 wrapper().string() + " " + args,
                             path());
  }
  // What the runs left in the temporary directories.
  std::vector<std::string> Leftovers() const {
    std::vector<std::string> left;
    for (const fs::path& dir : {tmp(), emu_dir()})
      for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().string());
    return left;
  }

  static constexpr const char* kSource = HWCOV_TEST_SOURCE_DIR "/programs/stop_at.c";
  static constexpr const char* kWrapper = HWCOV_TEST_SOURCE_DIR "/programs/stop_at_wrapper.sh";

 private:
  testing::TempDir dir_;
};

long Number(std::string text) {
  std::erase(text, ',');
  return text.empty() ? 0 : std::stol(text);
}

// "recorded (or, emu counting mode, counted) N instructions (S single
// steps...) of P process(es), T thread(s)": the figures must agree (no
// instructions or steps of no process, no traced process without a thread).
void ExpectConsistentStats(const std::string& err) {
  static const std::regex stats(
      R"((?:recorded|counted) ([0-9,]+) instructions(?: \(([0-9,]+) single steps)?.* of ([0-9]+) )"
      R"(process\(es\), ([0-9]+) thread)");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(err, m, stats)) << err;
  const long instructions = Number(m[1]), steps = Number(m[2]), processes = Number(m[3]),
             threads = Number(m[4]);
  if (instructions > 0 || steps > 0) {
    EXPECT_GT(processes, 0) << err;
  }
  EXPECT_EQ(processes > 0, threads > 0) << err;
}

struct Moment {
  std::string backend;
  std::string when;    // wrapper, start, middle
  int signal;          // SIGINT, SIGTERM
  std::string target;  // group (Ctrl-C), parent (hwcov alone)
  std::string options = "";
};

void PrintTo(const Moment& m, std::ostream* os) {
  *os << m.backend << " " << m.when << " " << SignalName(m.signal) << " to " << m.target << " "
      << m.options;
}

class Interrupt : public ::testing::TestWithParam<Moment> {};

TEST_P(Interrupt, KeepsCoverageUpToTheSignalAndNoTemporaryFile) {
  const Moment& m = GetParam();
  if (m.backend == "emu" && !testing::HaveTool("qemu-x86_64")) GTEST_SKIP() << "no qemu-x86_64";
  Project project("interrupt-" + m.backend + "-" + m.when + "-" + m.target);
  const CommandResult r =
      project.Run(m.backend, m.when + " " + std::to_string(m.signal) + " " + m.target, m.options);
  EXPECT_EQ(r.exit_code, 128 + m.signal) << r.err;  // the program's own fate
  EXPECT_EQ(r.err.find("error"), std::string::npos) << r.err;
  ExpectConsistentStats(r.err);
  EXPECT_EQ(project.Leftovers(), std::vector<std::string>{}) << r.err;

  const std::string source = testing::ReadFile(Project::kSource);
  const std::map<int, long> counts = LineCounts(testing::ReadFile(project.path() / "out.info"));
  if (m.when == "wrapper") {  // stopped before the project's program ran
    EXPECT_TRUE(counts.empty());
    EXPECT_NE(r.err.find("no code was traced"), std::string::npos) << r.err;
    return;
  }
  ASSERT_FALSE(counts.empty()) << r.err;
  const int stop_line = LineOf(source, "// stop: " + m.when);
  EXPECT_EQ(counts.at(stop_line), 1) << "the line that sent the signal";
  const int loop = LineOf(source, "// loop");
  EXPECT_EQ(counts.at(loop) > 0, m.when == "middle");
  EXPECT_EQ(counts.at(LineOf(source, "return sum == 0;")), 0);
}

std::vector<Moment> Moments() {
  std::vector<Moment> moments;
  for (const char* backend : {"soft", "emu"}) {
    for (const char* when : {"wrapper", "start", "middle"})
      for (int signal : {SIGINT, SIGTERM}) moments.push_back({backend, when, signal, "group"});
    moments.push_back({backend, "middle", SIGTERM, "parent"});
  }
  // The wrapper's shell traced too: stopped before it exec'd, in code that
  // is not the project's (the statistics once said "0 instructions (278,342
  // single steps) of 0 process(es)").
  moments.push_back({"soft", "wrapper", SIGINT, "group", "--only-exe '*'"});
  return moments;
}

INSTANTIATE_TEST_SUITE_P(Moments, Interrupt, ::testing::ValuesIn(Moments()),
                         [](const ::testing::TestParamInfo<Moment>& param) {
                           const Moment& m = param.param;
                           return m.backend + "_" + m.when + "_" +
                                  (m.signal == SIGINT ? "INT" : "TERM") + "_" + m.target +
                                  (m.options.empty() ? "" : "_all_programs");
                         });

// A run killed with SIGKILL leaves the emulator's recording directory; the
// next run removes it, and nothing of its own. The soft backend, decoding
// while recording, leaves nothing (as the intel-pt backend does; the
// temporary trace of --per-test follows the same rule:
// pipeline::TemporaryTracePath).
TEST(Interrupt, TheNextRunRemovesWhatAKilledRunLeft) {
  for (const std::string backend : {"soft", "emu"}) {
    if (backend == "emu" && !testing::HaveTool("qemu-x86_64")) continue;
    Project project("interrupt-sigkill-" + backend);
    // "parent" with signal 9: the program SIGKILLs hwcov from inside.
    const CommandResult killed = project.Run(backend, "middle 9 parent");
    EXPECT_NE(killed.exit_code, 0);
    if (backend == "soft") {  // decoded while recording: it wrote no file to leave
      EXPECT_EQ(project.Leftovers(), std::vector<std::string>{}) << killed.err;
      continue;
    }
    EXPECT_FALSE(project.Leftovers().empty()) << "nothing left to clean: the test proves nothing";
    const CommandResult next = project.Run(backend, "middle 15 parent");
    EXPECT_EQ(next.exit_code, 128 + SIGTERM) << next.err;
    EXPECT_EQ(project.Leftovers(), std::vector<std::string>{}) << backend;
  }
}

}  // namespace
}  // namespace hwcov::robustness
