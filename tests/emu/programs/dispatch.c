/* A program with its own CPU dispatch, as simdjson or zlib-ng have: the path
 * taken depends on CPUID, which differs between this machine and QEMU's
 * emulated CPU (no AVX-512 there). */
#include <stdio.h>

static int wide_path(int n) {
  int s = 0;
  for (int i = 0; i < n; i++) s += i * 2;
  return s;
}

static int narrow_path(int n) {
  int s = 0;
  for (int i = 0; i < n; i++) s += i;
  return s * 2;
}

int main(void) {
  __builtin_cpu_init();
  int avx512 = __builtin_cpu_supports("avx512f");
  int r;
  if (avx512)
    r = wide_path(100);
  else
    r = narrow_path(100);
  printf("avx512f=%d r=%d\n", avx512 != 0, r);
  return 0;
}
