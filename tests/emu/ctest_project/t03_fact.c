/* ctest suite of the emu backend's driver test: fact. */
#include <stdio.h>
#include <stdlib.h>

static int fact(int n) {
  return n <= 1 ? 1 : n * fact(n - 1);
}

static int unused_fact(int n) { return n * 2; }

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 10;
  const int r = fact(n);
  if (argc > 2 && r == -12345) return unused_fact(r);
  if (getenv("HWCOV_CTEST_FAIL") && n == 7) {
    printf("fact(%d) = %d: failing on request\n", n, r);
    return 1;
  }
  printf("fact(%d) = %d\n", n, r);
  return 0;
}
