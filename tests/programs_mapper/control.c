/* control.c: the control flow gcov counts branches for: if/else chains,
 * && and || chains, ?:, for/while/do-while with break and continue, goto,
 * a sparse switch (compare chain) and a dense one (jump table), a macro, a
 * header function, early returns and a function that never runs.
 *
 * usage: control [N]   (N defaults to 12; small: the soft tracer is slow)
 */
#include <stdio.h>
#include <stdlib.h>

#include "control_util.h"

static int sign(int a, int b)
{
  if (a > 0 && b > 0)
    return 1;
  else if (a < 0 || b < 0)
    return -1;
  return 0;
}

static const char *sparse(int code)
{
  switch (code) {
  case 200: return "ok";
  case 404: return "not found";
  case 500:
  case 503: return "server";
  default: return "other";
  }
}

static int dense(int op, int a, int b)
{
  int r;
  switch (op) {
  case 0: r = a + b; break;
  case 1: r = a - b; break;
  case 2: r = a * b; break;
  case 3: r = b ? a / b : 0; break;
  case 4: r = a % 7; break;
  case 5: r = -a; break;
  case 6: r = a << 1; break;
  case 7: r = a >> 1; break;
  default: r = 0; break;
  }
  return r;
}

static void report(const char *what, int value)
{
  if (value < 0)
    printf("%s: negative\n", what);
  else
    printf("%s: %d\n", what, value);
}

static int collatz_steps(int n)
{
  int steps = 0;
  do {
    if (n % 2 == 0)
      n /= 2;
    else
      n = 3 * n + 1;
    steps++;
  } while (n != 1 && steps < 50);
  return steps;
}

static int find_first(const int *values, int count, int wanted)
{
  int i;
  for (i = 0; i < count; i++) {
    if (values[i] < 0)
      continue;
    if (values[i] == wanted)
      goto found;
  }
  return -1;
found:
  return i;
}

int never_called(int x)
{
  if (x > 3)
    return x * 2;
  return x;
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 12;
  int total = 0;
  static const int codes[] = {200, 404, 503, 302};
  static const int values[] = {4, -1, 8, 15, 16, 23, 42};

  for (int i = -2; i < 3; i++)
    total += sign(i, n);
  for (int i = 0; i < 4; i++)
    printf("%d %s\n", codes[i], sparse(codes[i]));
  for (int op = 0; op < 7; op++)
    total += dense(op, n, op);
  total = clamp(total, -100, 100);
  total += MAX(n, 3);
  total += collatz_steps(n);
  int where = find_first(values, 7, 15);
  int missing = find_first(values, 7, 99);
  report("where", where);
  report("missing", missing);
  while (n > 100) {
    n /= 2;
    total++;
  }
  if (total > 1000 || where == missing)
    printf("unexpected\n");
  printf("total %d\n", total);
  return 0;
}
