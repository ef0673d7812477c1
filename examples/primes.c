/* The bundled example of the README's first command: a small program with
 * code that runs, code that runs sometimes and code that never runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_prime(int n) {
  if (n < 2)
    return 0;
  for (int d = 2; d * d <= n; d++)
    if (n % d == 0)
      return 0;
  return 1;
}

static void usage(const char *argv0) {
  fprintf(stderr, "usage: %s [--twins] LIMIT\n", argv0);
  exit(2);
}

int main(int argc, char **argv) {
  int twins = 0;
  int limit = 50;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--twins") == 0)
      twins = 1;
    else if (argv[i][0] >= '0' && argv[i][0] <= '9')
      limit = atoi(argv[i]);
    else
      usage(argv[0]);
  }
  int count = 0;
  for (int n = 2; n <= limit; n++) {
    if (!is_prime(n))
      continue;
    count++;
    if (twins && is_prime(n + 2))
      printf("twin primes: %d %d\n", n, n + 2);
  }
  printf("%d primes up to %d\n", count, limit);
  return 0;
}
