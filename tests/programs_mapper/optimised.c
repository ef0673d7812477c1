/* optimised.c: small functions that an optimising compiler inlines, folds
 * and merges, for the -O2/-O3 accuracy test (tests/mapper/optimised_test.cc).
 * Run as `optimised 5`: some paths run, some do not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item {
  int key;
  int value;
  struct item *next;
};

static struct item *find(struct item *list, int key)
{
  while (list && list->key != key)
    list = list->next;
  return list;
}

static int clamp(int v, int lo, int hi)
{
  if (v < lo)
    return lo;
  if (v > hi)
    return hi;
  return v;
}

__attribute__((noinline)) static int lookup(struct item *list, int key)
{
  struct item *found = find(list, key);
  if (!found)
    return -1;
  return clamp(found->value, 0, 100);
}

__attribute__((noinline)) static struct item *build(int n)
{
  struct item *list = NULL;
  for (int i = 0; i < n; i++) {
    struct item *it = malloc(sizeof *it);
    if (!it)
      return NULL;
    it->key = i;
    it->value = i * 40 - 30;
    it->next = list;
    list = it;
  }
  return list;
}

__attribute__((noinline)) static int total(struct item *list, int n, int misses)
{
  int sum = 0;
  for (int key = 0; key < n + misses; key++) {
    int v = lookup(list, key);
    if (v < 0)
      sum -= 1;
    else
      sum += v;
  }
  return sum;
}

struct name {
  const char *text;
  int borrowed;
};

/* Borrowed, the copy's text is known not to be NULL: the check of line
 * "if (!to->text)" has no instruction on that path, only gcc's statement
 * view at the instruction the path falls into. */
__attribute__((noinline)) static int copy_name(struct name *to, const struct name *from)
{
  to->borrowed = from->borrowed;
  if (from->text) {
    to->text = from->borrowed ? from->text : strdup(from->text);
    if (!to->text)
      return -1;
  }
  return 0;
}

static void release(struct item *list)
{
  while (list) {
    struct item *next = list->next;
    free(list);
    list = next;
  }
}
/* Inlined after a call, its loop aligned: clang starts the copy's range at
 * the loop's alignment padding, which the jump into the loop passes over, so
 * the copy's first instruction never runs although its loop does. */
static size_t escaped_length(const char *s)
{
  size_t length;
  for (length = 0; *s != '\0'; s++, length++)
    if (*s == '~' || *s == '/')
      length++;
  return length;
}

__attribute__((noinline)) static size_t pointer_size(const char *base, const char *name)
{
  return strlen(base) + escaped_length(name) + 2;
}

int borrowed(const struct name *n); /* external: inlined, and kept out of line */

/* Called with constant arguments: each inlined copy folds the first
 * statement's test, which only the out-of-line copy keeps (cJSON_InitHooks). */
struct hooks {
  void *(*allocate)(size_t);
};
void *(*allocate)(size_t) = malloc;
static void *counted_malloc(size_t size)
{
  static int calls;
  return ++calls > 0 ? malloc(size) : NULL;
}
void set_hooks(const struct hooks *h); /* external: inlined, and kept out of line */

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 3;
  struct item *list = build(n);
  if (!list && n > 0) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  struct name from = {argv[0], argc > 0}, to;
  /* Ends with an escaped character: gcc's loop then leaves by falling
   * through onto the view of `return length;` (a loop exit jumping onto it is
   * not counted: fall_through.h). */
  char escaped[64];
  snprintf(escaped, sizeof escaped, "%.60s/", argv[argc - 1]);
  printf("%d %d %d %zu\n", total(list, n, 2), copy_name(&to, &from), borrowed(&to),
         pointer_size(argv[0], escaped));
  release(list);
  static const struct hooks mine = {counted_malloc};
#if defined(__clang__)
  set_hooks(&mine);
  set_hooks(NULL);
#else
  /* Not inlined for gcc: its --coverage build inlines set_hooks() before it
   * instruments, folds the same test and counts its line 0 (and the other
   * arm's too, when given a choice of arguments), while the calls ran. */
  void (*volatile call)(const struct hooks *) = set_hooks;
  call(&mine);
  call(NULL);
#endif
  free(allocate(1));
  return 0;
}

/* Runs only inlined: clang gives the `ret` where both returns meet the
 * closing brace's line, and that is in the out-of-line copy only, which
 * never runs. */
int borrowed(const struct name *n)
{
  if (n->borrowed < 0)
    return 0;
  return n->borrowed;
}

void set_hooks(const struct hooks *h)
{
  if (h == NULL) {
    allocate = malloc;
    return;
  }
  allocate = h->allocate ? h->allocate : malloc;
}
