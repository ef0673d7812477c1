// Preloaded into both runs of a suite by bench/accuracy_suite.sh, so that
// gcov's run and hwcov's run are the same execution. Expat salts every
// parser's hash tables from arc4random_buf: with system entropy each run
// takes its own collision paths, and a few lines differ between the two
// runs for no fault of either tool. Every process draws the same sequence.
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

static uint64_t state = 0x2545f4914f6cdd1dULL;

// splitmix64: any fixed sequence would do; this one is not all zeroes, which
// code checking its entropy might reject.
static uint64_t next_word(void) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void arc4random_buf(void *buffer, size_t size) {
  unsigned char *out = buffer;
  for (size_t i = 0; i < size; ++i) out[i] = (unsigned char)next_word();
}

uint32_t arc4random(void) { return (uint32_t)next_word(); }

uint32_t arc4random_uniform(uint32_t bound) { return bound ? arc4random() % bound : 0; }

ssize_t getrandom(void *buffer, size_t size, unsigned int flags) {
  (void)flags;
  arc4random_buf(buffer, size);
  return (ssize_t)size;
}
