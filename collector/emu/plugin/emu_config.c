#define _GNU_SOURCE
#include "emu_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hwcov_emu_read_config(const char* path, struct hwcov_emu_config* config) {
  FILE* f = fopen(path, "re");
  if (!f) return -1;
  char line[PATH_MAX + 32];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char* value = strchr(line, ' ');
    if (!value) continue;
    *value++ = '\0';
    if (!strcmp(line, "out"))
      snprintf(config->out, sizeof config->out, "%s", value);
    else if (!strcmp(line, "inherit"))
      config->inherit = atoi(value);
    else if (!strcmp(line, "count"))
      config->count_mode = atoi(value);
  }
  fclose(f);
  return 0;
}
