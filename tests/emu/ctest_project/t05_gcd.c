/* ctest suite of the emu backend's driver test: gcd. */
#include <stdio.h>
#include <stdlib.h>

static int gcd(int n) {
  int a = n * 6, b = 42; while (b) { int t = a % b; a = b; b = t; } return a;
}

static int unused_gcd(int n) { return n * 2; }

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 10;
  const int r = gcd(n);
  if (argc > 2 && r == -12345) return unused_gcd(r);
  if (getenv("HWCOV_CTEST_FAIL") && n == 7) {
    printf("gcd(%d) = %d: failing on request\n", n, r);
    return 1;
  }
  printf("gcd(%d) = %d\n", n, r);
  return 0;
}
