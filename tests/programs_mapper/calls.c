/* calls.c: recursion, function pointers (a function only ever called
 * through one), a shared library (libmlib.so), early returns and a
 * function that runs only on an error path.
 *
 * usage: calls [N]   (N defaults to 10)
 */
#include <stdio.h>
#include <stdlib.h>

#include "mlib.h"

static int fib(int n)
{
  if (n < 2)
    return n;
  return fib(n - 1) + fib(n - 2);
}

static int ackermann(int m, int n)
{
  if (m == 0)
    return n + 1;
  if (n == 0)
    return ackermann(m - 1, 1);
  return ackermann(m - 1, ackermann(m, n - 1));
}

static int is_even(int x) { return x % 2 == 0; }
static int is_odd(int x) { return x % 2 != 0; }

static int (*pick(const char *name))(int)
{
  if (name[0] == 'e')
    return is_even;
  if (name[0] == 'o')
    return is_odd;
  return NULL;
}

static void usage_error(const char *arg)
{
  fprintf(stderr, "calls: bad argument '%s'\n", arg);
  exit(2);
}

int main(int argc, char **argv)
{
  int n = 10;
  if (argc > 1) {
    char *end;
    n = (int)strtol(argv[1], &end, 10);
    if (*end != '\0')
      usage_error(argv[1]);
  }
  int values[] = {12, 7, 30, 11, 4, 9};
  printf("fib(%d) = %d\n", n, fib(n));
  printf("ackermann(1, 2) = %d\n", ackermann(1, 2));
  printf("gcd = %d\n", mlib_gcd(84, n * 6));
  int primes = 0;
  for (int i = 0; i < 20; i++)
    primes += mlib_is_prime(i);
  printf("%d primes below 20\n", primes);
  printf("even sum %ld, odd sum %ld, all %ld\n", mlib_sum(values, 6, pick("even")),
         mlib_sum(values, 6, pick("odd")), mlib_sum(values, 6, pick("all")));
  return 0;
}
