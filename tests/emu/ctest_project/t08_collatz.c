/* ctest suite of the emu backend's driver test: collatz. */
#include <stdio.h>
#include <stdlib.h>

static int collatz(int n) {
  int steps = 0; while (n > 1) { n = (n % 2) ? 3 * n + 1 : n / 2; ++steps; } return steps;
}

static int unused_collatz(int n) { return n * 2; }

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 10;
  const int r = collatz(n);
  if (argc > 2 && r == -12345) return unused_collatz(r);
  if (getenv("HWCOV_CTEST_FAIL") && n == 7) {
    printf("collatz(%d) = %d: failing on request\n", n, r);
    return 1;
  }
  printf("collatz(%d) = %d\n", n, r);
  return 0;
}
