/* cold.c: at -O2 gcc moves the unlikely path of check() into a separate
 * "check.cold" section: one function, two address ranges.
 *
 * usage: cold [N...]   each N is checked; a negative one takes the cold path */
#include <stdio.h>
#include <stdlib.h>

__attribute__((cold, noinline)) static void complain(int value)
{
  fprintf(stderr, "negative: %d\n", value);
}

__attribute__((noinline)) static int check(int value)
{
  if (__builtin_expect(value < 0, 0)) {
    complain(value);
    return 0;
  }
  return value * 2;
}

int main(int argc, char **argv)
{
  int total = 0;
  for (int i = 1; i < argc; i++)
    total += check(atoi(argv[i]));
  printf("%d\n", total);
  return 0;
}
