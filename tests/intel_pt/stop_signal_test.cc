// The intel-pt backend launching a command: a SIGTERM sent to hwcov alone
// (a CI runner's timeout, `kill PID`) must end the command as it would have
// ended it without hwcov, and the trace must still be written. Ctrl-C needs
// nothing from hwcov: the terminal sends it to the command too.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
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

// What a recording sends, and to whom: after 300 ms, |signal| to the thread
// that records and, when |to_command|, to the command's process as the
// terminal would (the command wrote its pid to |pid_file| before it exec'd).
struct Interruption {
  int signal;
  bool to_command;
};

collector::RecordResult RecordInterrupted(const collector::RecordOptions& options,
                                          FakeMachine& machine, FakeKernel& kernel,
                                          const fs::path& pid_file, Interruption what,
                                          double* seconds) {
  const pid_t recorder = static_cast<pid_t>(syscall(SYS_gettid));
  std::thread sender([&] {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (what.to_command) {
      pid_t command = 0;
      for (int i = 0; i < 100 && !(std::ifstream(pid_file) >> command); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (command > 0) kill(command, what.signal);
    }
    syscall(SYS_tgkill, getpid(), recorder, what.signal);
  });
  const auto start = std::chrono::steady_clock::now();
  const collector::RecordResult result = RecordIntelPt(options, machine.Host(&kernel));
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sender.join();
  return result;
}

// A wrapper that execs the real program (libtool's wrappers, `sh -c 'exec
// ...'`): the signal reaches the program the wrapper became, under either way
// of stopping, and what was recorded is written.
TEST(IntelPtStop, AnExecChainStopsAndKeepsTheTraceOnSigtermOrCtrlC) {
  for (const Interruption what : {Interruption{SIGTERM, false}, Interruption{SIGINT, true}}) {
    SCOPED_TRACE(what.signal == SIGTERM ? "SIGTERM to hwcov alone" : "Ctrl-C (SIGINT to both)");
    FakeMachine machine(what.signal == SIGTERM ? "pt-fake-exec-term" : "pt-fake-exec-int");
    FakeKernel kernel;
    std::ostringstream log;
    collector::RecordOptions options = Options(machine.dir.path() / "hw.data", &log);
    const fs::path pid_file = machine.dir.path() / "command.pid";
    options.command = {"/bin/sh", "-c", "echo $$ > " + pid_file.string() + "; exec /bin/sleep 20"};
    double seconds = 0;
    const collector::RecordResult result =
        RecordInterrupted(options, machine, kernel, pid_file, what, &seconds);
    EXPECT_LT(seconds, 10) << "the exec'd program ran on: the signal did not reach it";
    EXPECT_EQ(result.killed_by_signal, what.signal);
    EXPECT_EQ(result.exit_status, 128 + what.signal);
    const trace::Trace written = trace::ReadPerfData(options.output);  // complete, readable
    EXPECT_TRUE(written.pt.has_value());
    EXPECT_TRUE(written.finished);
    // Written under a temporary name and renamed (AtomicFile): nothing else is left.
    for (const fs::directory_entry& e : fs::directory_iterator(machine.dir.path()))
      EXPECT_EQ(e.path().filename().string().find("hw.data."), std::string::npos) << e.path();
  }
}

}  // namespace
}  // namespace hwcov
