/* Asynchronous signals with handlers (SIGALRM from a timer), sigreturn, and
 * siglongjmp out of a handler. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>

static volatile int ticks;
static sigjmp_buf env;

static void on_alarm(int sig) {
  (void)sig;
  ticks++;
}

static void on_usr1(int sig) {
  (void)sig;
  siglongjmp(env, 7);
}

int main(void) {
  signal(SIGALRM, on_alarm);
  signal(SIGUSR1, on_usr1);
  struct itimerval it = {{0, 2000}, {0, 2000}};
  setitimer(ITIMER_REAL, &it, NULL);
  volatile long spin = 0;
  while (ticks < 5)
    spin++;
  it.it_value.tv_usec = 0;
  it.it_interval.tv_usec = 0;
  setitimer(ITIMER_REAL, &it, NULL);
  int r = sigsetjmp(env, 1);
  if (r == 0) {
    raise(SIGUSR1);
    printf("not reached\n");
  }
  printf("ticks>=5 %d, jumped=%d\n", ticks >= 5, r);
  return 0;
}
