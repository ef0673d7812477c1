// The process layer every backend, QEMU's probe and `--diff`'s git share
// (support/include/hwcov/process.h).
#include "hwcov/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

#include "hwcov/support.h"

namespace hwcov {
namespace {

TEST(Process, FindInPathSearchesAsExecvpDoes) {
  ASSERT_TRUE(FindInPath("sh").has_value());
  EXPECT_EQ(FindInPath("sh")->filename(), "sh");
  EXPECT_EQ(FindInPath("./not/searched"), std::filesystem::path("./not/searched"));
  EXPECT_FALSE(FindInPath("hwcov-no-such-command").has_value());
}

TEST(Process, WaitStatusesInTheShellsConvention) {
  EXPECT_EQ(ExitCode(ChildProcess({"sh", "-c", "exit 7"}).Wait()), 7);
  const int killed = ChildProcess({"sh", "-c", "kill -TERM $$"}).Wait();
  EXPECT_EQ(KillingSignal(killed), SIGTERM);
  EXPECT_EQ(ExitCode(killed), 128 + SIGTERM);
}

TEST(Process, AFailedExecIsAnErrorNamingTheCommand) {
  try {
    ChildProcess child({"hwcov-no-such-command"});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "hwcov-no-such-command: cannot run: No such file or directory");
  }
}

TEST(Process, AHeldChildRunsOnlyOnceStarted) {
  ChildProcess child({"sh", "-c", "exit 3"}, SpawnOptions{.hold = true});
  int status = 0;
  EXPECT_EQ(waitpid(child.pid(), &status, WNOHANG), 0) << "it ran before Start()";
  child.Start();
  EXPECT_EQ(ExitCode(child.Wait()), 3);
}

// Both streams far beyond a pipe's 64 KiB, written alternately: a reader
// draining one stream at a time would wait forever.
TEST(Process, RunCapturingReadsBothStreamsToTheEnd) {
  const CommandOutput r = RunCapturing(
      {"sh", "-c",
       "i=0; while [ $i -lt 3000 ]; do echo out-$i-0123456789012345678901234567890123456789; "
       "echo err-$i-0123456789012345678901234567890123456789 >&2; i=$((i+1)); done; exit 5"});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3000);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 3000);
  EXPECT_EQ(r.out.substr(0, 6), "out-0-");
  EXPECT_EQ(r.err.substr(r.err.rfind("err-")).substr(0, 9), "err-2999-");
  EXPECT_THROW(RunCapturing({"hwcov-no-such-command"}), Error);
  EXPECT_EQ(RunCapturing({"sh", "-c", "cat"}).out, "") << "stdin is /dev/null";
}

}  // namespace
}  // namespace hwcov
