/* ctest suite of the emu backend's driver test: sum. */
#include <stdio.h>
#include <stdlib.h>

static int sum(int n) {
  int i, s = 0; for (i = 0; i < n; ++i) s += (i % 3 == 0) ? i : 1; return s;
}

static int unused_sum(int n) { return n * 2; }

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 10;
  const int r = sum(n);
  if (argc > 2 && r == -12345) return unused_sum(r);
  if (getenv("HWCOV_CTEST_FAIL") && n == 7) {
    printf("sum(%d) = %d: failing on request\n", n, r);
    return 1;
  }
  printf("sum(%d) = %d\n", n, r);
  return 0;
}
