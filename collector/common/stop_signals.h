// Ctrl-C, SIGTERM or SIGQUIT sent to hwcov while a software backend runs the
// command: the backend passes the signal on to the traced programs (so that
// they end as they would have without hwcov; a second one kills them) and
// still writes the trace.
#pragma once

#include <signal.h>

namespace hwcov::collector {

// Set from hwcov's own signal handler: the last signal and how many arrived.
struct StopRequest {
  volatile sig_atomic_t signal = 0;
  volatile sig_atomic_t count = 0;
};

// Installs the handler (no SA_RESTART, so that a blocking waitpid returns to
// notice the request) and restores the previous ones on destruction.
class CatchTerminalSignals {
 public:
  CatchTerminalSignals();
  ~CatchTerminalSignals();
  CatchTerminalSignals(const CatchTerminalSignals&) = delete;
  CatchTerminalSignals& operator=(const CatchTerminalSignals&) = delete;
  const StopRequest& request() const;

 private:
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGQUIT};
  struct sigaction old_[3];
};

}  // namespace hwcov::collector
