/* recursion.c: direct, tree, tail and mutual recursion.
 *
 * usage: recursion [N]   N: problem size (default 12, at most 20)
 */
#include <stdio.h>
#include <stdlib.h>

static unsigned long fib(int n)
{
  if (n < 2)
    return (unsigned long)n;
  return fib(n - 1) + fib(n - 2);
}

static unsigned long factorial(int n)
{
  return n <= 1 ? 1 : (unsigned long)n * factorial(n - 1);
}

static int is_odd(unsigned n);

static int is_even(unsigned n)
{
  if (n == 0)
    return 1;
  return is_odd(n - 1);
}

static int is_odd(unsigned n)
{
  if (n == 0)
    return 0;
  return is_even(n - 1);
}

static int gcd(int a, int b)
{
  if (b == 0)
    return a;
  return gcd(b, a % b);
}

static void hanoi(int disks, int from, int to, int via, int *moves)
{
  if (disks == 0)
    return;
  hanoi(disks - 1, from, via, to, moves);
  (*moves)++;
  hanoi(disks - 1, via, to, from, moves);
}

static int ackermann(int m, int n)
{
  if (m == 0)
    return n + 1;
  if (n == 0)
    return ackermann(m - 1, 1);
  return ackermann(m - 1, ackermann(m, n - 1));
}

/* Only reached for N > 20. */
static void too_big(int n)
{
  fprintf(stderr, "recursion: N=%d is too big\n", n);
  exit(2);
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 12;
  int moves = 0;

  if (n > 20)
    too_big(n);
  printf("fib(%d) = %lu\n", n, fib(n));
  printf("factorial(%d) = %lu\n", n, factorial(n));
  printf("%d is %s\n", n, is_even((unsigned)n) ? "even" : "odd");
  printf("gcd(%d, 84) = %d\n", 18 * n, gcd(18 * n, 84));
  hanoi(n < 8 ? n : 8, 1, 3, 2, &moves);
  printf("hanoi moves = %d\n", moves);
  printf("ackermann(2, 3) = %d\n", ackermann(2, 3));
  return 0;
}
