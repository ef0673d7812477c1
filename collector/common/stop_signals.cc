#include "stop_signals.h"

namespace hwcov::collector {
namespace {

StopRequest g_stop;

void RecordStopSignal(int signal) {
  g_stop.signal = signal;
  g_stop.count = g_stop.count + 1;
}

}  // namespace

CatchTerminalSignals::CatchTerminalSignals() {
  g_stop.signal = 0;
  g_stop.count = 0;
  struct sigaction action {};
  action.sa_handler = RecordStopSignal;
  sigemptyset(&action.sa_mask);
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &action, &old_[i]);
}

CatchTerminalSignals::~CatchTerminalSignals() {
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &old_[i], nullptr);
}

const StopRequest& CatchTerminalSignals::request() const { return g_stop; }

}  // namespace hwcov::collector
