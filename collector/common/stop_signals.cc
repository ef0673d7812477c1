#include "stop_signals.h"

#include <ostream>

namespace hwcov::collector {
namespace {

StopRequest g_stop;

void RecordStopSignal(int signal) {
  g_stop.signal = signal;
  g_stop.count = g_stop.count + 1;
}

}  // namespace

TerminalSignals::TerminalSignals(StopSignalMode mode) {
  g_stop.signal = 0;
  g_stop.count = 0;
  struct sigaction action {};
  action.sa_handler = mode == StopSignalMode::kRecord ? RecordStopSignal : SIG_IGN;
  sigemptyset(&action.sa_mask);
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &action, &old_[i]);
}

TerminalSignals::~TerminalSignals() {
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &old_[i], nullptr);
}

const StopRequest& TerminalSignals::request() const { return g_stop; }

bool TerminalSignals::stop_requested() { return g_stop.count != 0; }

int StopSignalRelay::Poll() {
  if (request_.count == handled_) return 0;
  const int signal = handled_ == 0 ? request_.signal : SIGKILL;
  handled_ = request_.count;
  if (log_ && signal != SIGKILL)
    *log_ << "hwcov: stopping: signal " << signal
          << " passed on to the traced programs (send another to kill them)\n";
  return signal;
}

}  // namespace hwcov::collector
