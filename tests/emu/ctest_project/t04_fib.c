/* ctest suite of the emu backend's driver test: fib. */
#include <stdio.h>
#include <stdlib.h>

static int fib(int n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static int unused_fib(int n) { return n * 2; }

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 10;
  const int r = fib(n);
  if (argc > 2 && r == -12345) return unused_fib(r);
  if (getenv("HWCOV_CTEST_FAIL") && n == 7) {
    printf("fib(%d) = %d: failing on request\n", n, r);
    return 1;
  }
  printf("fib(%d) = %d\n", n, r);
  return 0;
}
