/* ctest suite of the emu backend's driver test: classify. */
#include <stdio.h>
#include <stdlib.h>

static int classify(int n) {
  switch (n % 4) { case 0: return 10; case 1: return 20; case 2: return 30; default: return 40; }
}

static int unused_classify(int n) { return n * 2; }

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 10;
  const int r = classify(n);
  if (argc > 2 && r == -12345) return unused_classify(r);
  if (getenv("HWCOV_CTEST_FAIL") && n == 7) {
    printf("classify(%d) = %d: failing on request\n", n, r);
    return 1;
  }
  printf("classify(%d) = %d\n", n, r);
  return 0;
}
