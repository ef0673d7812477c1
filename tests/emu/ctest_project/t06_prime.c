/* ctest suite of the emu backend's driver test: prime. */
#include <stdio.h>
#include <stdlib.h>

static int prime(int n) {
  int d; if (n < 2) return 0; for (d = 2; d * d <= n; ++d) if (n % d == 0) return 0; return 1;
}

static int unused_prime(int n) { return n * 2; }

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 10;
  const int r = prime(n);
  if (argc > 2 && r == -12345) return unused_prime(r);
  if (getenv("HWCOV_CTEST_FAIL") && n == 7) {
    printf("prime(%d) = %d: failing on request\n", n, r);
    return 1;
  }
  printf("prime(%d) = %d\n", n, r);
  return 0;
}
