/* dlopen, call, dlclose, three times: code loaded late and unloaded early,
 * and two libraries at one address at different times. */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static char dir[PATH_MAX];

static int call(const char *lib, int x) {
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", dir, lib);
  void *h = dlopen(path, RTLD_NOW);
  if (!h) {
    printf("dlopen %s failed: %s\n", path, dlerror());
    return -1;
  }
  int (*f)(int) = (int (*)(int))dlsym(h, "plugin_value");
  int r = f(x);
  dlclose(h);
  return r;
}

int main(int argc, char **argv) {
  (void)argc;
  strncpy(dir, argv[0], sizeof dir - 1);
  strncpy(dir, dirname(dir), sizeof dir - 1);
  int a = call("libplugin_a.so", 5);
  int b = call("libplugin_b.so", 20);
  int a2 = call("libplugin_a.so", 30);
  printf("%d %d %d\n", a, b, a2);
  return 0;
}
