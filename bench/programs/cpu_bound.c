/* A CPU-bound C program for bench/emu_bench.sh: integer hashing, a sieve,
 * insertion sorts and a small interpreter loop, all in the program's own
 * code (no library calls in the hot loops). Work grows linearly with N:
 * N=10 runs 1.75 G instructions at -O0, N=40 2.6 G at -O2. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

static int sieve(unsigned char *composite, int n) {
  memset(composite, 0, (size_t)n);
  int primes = 0;
  for (int i = 2; i < n; i++) {
    if (composite[i]) continue;
    primes++;
    for (long j = (long)i * i; j < n; j += i) composite[j] = 1;
  }
  return primes;
}

static void insertion_sort(uint32_t *a, int n) {
  for (int i = 1; i < n; i++) {
    uint32_t v = a[i];
    int j = i - 1;
    while (j >= 0 && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

/* A stack machine: a switch in a loop, as interpreters are. */
static int64_t interpret(const uint8_t *code, int len, int64_t x) {
  int64_t stack[16];
  int sp = 0;
  stack[sp++] = x;
  for (int pc = 0; pc < len; pc++) {
    switch (code[pc] % 6) {
      case 0:
        stack[sp - 1] += 3;
        break;
      case 1:
        stack[sp - 1] *= 5;
        break;
      case 2:
        if (sp < 16) {
          stack[sp] = stack[sp - 1];
          sp++;
        }
        break;
      case 3:
        if (sp > 1) {
          stack[sp - 2] ^= stack[sp - 1];
          sp--;
        }
        break;
      case 4:
        stack[sp - 1] >>= 1;
        break;
      default:
        if (stack[sp - 1] & 1) stack[sp - 1] -= 7;
        break;
    }
  }
  return stack[0];
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 40;
  uint64_t check = 0;
  unsigned char *composite = malloc(1 << 20);
  uint32_t a[256];
  uint8_t code[64];
  for (int i = 0; i < 64; i++) code[i] = (uint8_t)hash((uint32_t)i);
  for (int round = 0; round < n; round++) {
    check += (uint64_t)sieve(composite, 1 << 20);
    for (int k = 0; k < 200; k++) {
      for (int i = 0; i < 256; i++) a[i] = hash((uint32_t)(round * 100000 + k * 256 + i));
      insertion_sort(a, 256);
      check += a[k % 256];
    }
    for (int k = 0; k < 20000; k++) check += (uint64_t)interpret(code, 64, round * 20000 + k);
  }
  free(composite);
  printf("check=%llu\n", (unsigned long long)check);
  return 0;
}
