/* funcptr.c: a table of function pointers, callbacks with a context pointer,
 * qsort and bsearch with comparators.
 *
 * usage: funcptr [OP [desc]]
 *   OP    add, sub, mul, max or div: folds the numbers with it (default add)
 *   desc  sort descending instead of ascending
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*binop)(int, int);

static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }
static int max(int a, int b) { return a > b ? a : b; }

static int divide(int a, int b)
{
  if (b == 0)
    return 0;
  return a / b;
}

static const struct {
  const char *name;
  binop fn;
} operations[] = {
    {"add", add}, {"sub", sub}, {"mul", mul}, {"max", max}, {"div", divide},
};

static binop find_operation(const char *name)
{
  for (size_t i = 0; i < sizeof operations / sizeof operations[0]; i++)
    if (strcmp(operations[i].name, name) == 0)
      return operations[i].fn;
  return NULL;
}

static int fold(binop fn, const int *values, int count, int initial)
{
  int acc = initial;
  for (int i = 0; i < count; i++)
    acc = fn(acc, values[i]);
  return acc;
}

typedef void (*visitor)(int *value, void *context);

static void for_each(int *values, int count, visitor visit, void *context)
{
  for (int i = 0; i < count; i++)
    visit(&values[i], context);
}

static void add_context(int *value, void *context) { *value += *(int *)context; }

static void sum_into_context(int *value, void *context) { *(long *)context += *value; }

static void print_value(int *value, void *context)
{
  (void)context;
  printf(" %d", *value);
}

static int compare_ascending(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static int compare_descending(const void *a, const void *b)
{
  return compare_ascending(b, a);
}

int main(int argc, char **argv)
{
  int values[] = {5, 3, 9, 1, 7, 2, 8};
  const int count = (int)(sizeof values / sizeof values[0]);
  const char *name = argc > 1 ? argv[1] : "add";
  int descending = argc > 2 && strcmp(argv[2], "desc") == 0;
  binop fn = find_operation(name);
  int offset = 10;
  long sum = 0;

  if (fn == NULL) {
    fprintf(stderr, "funcptr: unknown operation %s\n", name);
    return 2;
  }
  printf("%s: %d\n", name, fold(fn, values, count, fn == mul ? 1 : 0));
  for_each(values, count, add_context, &offset);
  for_each(values, count, sum_into_context, &sum);
  printf("sum after +%d: %ld\n", offset, sum);
  qsort(values, (size_t)count, sizeof values[0],
        descending ? compare_descending : compare_ascending);
  printf("sorted:");
  for_each(values, count, print_value, NULL);
  printf("\n");
  if (!descending) {
    int key = 17;
    int *hit = bsearch(&key, values, (size_t)count, sizeof values[0], compare_ascending);
    printf("17 %s\n", hit ? "found" : "missing");
  }
  return 0;
}
