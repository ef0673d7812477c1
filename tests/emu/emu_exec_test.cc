// The emu backend's exec supervisor (collector/emu/exec_supervisor.h): every
// way of starting a program ends with the selected one traced under QEMU and
// the others native, or with a line on stderr saying it is untraced; QEMU
// failing to run a program is an error, not the program's exit status; a
// program killed by a signal is reported as such in the RecordResult.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "hwcov/collector.h"
#include "hwcov/support.h"
#include "test_support.h"

namespace hwcov {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::RunCommand;

const fs::path kSpawner = fs::path(HWCOV_EMU_PROGRAMS_DIR) / "spawner";
const fs::path kFibStatic = fs::path(HWCOV_EMU_PROGRAMS_DIR) / "fib_static";
const fs::path kSum = fs::path(HWCOV_CTEST_PROJECT_DIR) / "t01_sum";

// Why the emu backend cannot run here, or empty.
const std::string& EmuUnavailable() {
  static const std::string why = [] {
    try {
      collector::ChooseBackend(collector::Backend::kEmu);
      return std::string();
    } catch (const Error& e) {
      return std::string(e.what());
    }
  }();
  return why;
}

#define SKIP_WITHOUT_EMU() \
  if (!EmuUnavailable().empty()) GTEST_SKIP() << "emu backend unavailable: " << EmuUnavailable()

struct Traced {
  CommandResult result;
  std::string lcov;
};

Traced Trace(const testing::TempDir& dir, const std::vector<std::string>& options,
             const std::vector<std::string>& command) {
  const fs::path lcov = dir.path() / "t.info";
  std::vector<std::string> argv = {HWCOV_BINARY, "run",        "--backend",
                                   "emu",        "-o",         (dir.path() / "t.data").string(),
                                   "--lcov",     lcov.string()};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  Traced run{RunCommand(argv, dir.path()), {}};
  if (fs::exists(lcov)) run.lcov = testing::ReadFile(lcov);
  return run;
}

struct Mode {
  std::string name;
  int exit_status;  // spawner's, with t01_sum exiting 0
};

// Failure messages name the mode, not the struct's bytes.
void PrintTo(const Mode& mode, std::ostream* os) {
  *os << mode.name << " (spawner exits " << mode.exit_status << ")";
}

class ExecModes : public ::testing::TestWithParam<Mode> {};

// t01_sum is traced however spawner starts it, with spawner itself traced
// (QEMU's host execve is what the supervisor sees) or native (--only-exe).
TEST_P(ExecModes, StartedProgramIsTraced) {
  SKIP_WITHOUT_EMU();
  for (bool spawner_traced : {true, false}) {
    SCOPED_TRACE(spawner_traced ? "spawner under QEMU" : "spawner native");
    testing::TempDir dir("emu-exec-" + GetParam().name);
    const std::vector<std::string> options = spawner_traced
                                                 ? std::vector<std::string>{}
                                                 : std::vector<std::string>{"--only-exe", "t01_*"};
    Traced run = Trace(dir, options, {kSpawner.string(), GetParam().name, kSum.string()});
    EXPECT_EQ(run.result.exit_code, GetParam().exit_status) << run.result.err;
    EXPECT_NE(run.result.out.find("sum("), std::string::npos) << run.result.out;
    EXPECT_NE(run.lcov.find("t01_sum.c"), std::string::npos) << run.result.err;
    EXPECT_EQ(run.lcov.find("spawner.c") != std::string::npos, spawner_traced) << run.result.err;
    EXPECT_EQ(run.result.err.find("untraced"), std::string::npos) << run.result.err;
  }
}

INSTANTIATE_TEST_SUITE_P(Supervisor, ExecModes,
                         ::testing::Values(Mode{"spawn", 10}, Mode{"vfork", 20},
                                           Mode{"grandchild", 30}, Mode{"fexecve", 0},
                                           Mode{"thread", 0}, Mode{"exec", 0}),
                         [](const ::testing::TestParamInfo<Mode>& mode) {
                           return mode.param.name;
                         });

TEST(EmuExec, StaticProgramIsTraced) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-exec-static");
  Traced run = Trace(dir, {"--only-exe", "fib_static"}, {kSpawner.string(), "exec", kFibStatic});
  EXPECT_EQ(run.result.exit_code, 0) << run.result.err;
  EXPECT_NE(run.lcov.find("t04_fib.c"), std::string::npos) << run.result.err;
}

// QEMU opens a program by name: a memfd's cannot run under it, and hwcov
// says so instead of leaving it silently untraced.
TEST(EmuExec, ProgramWithoutPathIsReported) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-exec-memfd");
  Traced run = Trace(dir, {}, {kSpawner.string(), "memfd", kSum.string()});
  EXPECT_EQ(run.result.exit_code, 0) << run.result.err;
  EXPECT_NE(run.result.out.find("sum(1)"), std::string::npos) << run.result.out;
  EXPECT_NE(run.result.err.find("runs a program without a path (/memfd:spawner-copy"),
            std::string::npos)
      << run.result.err;
  EXPECT_NE(run.result.err.find("natively, untraced"), std::string::npos) << run.result.err;
}

// An x86-64 ELF header on a truncated file: QEMU cannot load it and exits 1.
// That is hwcov's error (exit 2), not the program's status.
TEST(EmuExec, QemuFailureIsAnError) {
  SKIP_WITHOUT_EMU();
  testing::TempDir dir("emu-exec-qemu-fails");
  const fs::path broken = dir.path() / "truncated";
  {
    std::ifstream in(kSum, std::ios::binary);
    std::string head(256, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::ofstream(broken, std::ios::binary) << head;
  }
  fs::permissions(broken, fs::perms::owner_all);
  CommandResult r = RunCommand({HWCOV_BINARY, "record", "--backend", "emu", "-o",
                                (dir.path() / "t.data").string(), "--", broken.string()});
  EXPECT_EQ(r.exit_code, testing::kHwcovFailure) << r.err;
  EXPECT_NE(r.err.find("QEMU could not run " + broken.string()), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.path() / "t.data"));
}

// RecordResult::killed_by_signal, for the CLI's "killed by SIGSEGV" line,
// from both software backends.
TEST(EmuExec, KilledBySignalIsRecorded) {
  SKIP_WITHOUT_EMU();
  for (collector::Backend backend : {collector::Backend::kEmu, collector::Backend::kSoft}) {
    SCOPED_TRACE(collector::BackendName(backend));
    testing::TempDir dir("emu-exec-segv");
    collector::RecordOptions options;
    options.command = {kSpawner.string(), "segv"};
    options.output = dir.path() / "t.data";
    options.backend = backend;
    const collector::RecordResult result = collector::Record(options);
    EXPECT_EQ(result.killed_by_signal, SIGSEGV);
    EXPECT_EQ(result.exit_status, 128 + SIGSEGV);
    EXPECT_GT(result.stats.instructions, 0u);
  }
}

}  // namespace
}  // namespace hwcov
