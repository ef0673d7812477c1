/* Faults in the middle of a basic block: SIGSEGV from a store with
 * instructions after it in the same block, caught and left with siglongjmp;
 * then, as asked, an unhandled fault ("crash") or SIGKILL ("kill") that ends
 * the program before it can write anything. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf env;
static volatile int faults;

static void on_segv(int sig) {
  (void)sig;
  faults++;
  siglongjmp(env, 1);
}

static int poke(volatile int *p, int v) {
  int a = v * 3;
  int b = a + 1;
  *p = b; /* faults when p is NULL: the rest of the block never runs */
  a = b * 2;
  return a;
}

static int after_crash(void) {
  return faults * 2;
}

int main(int argc, char **argv) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  int x = 0;
  volatile int ok = 0;
  for (volatile int i = 0; i < 6; i++) {
    volatile int *p = (i % 2) ? NULL : &x;
    if (sigsetjmp(env, 1) == 0)
      ok += poke(p, i);
  }
  printf("faults=%d ok=%d\n", faults, ok);
  fflush(stdout);
  if (argc > 1 && strcmp(argv[1], "crash") == 0) {
    signal(SIGSEGV, SIG_DFL);
    ok += poke(NULL, 1);
    ok += after_crash();
  }
  if (argc > 1 && strcmp(argv[1], "kill") == 0) {
    raise(SIGKILL);
    ok += after_crash();
  }
  return ok == 0;
}
