// The intel-pt backend launching a command: a SIGTERM sent to hwcov alone
// (a CI runner's timeout, `kill PID`) must end the command as it would have
// ended it without hwcov, and the trace must still be written. Ctrl-C needs
// nothing from hwcov: the terminal sends it to the command too.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "fake_machine.h"
#include "hwcov/trace.h"

namespace hwcov {
namespace {

TEST(IntelPtStop, SigtermToHwcovAloneEndsTheLaunchedCommandAndKeepsTheTrace) {
  FakeMachine machine("pt-fake-sigterm");
  FakeKernel kernel;
  std::ostringstream log;
  collector::RecordOptions options = Options(machine.dir.path() / "hw.data", &log);
  options.command = {"/bin/sleep", "20"};
  const pid_t recorder = static_cast<pid_t>(syscall(SYS_gettid));
  std::thread sender([recorder] {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    syscall(SYS_tgkill, getpid(), recorder, SIGTERM);  // to the thread that records
  });
  const auto start = std::chrono::steady_clock::now();
  const collector::RecordResult result = RecordIntelPt(options, machine.Host(&kernel));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sender.join();
  EXPECT_LT(seconds, 10) << "the command ran on: the SIGTERM was not passed on";
  EXPECT_EQ(result.killed_by_signal, SIGTERM);
  EXPECT_EQ(result.exit_status, 128 + SIGTERM);
  EXPECT_NE(log.str().find("SIGTERM passed on to the traced programs"), std::string::npos)
      << log.str();
  const trace::Trace written = trace::ReadPerfData(options.output);  // complete, readable
  EXPECT_TRUE(written.pt.has_value());
}

}  // namespace
}  // namespace hwcov
