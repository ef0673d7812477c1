/* What the plugin's files share: its one way to fail, its clock and the
 * instance's TB table file, which every record goes to (emu_format.h). */
#ifndef HWCOV_EMU_PLUGIN_H
#define HWCOV_EMU_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

/* The plugin cannot throw or return errors to anyone: a broken recording must
 * not pass for a complete one, so it stops the program loudly (writing the
 * reason where hwcov reads it after the run). */
__attribute__((noreturn)) void Fatal(const char* what);

/* CLOCK_MONOTONIC in nanoseconds: the records' time stamps. */
uint64_t Now(void);

/* One record of the TB table: |head| (its rec.size set to cover everything),
 * then |tail| and |tail2|, padded to 8 bytes, in one write where it fits. */
void AppendRecord(void* head, size_t head_size, const void* tail, size_t tail_size,
                  const void* tail2, size_t tail2_size);

#endif /* HWCOV_EMU_PLUGIN_H */
