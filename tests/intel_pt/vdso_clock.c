/* Reads the clock a few times: on x86-64 clock_gettime runs in the [vdso]
   (no system call), code that no file holds. */
#include <stdio.h>
#include <time.h>

int main(void) {
  struct timespec t;
  long odd = 0;
  for (int i = 0; i < 3; ++i) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    odd += t.tv_nsec & 1;
  }
  printf("%ld\n", odd);
  return 0;
}
