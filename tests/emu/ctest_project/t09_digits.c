/* ctest suite of the emu backend's driver test: digits. */
#include <stdio.h>
#include <stdlib.h>

static int digits(int n) {
  int c = 0; do { ++c; n /= 10; } while (n); return c;
}

static int unused_digits(int n) { return n * 2; }

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 10;
  const int r = digits(n);
  if (argc > 2 && r == -12345) return unused_digits(r);
  if (getenv("HWCOV_CTEST_FAIL") && n == 7) {
    printf("digits(%d) = %d: failing on request\n", n, r);
    return 1;
  }
  printf("digits(%d) = %d\n", n, r);
  return 0;
}
