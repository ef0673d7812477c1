#include "stop_signals.h"

#include <pthread.h>

#include <ostream>

#include "hwcov/support.h"

namespace hwcov::collector {
namespace {

StopRequest g_stop;

void RecordStopSignal(int signal, siginfo_t* info, void*) {
  g_stop.signal = signal;
  g_stop.from_terminal = info && info->si_code == SI_KERNEL;
  g_stop.count = g_stop.count + 1;
}

}  // namespace

TerminalSignals::TerminalSignals(StopSignalMode mode) {
  g_stop.signal = 0;
  g_stop.count = 0;
  g_stop.from_terminal = 0;
  struct sigaction action {};
  if (mode == StopSignalMode::kRecord) {
    action.sa_sigaction = RecordStopSignal;
    action.sa_flags = SA_SIGINFO;
  } else {
    action.sa_handler = SIG_IGN;
  }
  sigemptyset(&action.sa_mask);
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &action, &old_[i]);
}

TerminalSignals::~TerminalSignals() {
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &old_[i], nullptr);
}

const StopRequest& TerminalSignals::request() const { return g_stop; }

bool TerminalSignals::stop_requested() { return g_stop.count != 0; }

void BlockStopSignalsInThisThread() {
  sigset_t stop;
  sigemptyset(&stop);
  for (int signal : {SIGINT, SIGTERM, SIGQUIT}) sigaddset(&stop, signal);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
}

bool IsStopSignal(int signal) {
  return signal == SIGINT || signal == SIGTERM || signal == SIGQUIT || signal == SIGHUP ||
         signal == SIGKILL;
}

int StopSignalRelay::Poll() {
  if (request_.count == handled_) return 0;
  const bool first = handled_ == 0;
  handled_ = request_.count;
  if (!first) return SIGKILL;
  const int signal = request_.signal;
  if (log_)
    *log_ << "hwcov: stopping: " << SignalName(signal)
          << (request_.from_terminal ? " reached the traced programs from the terminal"
                                     : " passed on to the traced programs")
          << " (send another to kill them)\n";
  return request_.from_terminal ? 0 : signal;
}

}  // namespace hwcov::collector
