/* mlib.c: a shared library (PIC, loaded at a random address) whose
 * coverage must come out under its own source through its build id. */
#include "mlib.h"

int mlib_gcd(int a, int b)
{
  while (b != 0) {
    int t = a % b;
    a = b;
    b = t;
  }
  return a < 0 ? -a : a;
}

int mlib_is_prime(int n)
{
  if (n < 2)
    return 0;
  for (int d = 2; d * d <= n; d++)
    if (n % d == 0)
      return 0;
  return 1;
}

long mlib_sum(const int *values, int count, int (*keep)(int))
{
  long sum = 0;
  for (int i = 0; i < count; i++)
    if (!keep || keep(values[i]))
      sum += values[i];
  return sum;
}

int mlib_unused(int x)
{
  return x > 0 ? x : -x;
}
