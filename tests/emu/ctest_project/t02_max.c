/* ctest suite of the emu backend's driver test: max. */
#include <stdio.h>
#include <stdlib.h>

static int max(int n) {
  int m = 0, i; for (i = 0; i < n; ++i) if ((i * 7) % 11 > m) m = (i * 7) % 11; return m;
}

static int unused_max(int n) { return n * 2; }

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 10;
  const int r = max(n);
  if (argc > 2 && r == -12345) return unused_max(r);
  if (getenv("HWCOV_CTEST_FAIL") && n == 7) {
    printf("max(%d) = %d: failing on request\n", n, r);
    return 1;
  }
  printf("max(%d) = %d\n", n, r);
  return 0;
}
