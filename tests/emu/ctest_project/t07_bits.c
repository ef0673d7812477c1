/* ctest suite of the emu backend's driver test: bits. */
#include <stdio.h>
#include <stdlib.h>

static int bits(int n) {
  int c = 0; while (n) { c += n & 1; n >>= 1; } return c;
}

static int unused_bits(int n) { return n * 2; }

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 10;
  const int r = bits(n);
  if (argc > 2 && r == -12345) return unused_bits(r);
  if (getenv("HWCOV_CTEST_FAIL") && n == 7) {
    printf("bits(%d) = %d: failing on request\n", n, r);
    return 1;
  }
  printf("bits(%d) = %d\n", n, r);
  return 0;
}
