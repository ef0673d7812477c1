/* The plugin's configuration file, written by the emu backend
 * (emu_launcher.cc, WriteConfig): "key value" lines. */
#ifndef HWCOV_EMU_CONFIG_H
#define HWCOV_EMU_CONFIG_H

#include <limits.h>

struct hwcov_emu_config {
  char out[PATH_MAX]; /* "out": the recording directory */
  int inherit;        /* "inherit": follow fork children (default 1) */
  int count_mode;     /* "count": counting mode instead of streams */
};

/* Reads |path| into |config|, leaving keys it does not name as they are.
 * Returns 0, or -1 with errno set when the file cannot be read. */
int hwcov_emu_read_config(const char* path, struct hwcov_emu_config* config);

#endif /* HWCOV_EMU_CONFIG_H */
