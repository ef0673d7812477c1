/* Dense Intel PT for the decode-while-recording benchmark: every iteration
 * makes an indirect call (a TIP packet) to one of four functions, each with
 * a conditional branch, so the trace grows fast per instruction. Work grows
 * linearly with N (millions of iterations). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t f0(uint64_t x) { return x & 1 ? x * 3 + 1 : x >> 1; }
static uint64_t f1(uint64_t x) { return x & 2 ? x + 7 : x ^ 0x55; }
static uint64_t f2(uint64_t x) { return x > 1000 ? x - 999 : x * 5; }
static uint64_t f3(uint64_t x) { return x & 4 ? x << 1 : x + 3; }

typedef uint64_t (*step_fn)(uint64_t);
static step_fn volatile table[4] = {f0, f1, f2, f3};

int main(int argc, char **argv) {
  const long n = (argc > 1 ? atol(argv[1]) : 10) * 1000000L;
  uint64_t x = 27, sum = 0;
  for (long i = 0; i < n; i++) {
    x = table[(x ^ (uint64_t)i) & 3](x) & 0xffffff;
    sum += x;
  }
  printf("%llu\n", (unsigned long long)sum);
  return 0;
}
