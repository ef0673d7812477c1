/* loops.c: for, while and do-while loops, nested loops, break and continue.
 *
 * usage: loops [N [STATUS]]
 *   N       loop bound (default 10); a negative N is rejected (exit 2)
 *   STATUS  exit status to return (default 0)
 */
#include <stdio.h>
#include <stdlib.h>

static int sum_for(int n)
{
  int sum = 0;
  for (int i = 1; i <= n; i++)
    sum += i;
  return sum;
}

static int collatz_steps(unsigned long x)
{
  int steps = 0;
  while (x != 1) {
    if (x % 2 == 0)
      x /= 2;
    else
      x = 3 * x + 1;
    steps++;
  }
  return steps;
}

static int digits(long n)
{
  int count = 0;
  do {
    count++;
    n /= 10;
  } while (n != 0);
  return count;
}

/* Counts pairs (i, j) with i*j odd, skipping the diagonal and cutting rows short. */
static int nested(int n)
{
  int pairs = 0;
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < n; j++) {
      if (i == j)
        continue;
      if (j > 2 * i + 3)
        break;
      if ((i * j) % 2 == 1)
        pairs++;
    }
  }
  return pairs;
}

static int first_multiple(const int *values, int count, int divisor)
{
  int found = -1;
  int i = 0;
  while (i < count) {
    if (values[i] % divisor == 0) {
      found = i;
      break;
    }
    i++;
  }
  return found;
}

/* Skips multiples of 3, stops at the first multiple of 7 above |limit|. */
static int skip_and_stop(int limit)
{
  int total = 0;
  int k = 0;
  for (;;) {
    k++;
    if (k % 3 == 0)
      continue;
    if (k > limit && k % 7 == 0)
      break;
    total += k;
  }
  return total;
}

static void never_called(void)
{
  int i = 0;
  while (i < 3) {
    puts("unreachable");
    i++;
  }
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 10;
  int status = argc > 2 ? atoi(argv[2]) : 0;
  const int values[] = {7, 11, 13, 21, 25, 30};

  if (n < 0) {
    fprintf(stderr, "loops: N must not be negative\n");
    return 2;
  }
  printf("sum_for(%d) = %d\n", n, sum_for(n));
  printf("collatz_steps(%d) = %d\n", n, collatz_steps(n > 0 ? (unsigned long)n : 1));
  printf("digits(%ld) = %d\n", n * 1234L, digits(n * 1234L));
  printf("nested(%d) = %d\n", n, nested(n));
  printf("first multiple of 5: %d\n", first_multiple(values, 6, 5));
  printf("first multiple of 17: %d\n", first_multiple(values, 6, 17));
  printf("skip_and_stop(%d) = %d\n", n, skip_and_stop(n));
  if (n > 1000)
    never_called();
  return status;
}
