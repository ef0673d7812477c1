// Ctrl-C, SIGTERM or SIGQUIT sent to hwcov while it runs a command. A
// launched command gets them itself (same terminal, same process group), so
// hwcov either ignores them and writes the trace once the command ends, or
// records them as a stop request: an attached process's recording ends, and
// the software backends pass the signal on to the traced programs (so that
// they end as they would have without hwcov; a second one kills them).
#pragma once

#include <signal.h>

#include <iosfwd>

namespace hwcov::collector {

// Set from hwcov's own signal handler: the last signal and how many arrived.
struct StopRequest {
  volatile sig_atomic_t signal = 0;
  volatile sig_atomic_t count = 0;
  // The terminal sent it (Ctrl-C, Ctrl-\\): the whole foreground process
  // group, the traced programs included, got it at the same time.
  volatile sig_atomic_t from_terminal = 0;
};

enum class StopSignalMode { kIgnore, kRecord };

// Whether a process killed by |signal| was stopped from outside (Ctrl-C,
// SIGTERM, SIGQUIT, a closed terminal, or the SIGKILL of a second request),
// rather than failing by itself.
bool IsStopSignal(int signal);

// Installs the disposition (kRecord: a handler without SA_RESTART, so that a
// blocking waitpid returns to notice the request) and restores the previous
// ones on destruction.
class TerminalSignals {
 public:
  explicit TerminalSignals(StopSignalMode mode);
  ~TerminalSignals();
  TerminalSignals(const TerminalSignals&) = delete;
  TerminalSignals& operator=(const TerminalSignals&) = delete;
  const StopRequest& request() const;
  static bool stop_requested();

 private:
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGQUIT};
  struct sigaction old_[3];
};

// Blocks SIGINT, SIGTERM and SIGQUIT in the calling thread, for the helper
// threads of a recording: the thread that waits for the program must be the
// one whose blocking call they interrupt.
void BlockStopSignalsInThisThread();

// Turns stop requests into the signal to send to the traced programs: the
// first request's own signal (none when it came from the terminal, which
// sent it to them too), SIGKILL for any later one.
class StopSignalRelay {
 public:
  StopSignalRelay(const StopRequest& request, std::ostream* log) : request_(request), log_(log) {}
  // The signal to send now, or 0 when no request arrived since the last call.
  // Says on |log| what happens.
  int Poll();

 private:
  const StopRequest& request_;
  std::ostream* log_;
  int handled_ = 0;
};

}  // namespace hwcov::collector
