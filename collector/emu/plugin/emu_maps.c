#define _GNU_SOURCE
#include "emu_maps.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_format.h"
#include "emu_plugin.h"

struct known_map { /* announced in the TB table */
  uint64_t start, end, pgoff;
  char* path;
  uint32_t index;
};

struct host_map { /* a line of /proc/self/maps */
  uint64_t start, end, pgoff;
  char* path;
};

static struct known_map* g_known;
static size_t g_n_known, g_cap_known;
static uint32_t g_next_map;
static struct host_map* g_maps;
static size_t g_n_maps;
static int g_maps_stale = 1;

void hwcov_emu_maps_changed(void) { g_maps_stale = 1; }

uint32_t hwcov_emu_maps_announced(void) { return g_next_map; }

static void ReadHostMaps(void) {
  for (size_t i = 0; i < g_n_maps; ++i) free(g_maps[i].path);
  g_n_maps = 0;
  FILE* f = fopen("/proc/self/maps", "re");
  if (!f) Fatal("/proc/self/maps");
  size_t cap = 0;
  char line[PATH_MAX + 128];
  while (fgets(line, sizeof line, f)) {
    unsigned long long start, end, pgoff;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &pgoff, &path_at) < 4)
      continue;
    char* path = line + path_at;
    path[strcspn(path, "\n")] = '\0';
    if (path_at == 0 || path[0] != '/') continue; /* anonymous, [stack], [vsyscall]... */
    if (g_n_maps == cap) {
      cap = cap ? cap * 2 : 256;
      g_maps = realloc(g_maps, cap * sizeof *g_maps);
      if (!g_maps) Fatal("out of memory");
    }
    g_maps[g_n_maps++] = (struct host_map){start, end, pgoff, strdup(path)};
  }
  fclose(f);
  g_maps_stale = 0;
}

uint32_t hwcov_emu_map_of(uint64_t address) {
  if (g_maps_stale) ReadHostMaps();
  const struct host_map* m = NULL;
  for (size_t i = 0; i < g_n_maps && !m; ++i)
    if (address >= g_maps[i].start && address < g_maps[i].end) m = &g_maps[i];
  if (!m) return HWCOV_EMU_NONE;
  for (size_t i = 0; i < g_n_known; ++i) {
    const struct known_map* k = &g_known[i];
    if (k->start == m->start && k->end == m->end && k->pgoff == m->pgoff &&
        !strcmp(k->path, m->path))
      return k->index;
  }
  if (g_n_known == g_cap_known) {
    g_cap_known = g_cap_known ? g_cap_known * 2 : 64;
    g_known = realloc(g_known, g_cap_known * sizeof *g_known);
    if (!g_known) Fatal("out of memory");
  }
  struct known_map* k = &g_known[g_n_known++];
  *k = (struct known_map){m->start, m->end, m->pgoff, strdup(m->path), g_next_map++};
  struct hwcov_emu_map r;
  memset(&r, 0, sizeof r);
  r.rec.type = HWCOV_EMU_REC_MAP;
  r.time = Now();
  r.start = k->start;
  r.end = k->end;
  r.pgoff = k->pgoff;
  r.index = k->index;
  r.path_len = (uint32_t)strlen(k->path) + 1;
  AppendRecord(&r, sizeof r, k->path, r.path_len, NULL, 0);
  return k->index;
}
