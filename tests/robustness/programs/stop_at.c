// Stops its own run from inside at a chosen moment, as Ctrl-C or a CI
// runner's SIGTERM would: `stop_at MOMENT SIGNAL TARGET`. MOMENT is "start"
// (first line of main) or "middle" (after a loop); TARGET is "group" (the
// whole process group, as the terminal sends Ctrl-C) or "parent" (hwcov
// alone: the tracer, QEMU's supervisor or the perf recorder is the parent).
// The lines after the signal never run: the coverage up to then is known.
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void Stop(int signal, const char* target) {
  kill(strcmp(target, "group") == 0 ? 0 : getppid(), signal);
  for (;;) pause();  // killed here: by the signal, or by hwcov passing it on
}

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  const int signal = atoi(argv[2]);
  if (strcmp(argv[1], "start") == 0) Stop(signal, argv[3]);  // stop: start
  volatile unsigned long sum = 0;
  for (int i = 0; i < 1000; ++i) sum += (unsigned long)i;  // loop
  if (strcmp(argv[1], "middle") == 0) Stop(signal, argv[3]);  // stop: middle
  return sum == 0;  // never reached
}
