/* inline.c: calls a header function that is always inlined, from two
 * places, with values that take only some of its paths. Built at -O2. */
#include <stdio.h>
#include <stdlib.h>

#include "inline_hdr.h"

__attribute__((noinline)) static int clip_all(const int *values, int count, int limit)
{
  int total = 0;
  for (int i = 0; i < count; i++)
    total += saturate(values[i], limit);
  return total;
}

int main(int argc, char **argv)
{
  int limit = argc > 1 ? atoi(argv[1]) : 10;
  int values[] = {3, 25, 7, 40};
  printf("%d\n", clip_all(values, 4, limit));
  printf("%d\n", saturate(argc * 100, limit));
  return 0;
}
